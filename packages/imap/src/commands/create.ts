import { DELIMITER } from '../mailbox-name.js';
import { AUTHENTICATED, command, no, ok, refuseName } from './command.js';

/**
 * RFC 3501 §6.3.3: CREATE mailbox. A trailing delimiter only says the name will hold others;
 * missing parents are created too (Work.Projects makes Work), as the RFC advises.
 */
export default command({
  name: 'CREATE',
  states: AUTHENTICATED,
  usage: 'CREATE mailbox',
  parse(args) {
    const name = args.astring('mailbox');
    args.end();
    return name.endsWith(DELIMITER) ? name.slice(0, -1) : name;
  },
  async run({ session }, name) {
    const refused = refuseName(name);
    if (refused) return refused;
    if (name.toUpperCase() === 'INBOX') return no('INBOX always exists', 'ALREADYEXISTS');
    const mailbox = session.mailbox!;
    const existing = new Set((await mailbox.listFolders()).map((f) => f.name));
    if (existing.has(name)) return no(`mailbox ${name} already exists`, 'ALREADYEXISTS');
    const levels = name.split(DELIMITER);
    for (let i = 1; i <= levels.length; i++) {
      const path = levels.slice(0, i).join(DELIMITER);
      if (!existing.has(path)) await mailbox.createFolder(path);
    }
    return ok('CREATE completed');
  },
});
