import { ANY_STATE, command, ok } from './command.js';

/**
 * RFC 3501 §6.1.2: NOOP does nothing, and so is how a client polls for news of the selected
 * mailbox. It looks at the store, but never waits behind another session's write (a STORE holding
 * the folder's lock for its fsyncs): it then tells what the session knows, and what the look finds
 * is told at the next command (MailboxView.sync, `quick`). RFC 3501 §7 lets untagged updates come
 * at any time; a poll that waited for the disk made NOOP the slowest command under load (issue #20).
 */
export default command({
  name: 'NOOP',
  states: ANY_STATE,
  usage: 'NOOP',
  quickNews: true,
  parse: (args) => args.end(),
  async run({ session }) {
    await session.selected?.sync({ poll: true, quick: true });
    return ok('NOOP completed');
  },
});
