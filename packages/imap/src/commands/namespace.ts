import { AUTHENTICATED, command, ok } from './command.js';

/** RFC 2342: one personal namespace, no prefix, '.' between levels; no shared or other users' folders. */
export default command({
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  usage: 'NAMESPACE',
  parse: (args) => args.end(),
  run({ session }) {
    session.out.untagged('NAMESPACE (("" ".")) NIL NIL');
    return ok('NAMESPACE completed');
  },
});
