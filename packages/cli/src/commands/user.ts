import { createInterface } from 'node:readline';
import { type LabConfig, UserStore } from '@portlab/config';

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
