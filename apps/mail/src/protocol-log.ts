/**
 * smtp-server and nodemailer's SMTP client both log to a bunyan-style logger, and both report each
 * protocol line at the debug level with a `tnx` tag. The transcript is this app's log: this logger
 * hands the debug entries to `debug` and drops the rest.
 */
export interface ProtocolLogEntry {
  /** 'send' (smtp-server's replies), 'client' / 'server' (nodemailer's transaction log), … */
  tnx?: string;
  /** smtp-server's connection id. */
  cid?: string;
}

export function debugOnlyLogger(debug: (entry: ProtocolLogEntry, ...args: unknown[]) => void) {
  const ignore = () => undefined;
  return { trace: ignore, info: ignore, warn: ignore, error: ignore, fatal: ignore, debug };
}
