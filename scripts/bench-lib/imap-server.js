// portlab's IMAP server for the IMAP benchmarks (scripts/bench/imap.js, imap-read.js, imap-dovecot.js),
// in a child process of its own over a temporary lab, so that the clients' work and the server's are
// not measured in one event loop and the server's memory can be read alone.
//   parent: `const portlab = await startPortlabImap({ messages })`, then portlab.fill(), deliver(n),
//           memory(), stop();
//   child:  this file, forked; it answers the parent's orders over the IPC channel.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchMessage } from './bench-message.js';

const self = fileURLToPath(import.meta.url);

/**
 * Forks the server (execArgv: e.g. ['--expose-gc'] or ['--cpu-prof', ...]) and resolves once it
 * listens. `messages`: how many messages fill() puts into bob's INBOX.
 */
export async function startPortlabImap({ messages, execArgv = [] }) {
  const child = fork(self, [String(messages)], { stdio: 'inherit', execArgv });
  const next = (type) =>
    new Promise((resolve) => {
      const on = (m) => {
        if (m.type !== type) return;
        child.off('message', on);
        resolve(m);
      };
      child.on('message', on);
    });
  const ask = (order, answer) => {
    const reply = next(answer);
    child.send(order);
    return reply;
  };
  const { port } = await next('ready');
  return {
    port,
    /**
     * Fills bob's INBOX with benchMessage(0 .. messages-1), resolving with the time it took (ms):
     * 'deliver' through store.deliver, 32 at once; 'drop' as files dropped into Maildir new/, as an
     * MDA would (and as the reference's Maildir is filled): the first look takes them.
     */
    fill: async (how = 'deliver') => (await ask({ type: 'fill', how }, 'filled')).ms,
    /** One more message, benchMessage(n), through store.deliver (not awaited). */
    deliver: (n) => child.send({ type: 'deliver', n }),
    /** The server process's process.memoryUsage(), after a gc if it runs with --expose-gc. */
    memory: () => ask({ type: 'memory' }, 'memory'),
    stop: async () => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

// --- the child -------------------------------------------------------------------------------------

async function serve(messages) {
  const { loadConfig } = await import('@portlab/config');
  const { MailStore } = await import('@portlab/mailstore');
  const { AppRuntime, LoginThrottle } = await import('@portlab/service');
  const { tempLab } = await import('@portlab/testkit');
  const { createImapServer } = await import('@portlab/imap');
  const lab = await tempLab();
  const config = loadConfig({ file: lab.configFile, env: {} });
  const runtime = new AppRuntime('mail', config);
  await runtime.users.ensure();
  const store = new MailStore(config.paths.mail);
  const server = createImapServer({
    store,
    users: runtime.users,
    throttle: new LoginThrottle(),
    certificate: await runtime.certificate(),
    implicitTls: false,
    sessionOf: (socket) => runtime.sessionOf(socket),
    config,
  });
  await runtime.serve('imap', server);
  process.on('message', async (order) => {
    if (order.type === 'fill') {
      const started = performance.now();
      if (order.how === 'drop') {
        const dir = path.join(config.paths.mail, 'bob');
        for (const sub of ['tmp', 'new', 'cur']) mkdirSync(path.join(dir, sub), { recursive: true });
        for (let n = 0; n < messages; n++)
          writeFileSync(path.join(dir, 'new', `${1700000000 + n}.P${n}.bench`), benchMessage(n));
      } else {
        let next = 0;
        await Promise.all(
          Array.from({ length: 32 }, async () => {
            while (next < messages) await store.deliver('bob', benchMessage(next++));
          }),
        );
      }
      process.send({ type: 'filled', ms: performance.now() - started });
    } else if (order.type === 'deliver') {
      await store.deliver('bob', benchMessage(order.n));
    } else if (order.type === 'memory') {
      globalThis.gc?.();
      process.send({ type: 'memory', ...process.memoryUsage() });
    } else if (order.type === 'stop') {
      await runtime.shutdown();
      lab.cleanup();
      process.exit(0);
    }
  });
  // The benchmark gone (finished or crashed): leave nothing behind.
  process.on('disconnect', () => {
    lab.cleanup();
    process.exit(0);
  });
  process.send({ type: 'ready', port: lab.ports.imap });
}

if (process.argv[1] === self && process.send) await serve(Number(process.argv[2]));
