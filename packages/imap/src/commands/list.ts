import { DELIMITER } from '../mailbox-name.js';
import { type Args, stringOf, wordsOf } from '../parser/args.js';
import { mailboxName } from '../response.js';
import type { Session } from '../session.js';
import { AUTHENTICATED, command, ok } from './command.js';
import { statusItems, statusOf } from './status.js';

const USAGE =
  'LIST [(SUBSCRIBED SPECIAL-USE)] reference pattern [RETURN (SUBSCRIBED CHILDREN SPECIAL-USE STATUS (...))]';

export interface ListArgs {
  reference: string;
  patterns: string[];
  /** Selection options (RFC 5258 §3.1). */
  subscribedOnly: boolean;
  specialUseOnly: boolean;
  /** Return options (RFC 5258 §3.2, RFC 5819, RFC 6154). */
  returnSubscribed: boolean;
  status: string[] | null;
}

export function parseList(args: Args, lsub: boolean): ListArgs {
  const selection = lsub
    ? []
    : wordsOf(args.optionalList() ?? [], 'selection option', USAGE).map((w) => w.toUpperCase());
  const reference = args.astring('reference');
  const next = args.any('mailbox pattern');
  const patterns =
    next.type === 'list' ? wordsOf(next.items, 'pattern', USAGE) : [stringOf(next, 'pattern', USAGE)];
  let returnSubscribed = false;
  let status: string[] | null = null;
  if (!lsub && args.keyword('RETURN')) {
    const options = args.list('return options');
    for (let i = 0; i < options.length; i++) {
      const option = stringOf(options[i]!, 'return option', USAGE).toUpperCase();
      if (option === 'SUBSCRIBED') returnSubscribed = true;
      if (option === 'STATUS') {
        const items = options[++i];
        if (items?.type !== 'list')
          throw args.error('STATUS needs its items: RETURN (STATUS (MESSAGES UNSEEN))');
        status = statusItems(wordsOf(items.items, 'status item', USAGE));
      }
    }
  }
  args.end();
  return {
    reference,
    patterns,
    subscribedOnly: lsub || selection.includes('SUBSCRIBED'),
    specialUseOnly: selection.includes('SPECIAL-USE'),
    returnSubscribed: lsub || returnSubscribed || selection.includes('SUBSCRIBED'),
    status,
  };
}

/**
 * RFC 3501 §6.3.8 `%` matches within one level, `*` across levels; the reference is put before
 * the pattern. INBOX matches in any case.
 */
function matcher(reference: string, pattern: string): (name: string) => boolean {
  const full = reference + pattern;
  const source = full
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '%' ? `[^${DELIMITER}]*` : c.replace(/[.+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  const exact = new RegExp(`^${source}$`);
  const inbox = new RegExp(`^${source}$`, 'i');
  return (name) => (name === 'INBOX' ? inbox.test(name) : exact.test(name));
}

/** Answers LIST or LSUB: one line per mailbox that matches, with its attributes. */
export async function listMailboxes(session: Session, args: ListArgs, verb: 'LIST' | 'LSUB'): Promise<void> {
  const { out } = session;
  if (verb === 'LIST' && args.patterns.length === 1 && args.patterns[0] === '') {
    // RFC 3501 §6.3.8: an empty pattern asks for the delimiter and the root.
    out.untagged('LIST (\\Noselect) "." ""');
    return;
  }
  const folders = await session.mailbox!.listFolders();
  const subscribed = new Set(await session.mailbox!.subscriptions());
  const exists = new Map(folders.map((f) => [f.name, f]));
  const names = new Set(folders.map((f) => f.name));
  // Levels above a mailbox exist in the hierarchy even without a folder of their own.
  for (const name of [...names]) {
    const levels = name.split(DELIMITER);
    for (let i = 1; i < levels.length; i++) names.add(levels.slice(0, i).join(DELIMITER));
  }
  if (args.subscribedOnly) for (const name of subscribed) names.add(name);
  const matches = args.patterns.map((p) => matcher(args.reference, p));
  const sorted = [...names].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : 1));
  for (const name of sorted) {
    if (!matches.some((m) => m(name))) continue;
    const folder = exists.get(name);
    if (args.subscribedOnly && !subscribed.has(name)) continue;
    if (args.specialUseOnly && !folder?.specialUse) continue;
    const attributes: string[] = [];
    if (!folder) attributes.push(args.subscribedOnly ? '\\NonExistent' : '\\Noselect');
    if (verb === 'LIST') {
      const hasChildren = [...names].some((n) => n.startsWith(`${name}${DELIMITER}`));
      attributes.push(hasChildren ? '\\HasChildren' : '\\HasNoChildren');
      if (folder?.specialUse) attributes.push(folder.specialUse);
      if (args.returnSubscribed && subscribed.has(name)) attributes.push('\\Subscribed');
    }
    out.untagged(`${verb} (${attributes.join(' ')}) "${DELIMITER}" `, mailboxName(name));
    if (args.status && folder) {
      const status = await statusOf(session, name, args.status);
      if (status) out.untagged(...status);
    }
  }
}

/**
 * RFC 3501 §6.3.8 LIST, with LIST-EXTENDED (RFC 5258: selection and return options, several
 * patterns), LIST-STATUS (RFC 5819) and SPECIAL-USE (RFC 6154: \Sent, \Drafts, \Trash, \Junk).
 */
export default command({
  name: 'LIST',
  states: AUTHENTICATED,
  usage: USAGE,
  parse: (args) => parseList(args, false),
  async run({ session }, args) {
    await listMailboxes(session, args, 'LIST');
    return ok('LIST completed');
  },
});
