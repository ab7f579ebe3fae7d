/**
 * ftp-srv publishes types for its server and FileSystem only. These are the two connector classes
 * our PASV/EPSV and PORT/EPRT handlers reuse from inside the package; ftp-srv-internals.ts types them.
 */
declare module 'ftp-srv/src/connector/passive.js' {
  const PassiveConnector: new (connection: unknown) => unknown;
  export default PassiveConnector;
}

declare module 'ftp-srv/src/connector/active.js' {
  const ActiveConnector: new (connection: unknown) => unknown;
  export default ActiveConnector;
}

declare module 'ftp-srv/src/messages.js' {
  /** ftp-srv's text for each reply code, used when a reply gives none. */
  const messages: Record<number, string>;
  export default messages;
}
