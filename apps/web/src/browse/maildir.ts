import { type Dirent, lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { flagsOfInfo, infoPart, uniqueNameOf } from '@portlab/mailstore';
import { BrowseError, resolveInside } from './jail.js';
import { type Header, parseHeaders, parseMessage } from './mime.js';
import { readStart } from './read-start.js';

/**
 * Read-only Maildir++ (the layout of Dovecot and Courier, docs/architecture.md, "Data"): the INBOX is the
 * user's folder itself (cur/ and new/), each other folder is a sub-folder named `.Name` (`.Sent`,
 * `.Archive.2024` for Archive/2024) with its own cur/ and new/. A message is one file; its name is
 * unique, and once seen it ends with `:2,FLAGS` (cr.yp.to/proto/maildir.html, "info").
 */

export interface FolderInfo {
  /** INBOX, or the Maildir++ name without its leading dot (`Archive.2024`). */
  name: string;
  messages: number;
  /** In new/: delivered, not yet seen by any mail client. */
  unread: number;
}

export interface MessageSummary {
  /** The unique part of the file name (before `:2,`): stays the same when the flags change. */
  id: string;
  flags: string[];
  size: number;
  from: string;
  to: string;
  subject: string;
  date: string;
}

export interface MessageView extends MessageSummary {
  headers: Header[];
  text: string | null;
  raw: string;
  /** True when the file was larger than what is shown. */
  truncated: boolean;
}

/** Headers are read from the first bytes only: listing a folder does not read every body. */
const HEAD_BYTES = 16 * 1024;
/** The most messages a listing returns (the newest); a lab mailbox rarely has more. */
const MAX_LISTED = 500;
/** The most bytes of one message shown; a larger one is cut, and says so. */
const MAX_SHOWN = 2 * 1024 * 1024;

/** A folder name as given in a URL: INBOX, or a Maildir++ name (no `/`, no leading dot, no `..`). */
export async function folderDir(userRoot: string, folder: string): Promise<string> {
  if (folder === 'INBOX') return resolveInside(userRoot, '');
  if (!/^[^./\\\0][^/\\\0]*$/.test(folder) || folder.includes('..')) {
    throw new BrowseError(
      400,
      `'${folder}' is not a folder name: INBOX, or a name such as Sent or Archive.2024`,
    );
  }
  return resolveInside(userRoot, `.${folder}`);
}

export async function listFolders(userRoot: string): Promise<FolderInfo[]> {
  const root = await resolveInside(userRoot, '');
  const names = readdirSync(root, { withFileTypes: true })
    .filter((d) => d.isDirectory() && /^\.[^.]/.test(d.name))
    .map((d) => d.name.slice(1))
    .sort();
  return Promise.all(
    ['INBOX', ...names].map(async (name) => {
      const files = messageFiles(await folderDir(userRoot, name));
      return {
        name,
        messages: files.length,
        unread: files.filter((f) => f.sub === 'new').length,
      };
    }),
  );
}

interface MessageFile {
  sub: 'cur' | 'new';
  name: string;
  file: string;
}

/**
 * The message files of a folder. Only real directories and regular files count: a symbolic link
 * (to /etc, say) is not a message, so nothing outside the user's folder can be read through one.
 */
function messageFiles(dir: string): MessageFile[] {
  const files: MessageFile[] = [];
  for (const sub of ['cur', 'new'] as const) {
    const subDir = path.join(dir, sub);
    let entries: Dirent[] = [];
    try {
      if (lstatSync(subDir).isDirectory()) entries = readdirSync(subDir, { withFileTypes: true });
    } catch {
      continue; // A folder being made may lack cur/ or new/ for a moment.
    }
    for (const e of entries) {
      if (e.isFile() && !e.name.startsWith('.'))
        files.push({ sub, name: e.name, file: path.join(subDir, e.name) });
    }
  }
  return files;
}

/** The flags of a message file, by their IMAP names (`\Seen`), as the IMAP server reads them. */
function flagsOf(name: string): string[] {
  return flagsOfInfo(infoPart(name));
}

function summary(file: MessageFile, headers: Header[], size: number): MessageSummary {
  const get = (name: string) => headers.find((h) => h.name.toLowerCase() === name)?.value ?? '';
  return {
    id: uniqueNameOf(file.name),
    flags: flagsOf(file.name),
    size,
    from: get('from'),
    to: get('to'),
    subject: get('subject'),
    date: get('date'),
  };
}

/** The newest messages of a folder first (Maildir file names start with the delivery time). */
export function listMessages(dir: string): MessageSummary[] {
  const files = messageFiles(dir)
    .map((f) => ({ ...f, stat: statSync(f.file) }))
    .sort((a, b) => b.stat.mtimeMs - a.stat.mtimeMs || b.name.localeCompare(a.name))
    .slice(0, MAX_LISTED);
  return files.map((f) => {
    const head = readStart(f.file, HEAD_BYTES).toString('utf8');
    const end = head.search(/\r?\n\r?\n/);
    return summary(f, parseHeaders(end < 0 ? head : head.slice(0, end)), f.stat.size);
  });
}

/** One message by its id, looked up in the folder's own listing: an id can name nothing else. */
export function readMessage(dir: string, id: string): MessageView {
  const found = messageFiles(dir).find((f) => uniqueNameOf(f.name) === id);
  if (!found) throw new BrowseError(404, `no message '${id}' in this folder (moved or deleted?)`);
  const size = statSync(found.file).size;
  const bytes = size > MAX_SHOWN ? readStart(found.file, MAX_SHOWN) : readFileSync(found.file);
  const { headers, text } = parseMessage(bytes);
  return {
    ...summary(found, headers, size),
    headers,
    text,
    raw: bytes.toString('utf8'),
    truncated: size > MAX_SHOWN,
  };
}
