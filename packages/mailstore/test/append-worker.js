// A process appending to one folder, 8 APPENDs in flight (group commit), telling its parent each
// message it was told is stored, with its UID, the moment it is told (see seams.test.ts).
import { MailStore } from '../dist/index.js';

const [root, n] = process.argv.slice(2);
const folder = await (await new MailStore(root).mailbox('bob')).folder('INBOX');
let i = 0;
await Promise.all(
  Array.from({ length: 8 }, async () => {
    while (i < 60) {
      const body = `Subject: worker ${n} message ${i++}\r\n\r\nbody\r\n`;
      const stored = await folder.append(Buffer.from(body), { flags: ['\\Seen'] });
      process.send({ id: stored.id, uid: stored.uid, body });
    }
  }),
);
process.send({ done: true }, () => process.exit(0));
