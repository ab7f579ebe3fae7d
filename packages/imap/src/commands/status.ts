import { canonicalMailbox } from '../mailbox-name.js';
import { wordsOf } from '../parser/args.js';
import { ImapSyntaxError } from '../parser/tokenizer.js';
import { mailboxName, type Part } from '../response.js';
import type { Session } from '../session.js';
import { AUTHENTICATED, command, no, ok, refuseName } from './command.js';

const ITEMS = ['MESSAGES', 'RECENT', 'UIDNEXT', 'UIDVALIDITY', 'UNSEEN', 'HIGHESTMODSEQ'] as const;
const USAGE = `STATUS mailbox (${ITEMS.join(' ')})`;

/** Reads a STATUS item list: (MESSAGES UNSEEN ...). */
export function statusItems(words: string[]): string[] {
  const items = words.map((w) => w.toUpperCase());
  const unknown = items.find((i) => !(ITEMS as readonly string[]).includes(i));
  if (unknown) throw new ImapSyntaxError(`unknown STATUS item ${unknown}: use ${ITEMS.join(', ')}`);
  return items;
}

/** `STATUS name (MESSAGES 3 UNSEEN 1 ...)`, or null if there is no such mailbox (RFC 3501 §7.2.4). */
export async function statusOf(session: Session, name: string, items: string[]): Promise<Part[] | null> {
  const canonical = canonicalMailbox(name);
  const folder = await session.mailbox!.folder(canonical);
  if (!folder) return null;
  if (items.includes('HIGHESTMODSEQ')) session.enableCondstore();
  const { status } = await folder.snapshot();
  const values: Record<string, number> = {
    MESSAGES: status.messages,
    // RFC 3501 §6.3.10: the messages no session has taken the \Recent of yet (recent.ts).
    RECENT: status.recent,
    UIDNEXT: status.uidNext,
    UIDVALIDITY: status.uidValidity,
    UNSEEN: status.unseen,
    HIGHESTMODSEQ: status.highestModseq,
  };
  return ['STATUS ', mailboxName(name), ` (${items.map((i) => `${i} ${values[i]}`).join(' ')})`];
}

/** RFC 3501 §6.3.10: STATUS mailbox (items): counts of a mailbox without selecting it. */
export default command({
  name: 'STATUS',
  states: AUTHENTICATED,
  usage: USAGE,
  parse(args) {
    const name = args.astring('mailbox');
    const items = statusItems(wordsOf(args.list('status items'), 'status item', USAGE));
    args.end();
    return { name, items };
  },
  async run({ session }, { name, items }) {
    const refused = refuseName(name);
    if (refused) return refused;
    const response = await statusOf(session, name, items);
    if (!response) return no(`no mailbox ${name}`, 'NONEXISTENT');
    session.out.untagged(...response);
    return ok('STATUS completed');
  },
});
