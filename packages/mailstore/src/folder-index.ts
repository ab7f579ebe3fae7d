import { infoPart } from './flags.js';
import type { StoredUidList, UidEntry, UidListChange } from './uidlist.js';

/**
 * What this process knows of a folder between two looks at the disk: the UID list, and the file of
 * each message in new/ and cur/. Pure data and the functions that change it in memory; reading the
 * disk is sync.ts, writing the uidlist is journal.ts. UIDs and MODSEQs enter it only once they are
 * on disk, so a reader never sees one that a crash could take back.
 */

export type Sub = 'new' | 'cur';

/** new/ before cur/: a message moved from one to the other during a look is then seen in both, not in neither. */
export const SUBS: readonly Sub[] = ['new', 'cur'];

/** One directory as last read: its file names, and the file of each message by unique name. */
export interface DirListing {
  names: Set<string>;
  files: Map<string, string>;
}

export interface FolderIndex {
  list: StoredUidList['list'];
  byUid: Map<number, UidEntry>;
  byId: Map<string, UidEntry>;
  dirs: Record<Sub, DirListing>;
  /** Lines in the uidlist file, to know when to compact it. */
  lines: number;
  /** The file ends in a line an append cut short, or predates a header line: the next write rewrites it whole. */
  rewrite: boolean;
}

/** Where a message's file is right now. */
export interface Located {
  sub: Sub;
  file: string;
  /** The info part of the name (`FS` of `…:2,FS`): the flags. */
  info: string;
}

/**
 * What a change did to the index, for the message-info cache: nothing, only messages added after
 * the last UID (the snapshot can be extended), or anything else (it is built again).
 */
export type Applied = 'none' | 'appended' | 'changed';

/** An index for a list read from disk; the directories as last read are kept until read again. */
export function indexOf(stored: StoredUidList, dirs?: Record<Sub, DirListing>): FolderIndex {
  const byUid = new Map<number, UidEntry>();
  const byId = new Map<string, UidEntry>();
  for (const entry of stored.list.entries) {
    byUid.set(entry.uid, entry);
    if (!byId.has(entry.id)) byId.set(entry.id, entry);
  }
  return {
    list: stored.list,
    byUid,
    byId,
    dirs: dirs ?? {
      new: { names: new Set(), files: new Map() },
      cur: { names: new Set(), files: new Map() },
    },
    lines: stored.lines,
    rewrite: stored.rewrite,
  };
}

/** Records where a message's file is now: `file` in `to`, or nowhere (null). */
export function place(index: FolderIndex, id: string, to: Sub | null, file = ''): void {
  for (const sub of SUBS) {
    const listing = index.dirs[sub];
    const old = listing.files.get(id);
    if (old === undefined) continue;
    listing.files.delete(id);
    listing.names.delete(old);
  }
  if (to) {
    index.dirs[to].files.set(id, file);
    index.dirs[to].names.add(file);
  }
}

/** The file of a message by its unique name: cur/ first (a copy left in new/ by a crash is older). */
export function locate(index: FolderIndex, id: string): Located | undefined {
  for (const sub of ['cur', 'new'] as const) {
    const file = index.dirs[sub].files.get(id);
    if (file !== undefined) return { sub, file, info: infoPart(file) };
  }
  return undefined;
}

/** The entries of these UIDs that exist, in UID order. */
export function entriesOf(index: FolderIndex, uids: number[]): UidEntry[] {
  return [...new Set(uids)].sort((a, b) => a - b).flatMap((uid) => index.byUid.get(uid) ?? []);
}

/**
 * Applies a change that is on disk to the index in memory. Returns what it did, and the unique
 * names of the messages it removed (so their cached infos can go too).
 */
export function applyToIndex(
  index: FolderIndex,
  change: UidListChange,
): { applied: Applied; gone: string[] } {
  const { list } = index;
  const gone: string[] = [];
  if (
    change.upsert.length === 0 &&
    change.expunge.length === 0 &&
    change.uidNext === list.uidNext &&
    change.highestModseq === list.highestModseq &&
    (change.firstRecentUid ?? list.firstRecentUid) === list.firstRecentUid
  )
    return { applied: 'none', gone };
  let applied: Applied = 'appended';
  if (change.expunge.length) {
    applied = 'changed';
    const expunged = new Set(change.expunge);
    for (const uid of expunged) {
      const entry = index.byUid.get(uid);
      index.byUid.delete(uid);
      if (entry && index.byId.get(entry.id) === entry) {
        index.byId.delete(entry.id);
        gone.push(entry.id);
      }
    }
    list.entries = list.entries.filter((e) => !expunged.has(e.uid));
  }
  for (const entry of change.upsert) {
    if (index.byUid.has(entry.uid)) {
      list.entries[positionOf(list.entries, entry.uid)] = entry;
      applied = 'changed';
    } else list.entries.push(entry);
    index.byUid.set(entry.uid, entry);
    index.byId.set(entry.id, entry);
  }
  if ((change.firstRecentUid ?? list.firstRecentUid) !== list.firstRecentUid) applied = 'changed';
  list.uidNext = change.uidNext;
  list.highestModseq = change.highestModseq;
  list.firstRecentUid = change.firstRecentUid ?? list.firstRecentUid;
  return { applied, gone };
}

/** Where a UID is in a list in UID order (binary search). */
function positionOf(entries: UidEntry[], uid: number): number {
  let lo = 0;
  let hi = entries.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const at = entries[mid]!.uid;
    if (at === uid) return mid;
    if (at < uid) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}
