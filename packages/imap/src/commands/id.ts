import { ANY_STATE, command, ok } from './command.js';

/** RFC 2971: ID tells the client who the server is (what the client says of itself is only logged). */
export default command({
  name: 'ID',
  states: ANY_STATE,
  usage: 'ID ("name" "value" ...) | ID NIL',
  parse(args) {
    if (!args.keyword('NIL')) args.list('client fields');
    args.end();
  },
  run({ session }) {
    session.out.untagged(
      'ID ("name" "portlab" "vendor" "portlab networking labs" "support-url" "https://datatracker.ietf.org/doc/html/rfc3501")',
    );
    return ok('ID completed');
  },
});
