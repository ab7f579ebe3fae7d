import { CheckedFile, SETTLED_NS } from './checked-file.js';
import type { UserStore } from './users.js';

/**
 * Which accounts exist, for the questions asked at every connection (the mail app's RCPT TO and again
 * after DATA, the web app's /~user/): the names from users.json, read again only when the file
 * changed (checked-file.ts). UserStore reads and parses the whole file at each question, which a
 * sender opening one connection per message paid twice per message. `portlab user add` and
 * `portlab class create` write a new file and rename it over the old one (a new inode), and an edit
 * in place changes its times; either is seen at the next question (a removed account gets 550 "no
 * such user" at once, a new one its mail). Without users.json, `has` fails as UserStore does.
 */
export class AccountNames {
  private readonly names: CheckedFile<Set<string>>;

  /** `settledNs`: see checked-file.ts (tests set 0). */
  constructor(users: UserStore, settledNs = SETTLED_NS) {
    this.names = new CheckedFile(users.file, () => new Set(users.list().map((u) => u.name)), settledNs);
  }

  has(name: string): boolean {
    return this.names.get().has(name);
  }
}
