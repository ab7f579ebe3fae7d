import { parseDateTime } from '../dates.js';
import { parseFlags } from '../flags.js';
import { canonicalMailbox } from '../mailbox-name.js';
import { AUTHENTICATED, command, no, ok, refuseName } from './command.js';

const USAGE = 'APPEND mailbox [(flags)] ["date-time"] {size}';

/**
 * RFC 3501 §6.3.11: APPEND stores a message (a literal) in a mailbox, with flags and a date.
 * The answer names its UID (APPENDUID, RFC 4315 §3). The literal's size was checked against the
 * lab's limit before it was read (APPENDLIMIT, RFC 7889).
 */
export default command({
  name: 'APPEND',
  states: AUTHENTICATED,
  usage: USAGE,
  parse(args) {
    const name = args.astring('mailbox');
    const flags = parseFlags(args.optionalList() ?? [], USAGE);
    let internalDate: Date | undefined;
    const next = args.peek();
    if (next?.type === 'string') {
      const date = parseDateTime(args.astring('date-time'));
      if (!date) throw args.error('the date must look like "17-Jul-1996 02:44:25 -0700"');
      internalDate = date;
    }
    const message = args.bytes('message');
    args.end();
    return { name, flags, internalDate, message };
  },
  async run({ session }, { name, flags, internalDate, message }) {
    const refused = refuseName(name);
    if (refused) return refused;
    if (message.length === 0) return no('an empty message cannot be appended');
    const folder = await session.mailbox!.folder(canonicalMailbox(name));
    if (!folder) return no(`no mailbox ${name}: CREATE it first`, 'TRYCREATE');
    let stored: Awaited<ReturnType<typeof folder.append>>;
    try {
      stored = await folder.append(message, { flags, ...(internalDate ? { internalDate } : {}) });
    } catch (err) {
      return no((err as Error).message);
    }
    const { uidValidity } = await folder.status();
    return ok('APPEND completed', `APPENDUID ${uidValidity} ${stored.uid}`);
  },
});
