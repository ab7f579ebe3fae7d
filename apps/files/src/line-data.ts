import type { LineData } from '@portlab/transcript';

/**
 * The `data` of the control connection's lines: the same facts as their text, for programs (the
 * dashboard's FTP-versus-P2P chart, apps/web/public/js/swarm-model.js), so that no reader of the
 * transcript parses FTP. Beside data-log.ts's `data-open` and `data-close`:
 * - a command: `{ event: 'command', verb }`, with `arg` (the rest of the line) for the commands whose
 *   reply comes over a data connection (RFC 959 §4.1.3), and `offset` for REST (RFC 3659 §5). Never
 *   another command's argument: PASS's is a password, masked in the line for other viewers.
 * - a reply line: `{ event: 'reply', code }` (RFC 959 §4.2), each line of a multi-line reply too.
 */
const TRANSFERS = new Set(['RETR', 'STOR', 'STOU', 'APPE', 'LIST', 'NLST', 'MLSD']);

/** `verb` as ftp-srv parsed it (upper case), `line` as the client sent it. */
export function commandData(verb: string, line: string): LineData {
  const space = line.indexOf(' ');
  // A file name is at most 255 bytes (NAME_MAX on Linux): a longer argument names no file, and the
  // transcript keeps its lines short (the line itself is cut at transcript.maxLineLength).
  const arg = space < 0 ? '' : line.slice(space + 1, space + 1 + 255);
  if (TRANSFERS.has(verb)) return { event: 'command', verb, ...(arg ? { arg } : {}) };
  if (verb === 'REST' && /^\d+$/.test(arg)) return { event: 'command', verb, offset: Number(arg) };
  return { event: 'command', verb };
}

/** A reply line as the server writes it ("226 …", or "226-…" in a multi-line reply); undefined for any other. */
export function replyData(line: string): LineData | undefined {
  const code = /^([1-5]\d\d)[ -]/.exec(line)?.[1];
  return code ? { event: 'reply', code: Number(code) } : undefined;
}
