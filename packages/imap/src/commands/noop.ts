import { ANY_STATE, command, ok } from './command.js';

/** RFC 3501 §6.1.2: NOOP does nothing, and so is how a client polls for news of the selected mailbox. */
export default command({
  name: 'NOOP',
  states: ANY_STATE,
  usage: 'NOOP',
  parse: (args) => args.end(),
  async run({ session }) {
    await session.selected?.sync({ poll: true });
    return ok('NOOP completed');
  },
});
