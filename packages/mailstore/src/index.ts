export {
  type FlagsChanged,
  type MailChangeEvents,
  MailChanges,
  type MessageAdded,
  type MessageExpunged,
} from './changes.js';
export { DirectorySync, DirectorySyncs, writeDurably } from './durable.js';
export { MailStoreError, type MailStoreErrorCode } from './errors.js';
export { flagsOfInfo, INFO_SEPARATOR, infoPart, uniqueNameOf } from './flags.js';
export {
  type AppendInput,
  type FlagOperation,
  Folder,
  type FolderSnapshot,
  type FolderStatus,
  type MessageInfo,
} from './folder.js';
export { DEFAULT_FOLDERS, DELIMITER, type FolderInfo, Mailbox } from './mailbox.js';
export { type Delivered, MailStore } from './store.js';
export { UIDLIST_FILE } from './uidlist.js';
export { MailboxUsage, RECOUNT_MS } from './usage.js';
