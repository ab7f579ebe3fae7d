import { type Stats, statSync } from 'node:fs';
import type { UserStore } from '@portlab/config';

/**
 * Which accounts exist, for RCPT TO (and again after DATA): the names from users.json, read again
 * only when the file changed. UserStore reads and parses the whole file at each question, which a
 * sender opening one connection per message paid twice per message. The change check is a stat:
 * `portlab user add` and `portlab class create` write a new file and rename it over the old one (a
 * new inode), and an edit in place changes its mtime; either is seen at the next RCPT, as before
 * (a removed account gets 550 "no such user" at once, a new one its mail).
 */
export class AccountNames {
  private names = new Set<string>();
  private seen: Stats | undefined;

  constructor(private readonly users: UserStore) {}

  has(name: string): boolean {
    let now: Stats;
    try {
      now = statSync(this.users.file);
    } catch {
      // No users.json (or no access): UserStore says what is wrong, as it did before this cache.
      this.seen = undefined;
      return Boolean(this.users.find(name));
    }
    if (!this.seen || changed(this.seen, now) || recent(now)) {
      // Stat first, then read: a write between the two is read now and seen as a change next time.
      this.names = new Set(this.users.list().map((u) => u.name));
      this.seen = now;
    }
    return this.names.has(name);
  }
}

/**
 * Changed within the last second: a second write may not move the timestamps (the kernel stamps
 * files with a clock that ticks every few milliseconds), so a file this fresh is read again each
 * time, as git treats "racily clean" index entries.
 */
const RACY_MS = 1000;

function recent(stats: Stats): boolean {
  return Date.now() - stats.mtimeMs < RACY_MS;
}

function changed(a: Stats, b: Stats): boolean {
  return a.ino !== b.ino || a.size !== b.size || a.mtimeMs !== b.mtimeMs || a.ctimeMs !== b.ctimeMs;
}
