// One of several processes delivering to, flagging and listing the same INBOX at once (see cache.test.ts).
import { MailStore } from '../dist/index.js';

const [root, n] = process.argv.slice(2);
const store = new MailStore(root);
const inbox = await (await store.mailbox('bob')).folder('INBOX');
const seen = {};
for (let i = 0; i < 20; i++) {
  await store.deliver('bob', Buffer.from(`Subject: worker ${n} message ${i}\r\n\r\nbody\r\n`));
  const messages = await inbox.messages();
  for (const m of messages) seen[m.id] = m.uid;
  // Flag one of the messages listed, whoever delivered it: appends to the uidlist race with new UIDs.
  const some = messages[(i * 7 + Number(n)) % messages.length];
  await inbox.setFlags([some.uid], i % 2 ? 'add' : 'remove', ['\\Flagged', `worker${n}`]);
}
process.send(seen, () => process.exit(0));
