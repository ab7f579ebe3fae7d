import { DELIMITER } from '../mailbox-name.js';
import { type Args, stringOf, wordsOf } from '../parser/args.js';
import { mailboxName } from '../response.js';
import type { Session } from '../session.js';
import { AUTHENTICATED, command, ok } from './command.js';
import { statusItems, statusOf } from './status.js';

const USAGE =
  'LIST [(SUBSCRIBED REMOTE RECURSIVEMATCH SPECIAL-USE)] reference pattern [RETURN (SUBSCRIBED CHILDREN SPECIAL-USE STATUS (...))]';

export interface ListArgs {
  reference: string;
  patterns: string[];
  /** Selection options (RFC 5258 §3.1, RFC 6154 §5.3). */
  subscribedOnly: boolean;
  specialUseOnly: boolean;
  recursiveMatch: boolean;
  /** Return options (RFC 5258 §3.2, RFC 5819, RFC 6154). */
  returnSubscribed: boolean;
  status: string[] | null;
}

/**
 * The selection options this server knows (RFC 5258 §3.1, RFC 6154 §5.3). REMOTE asks for
 * mailboxes on other servers too (RFC 2193): there are none, so it changes nothing.
 */
const SELECTION_OPTIONS = ['SUBSCRIBED', 'REMOTE', 'RECURSIVEMATCH', 'SPECIAL-USE'];
/** The return options (RFC 5258 §3.2, RFC 5819 STATUS, RFC 6154 SPECIAL-USE). */
const RETURN_OPTIONS = ['SUBSCRIBED', 'CHILDREN', 'SPECIAL-USE', 'STATUS'];

export function parseList(args: Args, lsub: boolean): ListArgs {
  const selection = lsub
    ? []
    : wordsOf(args.optionalList() ?? [], 'selection option', USAGE).map((w) => w.toUpperCase());
  // RFC 5258 §3: an option the server does not know is an error, so is RECURSIVEMATCH alone (or
  // with REMOTE alone): it only says how to apply another selection option.
  const unknown = selection.find((o) => !SELECTION_OPTIONS.includes(o));
  if (unknown) throw args.error(`unknown selection option ${unknown}`);
  if (
    selection.includes('RECURSIVEMATCH') &&
    !selection.some((o) => o === 'SUBSCRIBED' || o === 'SPECIAL-USE')
  )
    throw args.error('RECURSIVEMATCH needs another selection option, e.g. (SUBSCRIBED RECURSIVEMATCH)');
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
      if (!RETURN_OPTIONS.includes(option)) throw args.error(`unknown return option ${option}`);
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
    recursiveMatch: selection.includes('RECURSIVEMATCH'),
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

/** The name and every level above it: `a.b.c` -> `a`, `a.b`, `a.b.c`. */
function withLevels(names: Iterable<string>): Set<string> {
  const out = new Set<string>();
  for (const name of names) {
    const levels = name.split(DELIMITER);
    for (let i = 1; i <= levels.length; i++) out.add(levels.slice(0, i).join(DELIMITER));
  }
  return out;
}

/**
 * Answers LIST or LSUB: one line per mailbox that matches, with its attributes.
 *
 * A name the pattern matches is listed when it meets the selection criteria (subscribed, for
 * LSUB and LIST (SUBSCRIBED); a special use, for LIST (SPECIAL-USE)). A name that does not meet
 * them but has a descendant that does is listed too when that descendant is not listed itself
 * (the pattern stops above it): LSUB flags it \Noselect (RFC 3501 §6.3.9, "foo" for a subscribed
 * "foo/bar" and LSUB "%"), LIST with RECURSIVEMATCH gives it CHILDINFO (RFC 5258 §3.5: servers
 * SHOULD NOT return a parent for children that are returned anyway).
 */
export async function listMailboxes(session: Session, args: ListArgs, verb: 'LIST' | 'LSUB'): Promise<void> {
  const { out } = session;
  if (verb === 'LIST' && args.patterns.length === 1 && args.patterns[0] === '') {
    // RFC 3501 §6.3.8: an empty pattern asks for the delimiter and the root.
    out.untagged('LIST (\\Noselect) "." ""');
    return;
  }
  const folders = new Map((await session.mailbox!.listFolders()).map((f) => [f.name, f]));
  const subscribed = new Set(await session.mailbox!.subscriptions());
  // Levels above a mailbox exist in the hierarchy even without a folder of their own.
  const hierarchy = withLevels(folders.keys());
  // RFC 3501 §6.3.6: a subscribed name stays subscribed when its mailbox goes; it is listed still.
  const names = args.subscribedOnly ? withLevels([...hierarchy, ...subscribed]) : hierarchy;
  const meets = (name: string) =>
    (!args.subscribedOnly || subscribed.has(name)) &&
    (!args.specialUseOnly || folders.get(name)?.specialUse !== undefined);
  const matches = args.patterns.map((p) => matcher(args.reference, p));
  const listed = (name: string) => matches.some((m) => m(name));
  const descendants = (name: string) => [...names].filter((n) => n.startsWith(`${name}${DELIMITER}`));
  const sorted = [...names].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : 1));
  // Descendants meeting the criteria count for LSUB, and for LIST with RECURSIVEMATCH when the
  // criterion is SUBSCRIBED: the one CHILDINFO defines (RFC 5258 §3.5).
  const lookBelow = verb === 'LSUB' || (args.recursiveMatch && args.subscribedOnly);
  for (const name of sorted) {
    if (!listed(name)) continue;
    const meetingBelow = lookBelow ? descendants(name).filter(meets) : [];
    if (!meets(name) && !meetingBelow.some((n) => !listed(n))) continue;
    const folder = folders.get(name);
    const attributes: string[] = [];
    if (verb === 'LSUB') {
      if (!folder || !subscribed.has(name)) attributes.push('\\Noselect');
    } else {
      // RFC 5258 §3: \NonExistent (which implies \Noselect) for a name with no mailbox.
      if (!folder) attributes.push(args.subscribedOnly ? '\\NonExistent' : '\\Noselect');
      const hasChildren = [...hierarchy].some((n) => n.startsWith(`${name}${DELIMITER}`));
      attributes.push(hasChildren ? '\\HasChildren' : '\\HasNoChildren');
      if (folder?.specialUse) attributes.push(folder.specialUse);
      if (args.returnSubscribed && subscribed.has(name)) attributes.push('\\Subscribed');
    }
    const extended = verb === 'LIST' && meetingBelow.length > 0 ? ' ("CHILDINFO" ("SUBSCRIBED"))' : '';
    out.untagged(`${verb} (${attributes.join(' ')}) "${DELIMITER}" `, mailboxName(name), extended);
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
