export { COMMANDS } from './commands/index.js';
export { decodeMailboxName, encodeMailboxName } from './mailbox-name.js';
export { mailStorage } from './mailstore-adapter.js';
export { createImapServer, type ImapServerOptions } from './server.js';
export type { MailStorage, StoredFolder, UserMailbox } from './storage.js';
