import type { Entry, JailedFileSystem } from '../jailed-fs.js';
import { ReplyError } from '../reply-error.js';
import { overDataConnection } from './transfer.js';
import { type CommandHandler, replyError } from './types.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * LIST (RFC 959 §4.1.3): for people. Its format was never specified; every server copies `ls -l`,
 * and clients (FileZilla, curl, lftp) parse those columns.
 */
function lsLine(entry: Entry): string {
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

const FORMATS: Record<string, (entry: Entry) => string> = {
  LIST: lsLine,
  NLST: (entry) => entry.name, // Names only (RFC 959 §4.1.3), what `mget *` expands.
  MLSD: (entry) => `${facts(entry)} ${entry.name}`,
};

/**
 * LIST, NLST and MLSD: a folder's entries, one per line, on the data connection. LIST and NLST of a
 * file describe that file; MLSD of a file is an error (RFC 3659 §7.2.1: MLST is for one file).
 */
export const list: CommandHandler = {
  async run({ connection, command }) {
    const fs = connection.fs as JailedFileSystem;
    const format = FORMATS[command.directive]!;
    // Clients send ls options (`LIST -la`); like vsftpd, they are ignored.
    const name = (command.arg ?? '').replace(/^(-\w+\s*)+/, '') || '.';
    let entries: Entry[];
    try {
      const target = await fs.get(name);
      if (target.isDirectory()) entries = await fs.list(name);
      else if (command.directive === 'MLSD')
        throw new ReplyError(501, `${fs.where(name)}: not a folder (MLST describes one file)`);
      else entries = [target];
    } catch (err) {
      connection.connector.end();
      return replyError(connection, err);
    }
    const text = entries.map((e) => `${format(e)}\r\n`).join('');
    await overDataConnection(connection, `Listing ${fs.where(name)}`, async (socket) => {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.end(text, resolve);
      });
      return `${entries.length} entries listed`;
    });
  },
};

/** MLST: the facts of one file or folder, on the control connection (RFC 3659 §7.2). */
export const mlst: CommandHandler = {
  async run({ connection, command }) {
    const fs = connection.fs as JailedFileSystem;
    try {
      const entry = await fs.get(command.arg ?? '.');
      const at = fs.where(command.arg);
      return connection.reply(250, `Listing ${at}`, { raw: true, message: ` ${facts(entry)} ${at}` }, 'End');
    } catch (err) {
      return replyError(connection, err);
    }
  },
};
