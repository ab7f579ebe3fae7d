// One of several processes delivering to and listing the same INBOX at once (see mailstore.test.ts).
import { MailStore } from '../dist/index.js';

const [root, n] = process.argv.slice(2);
const store = new MailStore(root);
const inbox = await (await store.mailbox('bob')).folder('INBOX');
const seen = {};
for (let i = 0; i < 25; i++) {
  await store.deliver('bob', Buffer.from(`Subject: worker ${n} message ${i}\r\n\r\nbody\r\n`));
  for (const m of await inbox.messages()) seen[m.id] = m.uid;
}
process.send(seen, () => process.exit(0));
