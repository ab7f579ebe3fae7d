/**
 * The password of `portlab check --server`: from PORTLAB_PASSWORD if set, else typed at the terminal
 * without echo (as ssh and sudo ask), else the first line of stdin (`echo "$PW" | portlab check …`,
 * a script). Never an option on the command line, where `ps` and the shell history would show it.
 */
export async function askPassword(
  prompt: string,
  env: NodeJS.ProcessEnv = process.env,
  stdin: NodeJS.ReadStream = process.stdin,
): Promise<string> {
  if (env.PORTLAB_PASSWORD) return env.PORTLAB_PASSWORD;
  if (stdin.isTTY) return typed(prompt, stdin);
  return firstLine(stdin);
}

/** Reads raw keys until Enter, echoing nothing; Backspace erases, Ctrl-C and Ctrl-D stop. */
function typed(prompt: string, stdin: NodeJS.ReadStream): Promise<string> {
  process.stderr.write(prompt);
  stdin.setRawMode(true);
  stdin.setEncoding('utf8');
  stdin.resume();
  let password = '';
  return new Promise((resolve, reject) => {
    const done = (err: Error | null) => {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      stdin.pause();
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(password);
    };
    const onData = (keys: string) => {
      for (const key of keys) {
        if (key === '\r' || key === '\n') return done(null);
        if (key === '\u0003' || key === '\u0004') return done(new Error('no password typed'));
        if (key === '\u007f' || key === '\b') password = password.slice(0, -1);
        else if (key >= ' ') password += key;
      }
    };
    stdin.on('data', onData);
  });
}

/** How long a piped stdin may take to give its first line. */
const STDIN_WAIT_MS = 30_000;

/** The first line of a piped stdin (without its CR LF or LF). */
function firstLine(stdin: NodeJS.ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    // A pipe nobody writes to (a script that forgot the password) must not wait forever.
    const timer = setTimeout(() => {
      text = '';
      finish();
    }, STDIN_WAIT_MS);
    const finish = () => {
      clearTimeout(timer);
      stdin.off('data', onData);
      stdin.off('end', finish);
      stdin.pause();
      const line = text.split('\n', 1)[0]!.replace(/\r$/, '');
      if (line === '')
        reject(
          new Error(
            'no password on stdin: give it as its first line, or set PORTLAB_PASSWORD (or run at a terminal, which asks)',
          ),
        );
      else resolve(line);
    };
    const onData = (chunk: Buffer) => {
      text += chunk.toString('utf8');
      if (text.includes('\n')) finish();
    };
    stdin.on('data', onData);
    stdin.once('end', finish);
    stdin.resume();
  });
}
