import { createInterface } from 'node:readline';
import { DEMO_ACCOUNTS, type LabConfig, UserStore } from '@portlab/config';
import { table } from '../format.js';

/** Reads a password: hidden at a terminal, the first line of stdin otherwise (scripts, tests). */
async function readPassword(prompt: string): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    const rl = createInterface({ input });
    for await (const line of rl) {
      rl.close();
      return line;
    }
    return '';
  }
  process.stderr.write(prompt);
  input.setRawMode(true);
  input.resume();
  let password = '';
  return new Promise((resolve) => {
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') {
          input.setRawMode(false);
          input.pause();
          input.off('data', onData);
          process.stderr.write('\n');
          resolve(password);
          return;
        }
        if (ch === '\u0003') process.exit(130); // Ctrl-C
        if (ch === '\u007f') password = password.slice(0, -1);
        else password += ch;
      }
    };
    input.on('data', onData);
  });
}

/** `portlab user add NAME`: a new account, or a new password for an existing one. */
export async function userAdd(config: LabConfig, name: string): Promise<number> {
  const store = new UserStore(config.paths.users);
  await store.ensure();
  const existed = store.find(name) !== undefined;
  const password = await readPassword(`Password for ${name}: `);
  try {
    await store.set(name, password);
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  console.log(
    `${existed ? 'Changed the password of' : 'Added'} ${name}@${config.domain} (stored as a scrypt hash in ${config.paths.users}).`,
  );
  return 0;
}

/** `portlab user list`: every account, its part in a class, its mail address. */
export async function userList(config: LabConfig): Promise<number> {
  const store = new UserStore(config.paths.users);
  await store.ensure();
  const demo = new Set(DEMO_ACCOUNTS.map((a) => a.name));
  const rows = store
    .list()
    .map((u) => [u.name, u.role ?? (demo.has(u.name) ? 'demo' : '-'), `${u.name}@${config.domain}`]);
  console.log(table(['account', 'role', 'mail address'], rows));
  return 0;
}

/** `portlab user remove NAME…`: the accounts go; their mail and files stay on disk (the teacher's to delete). */
export async function userRemove(config: LabConfig, names: string[]): Promise<number> {
  const store = new UserStore(config.paths.users);
  await store.ensure();
  const removed = store.remove(names);
  for (const name of removed) {
    console.log(
      `Removed ${name}: nobody can log in as ${name} now. Its mail and files stay in ${config.paths.mail}/${name} and ${config.paths.files}/${name}.`,
    );
  }
  const unknown = names.filter((n) => !removed.includes(n));
  for (const name of unknown) console.error(`portlab: no account '${name}' ('portlab user list' lists them)`);
  return unknown.length > 0 ? 1 : 0;
}
