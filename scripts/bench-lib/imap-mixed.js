// The mixed workload of the IMAP benches (scripts/bench/imap.js, imap-dovecot.js): what a class of
// mail clients does at once to one mailbox.
import { BenchImapClient } from './imap-client.js';

/**
 * `clients` connections of bob with INBOX selected: `idlers` of them in IDLE while deliver() adds a
 * message every 250 ms, the others sending for `seconds`, one command at a time, a SELECT, a
 * 20-message header FETCH, a whole-message FETCH, a flag STORE or a NOOP, at random over UIDs
 * 1..messages. Resolves with every command's time and the NOOPs' apart (ms), and how many failed.
 */
export async function mixedWorkload(port, { messages, clients, idlers, seconds, deliver }) {
  const all = [];
  const noops = [];
  let errors = 0;
  const idle = await Promise.all(
    Array.from({ length: idlers }, async () => {
      const client = await BenchImapClient.open(port);
      await client.command('LOGIN bob builder');
      await client.command('SELECT INBOX');
      client.socket.write('i1 IDLE\r\n');
      return client;
    }),
  );
  const deliveries = setInterval(deliver, 250);
  const random = () => 1 + Math.floor(Math.random() * messages);
  const ops = [
    () => 'SELECT INBOX',
    () => {
      const start = random();
      return `UID FETCH ${start}:${start + 19} (UID RFC822.SIZE FLAGS BODY.PEEK[HEADER.FIELDS (From To Subject Date Message-ID)])`;
    },
    () => `UID FETCH ${random()} BODY.PEEK[]`,
    () => `UID STORE ${random()} ${Math.random() < 0.5 ? '+' : '-'}FLAGS.SILENT (\\Flagged)`,
    () => 'NOOP',
  ];
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: clients - idlers }, async () => {
      const client = await BenchImapClient.open(port);
      await client.command('LOGIN bob builder');
      await client.command('SELECT INBOX');
      while (Date.now() < deadline) {
        const op = ops[Math.floor(Math.random() * ops.length)]();
        const started = performance.now();
        try {
          await client.command(op);
          const ms = performance.now() - started;
          all.push(ms);
          if (op === 'NOOP') noops.push(ms);
        } catch {
          errors++;
        }
      }
      client.close();
    }),
  );
  clearInterval(deliveries);
  for (const client of idle) client.close();
  return { all, noops, errors };
}
