import { parseDateTime } from '../dates.js';
import { parseFlags } from '../flags.js';
import { canonicalMailbox } from '../mailbox-name.js';
import type { Args } from '../parser/args.js';
import type { Session } from '../session.js';
import type { NewMessage } from '../storage.js';
import { AUTHENTICATED, type Completion, command, no, ok, refuseName } from './command.js';

const USAGE = 'APPEND mailbox [(flags)] ["date-time"] {size} [[(flags)] ["date-time"] {size} ...]';

/** One message of the command: `[(flags)] ["date-time"] literal` (RFC 3501 §6.3.11). */
function parseMessage(args: Args): NewMessage {
  const flags = parseFlags(args.optionalList() ?? [], USAGE);
  let internalDate: Date | undefined;
  const next = args.peek();
  if (next?.type === 'string') {
    const date = parseDateTime(args.astring('date-time'));
    if (!date) throw args.error('the date must look like "17-Jul-1996 02:44:25 -0700"');
    internalDate = date;
  }
  return { flags, ...(internalDate ? { internalDate } : {}), message: args.bytes('message') };
}

/**
 * RFC 3501 §6.3.11: APPEND stores a message (a literal) in a mailbox, with flags and a date.
 * RFC 3502 (MULTIAPPEND): several messages in one command, each with its own flags and date,
 * stored all or none. The answer names their UIDs (APPENDUID, RFC 4315 §3). Each literal's size
 * was checked against the lab's limit before it was read (APPENDLIMIT, RFC 7889); the literals
 * of one command together stay under the same limit (the reader holds a command whole).
 */
export default command({
  name: 'APPEND',
  states: AUTHENTICATED,
  usage: USAGE,
  parse(args) {
    const name = args.astring('mailbox');
    const messages = [parseMessage(args)];
    while (!args.done) messages.push(parseMessage(args));
    return { name, messages };
  },
  async run({ session }, { name, messages }) {
    // Pipelined APPENDs run at once (session.ts): this one's place among them is taken now, before
    // any await, and passed on once its messages are in the store's line (or it failed).
    const turn = session.appendInLine();
    try {
      return await append(session, name, messages, turn);
    } finally {
      turn.pass();
    }
  },
});

async function append(
  session: Session,
  name: string,
  messages: NewMessage[],
  turn: { ready: Promise<void>; pass: () => void },
): Promise<Completion> {
  const refused = refuseName(name);
  if (refused) return refused;
  // RFC 3502 §6.3.11: any message refused, none is appended; check before writing any.
  const empty = messages.findIndex((m) => m.message.length === 0);
  if (empty !== -1)
    return no(
      messages.length === 1
        ? 'an empty message cannot be appended'
        : `message ${empty + 1} is empty: an empty message cannot be appended, none was`,
    );
  const folder = await session.mailbox!.folder(canonicalMailbox(name));
  if (!folder) return no(`no mailbox ${name}: CREATE it first`, 'TRYCREATE');
  // One step in the store (RFC 3502 §6.3.11, all or none): no other session sees a message of
  // a MULTIAPPEND that fails, and the UIDs are consecutive, in the order given. The store takes
  // its place in line when called, so the next APPEND may go as soon as the call is made.
  await turn.ready;
  const stored = folder.appendAll(messages);
  turn.pass();
  let uids: number[];
  try {
    uids = (await stored).map((m) => m.uid);
  } catch (err) {
    // RFC 9051 §7.1: OVERQUOTA, the append would pass the mailbox's quota (config mail.quotaBytes);
    // nothing of it was stored (a MULTIAPPEND's messages count together: all or none).
    if ((err as { code?: string }).code === 'OVER_QUOTA') return no((err as Error).message, 'OVERQUOTA');
    return no((err as Error).message);
  }
  const { uidValidity } = await folder.status();
  return ok('APPEND completed', `APPENDUID ${uidValidity} ${uidSet(uids)}`);
}

/**
 * RFC 4315 §3: the UIDs in the order the messages were given, runs of consecutive ones as ranges
 * (`4:6`); one message, one UID.
 */
function uidSet(uids: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < uids.length; ) {
    let j = i;
    while (j + 1 < uids.length && uids[j + 1] === uids[j]! + 1) j++;
    parts.push(i === j ? `${uids[i]}` : `${uids[i]}:${uids[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
