import type { Entry } from './jailed-fs.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * LIST (RFC 959 §4.1.3): for people. Its format was never specified; every server copies `ls -l`,
 * and clients (FileZilla, curl, lftp) parse those columns.
 */
export function lsLine(entry: Entry): string {
  const bits = 'rwxrwxrwx'.replace(/./g, (c, i) => (entry.mode & (0o400 >> i) ? c : '-'));
  const t = entry.mtime;
  const recent = Date.now() - t.getTime() < 180 * 24 * 3600 * 1000;
  const hhmm = `${String(t.getUTCHours()).padStart(2, '0')}:${String(t.getUTCMinutes()).padStart(2, '0')}`;
  const when = `${MONTHS[t.getUTCMonth()]} ${String(t.getUTCDate()).padStart(2, ' ')} ${recent ? hhmm : ` ${t.getUTCFullYear()}`}`;
  return `${entry.isDirectory() ? 'd' : '-'}${bits} 1 ftp ftp ${String(entry.size).padStart(12)} ${when} ${entry.name}`;
}

/** MLSD and MLST (RFC 3659 §7): facts a program can read, where LIST's columns must be guessed. */
export function facts(entry: Entry): string {
  // RFC 3659 §2.3: times are UTC, YYYYMMDDHHMMSS.
  const modify = entry.mtime.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const type = entry.isDirectory() ? 'type=dir' : `type=file;size=${entry.size}`;
  return `${type};modify=${modify};`;
}
