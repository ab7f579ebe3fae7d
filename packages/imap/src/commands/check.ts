import { command, ok, SELECTED } from './command.js';

/** RFC 3501 §6.4.1: CHECK asks for a checkpoint. Every change is on disk already; look at the store for news. */
export default command({
  name: 'CHECK',
  states: SELECTED,
  usage: 'CHECK',
  parse: (args) => args.end(),
  async run({ session }) {
    await session.selected!.sync({ poll: true });
    return ok('CHECK completed: everything is on disk');
  },
});
