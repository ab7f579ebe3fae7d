import { AUTHENTICATED, command, ok } from './command.js';

/** RFC 5161: ENABLE turns on extensions that change responses; this server has CONDSTORE (RFC 7162 §3.1). */
export default command({
  name: 'ENABLE',
  states: AUTHENTICATED,
  usage: 'ENABLE capability ...',
  parse(args) {
    const names = [args.atom('capability').toUpperCase()];
    while (!args.done) names.push(args.atom('capability').toUpperCase());
    return names;
  },
  run({ session }, names) {
    const enabled = names.includes('CONDSTORE') && session.enableCondstore() ? ['CONDSTORE'] : [];
    session.out.untagged(['ENABLED', ...enabled].join(' '));
    return ok('ENABLE completed');
  },
});
