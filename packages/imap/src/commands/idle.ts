import { AUTHENTICATED, bad, command, ok } from './command.js';

/**
 * RFC 2177: IDLE. The server says `+ idling`, then tells news as it happens (EXISTS for a new
 * delivery, EXPUNGE, FETCH FLAGS) until the client sends DONE.
 */
export default command({
  name: 'IDLE',
  states: AUTHENTICATED,
  usage: 'IDLE, then DONE on its own line',
  parse: (args) => args.end(),
  async run({ session }) {
    session.out.continuation('idling: send DONE to stop');
    session.idling = true;
    try {
      await session.tellNews({ expunges: true, poll: true });
      session.out.release();
      const read = await session.input.line(64);
      if ('closed' in read) return ok('IDLE ended: the connection closed');
      const line = 'line' in read ? read.line.toString('latin1') : '';
      session.transcript?.client(line || '<a line too long>');
      if (line.trim().toUpperCase() !== 'DONE')
        return bad(`expected DONE to end IDLE, got '${line.slice(0, 40)}'`);
      return ok('IDLE terminated');
    } finally {
      session.idling = false;
      await session.quiet();
    }
  },
});
