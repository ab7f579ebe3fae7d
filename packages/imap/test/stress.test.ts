import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ImapLab, message, RawClient, startImapLab } from './helpers.js';

/**
 * Ten sessions on one mailbox at once, as imaptest's stress mode runs them: each STOREs new
 * keywords, marks and EXPUNGEs, APPENDs, polls with NOOP and FETCH. Every line each session
 * receives is checked against what that session was told before (RFC 3501 §7): the protocol
 * holds under any interleaving, so the test checks invariants, never timing.
 */
const SESSIONS = 10;
const COMMANDS_PER_SESSION = 40;
/** Messages 1..SEEDED are never deleted: FETCH 1:* always names some that exist. */
const SEEDED = 6;
const KEYWORDS = 60;

let lab: ImapLab;

beforeAll(async () => {
  lab = await startImapLab();
  const mailbox = await lab.store.mailbox('bob');
  await mailbox.createFolder('Busy');
  const folder = await mailbox.folder('Busy');
  for (let i = 0; i < SEEDED; i++) await folder.append(message(`seed ${i}`), {});
});
afterAll(() => lab.stop());

/** A small seeded generator, so that a failing run can be told apart from the next one. */
function random(seed: number): (n: number) => number {
  let state = seed >>> 0 || 1;
  return (n) => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
}

/** The untagged responses that change what a client knows: FLAGS, EXISTS, EXPUNGE, FETCH. */
const UNTAGGED = /^\* (?:FLAGS \((?<flags>[^)]*)\)|(?<n>\d+) (?<kind>EXISTS|EXPUNGE|FETCH)(?<data>.*))$/;

/** What one client knows of the selected mailbox, and every rule its server broke. */
class ProtocolChecker {
  exists = 0;
  private flags = new Set<string>();
  readonly errors: string[] = [];

  constructor(readonly name: string) {}

  /** Checks one command's answer, line by line, in order. */
  check(command: string, answer: string): void {
    const fail = (line: string, rule: string) =>
      this.errors.push(`${this.name}: ${rule}\n  command: ${command.split('\r\n')[0]}\n  line: ${line}`);
    for (const line of answer.split('\r\n')) {
      const untagged = UNTAGGED.exec(line)?.groups;
      if (!untagged) {
        if (/^[a-z]\d+ /.test(line) && !/^[a-z]\d+ OK/.test(line)) fail(line, 'the command did not end OK');
        continue;
      }
      const n = Number(untagged.n);
      if (untagged.flags !== undefined) {
        this.flags = new Set(untagged.flags.split(' ').filter(Boolean));
      } else if (untagged.kind === 'EXISTS') {
        // §7.3.1: EXISTS reports the size of the mailbox; only EXPUNGE makes it smaller.
        if (n < this.exists) fail(line, `EXISTS went from ${this.exists} to ${n} without EXPUNGE`);
        this.exists = n;
      } else if (untagged.kind === 'EXPUNGE') {
        // §7.4.1: the number is that of a message the client knows.
        if (n < 1 || n > this.exists) fail(line, `EXPUNGE ${n} with ${this.exists} messages`);
        this.exists--;
      } else {
        if (n < 1 || n > this.exists) fail(line, `FETCH ${n} with ${this.exists} messages`);
        const flags = /FLAGS \(([^)]*)\)/.exec(untagged.data!)?.[1] ?? '';
        // §7.2.6: a keyword is in a FLAGS response before a FETCH shows it.
        for (const flag of flags.split(' '))
          if (flag && !flag.startsWith('\\') && !this.flags.has(flag))
            fail(line, `keyword ${flag} used before a FLAGS response listed it`);
      }
    }
  }
}

async function session(index: number, seed: number): Promise<ProtocolChecker> {
  const checker = new ProtocolChecker(`session ${index} (seed ${seed})`);
  const pick = random(seed);
  const client = await RawClient.connect(lab.port);
  let tag = 0;
  const run = async (command: string) => {
    const t = `${String.fromCharCode(97 + index)}${++tag}`;
    checker.check(command, await client.command(t, command, 30_000));
  };
  await run('LOGIN bob builder');
  await run('SELECT Busy');
  for (let i = 0; i < COMMANDS_PER_SESSION; i++) {
    const someMessage = 1 + pick(Math.max(checker.exists, 1));
    const keyword = `kw${pick(KEYWORDS)}`;
    switch (pick(6)) {
      case 0:
      case 1:
        await run(`STORE ${someMessage} +FLAGS (${keyword})`);
        break;
      case 2:
        if (checker.exists > SEEDED) {
          await run(`STORE ${SEEDED + 1 + pick(checker.exists - SEEDED)} +FLAGS (\\Deleted)`);
          await run('EXPUNGE');
        }
        break;
      case 3: {
        const bytes = message(`from session ${index}`).toString('latin1');
        await run(`APPEND Busy (${keyword}) {${bytes.length}+}\r\n${bytes}`);
        break;
      }
      case 4:
        await run('NOOP');
        break;
      default:
        await run('FETCH 1:* (UID FLAGS)');
    }
  }
  await run('LOGOUT');
  client.close();
  return checker;
}

describe('ten sessions at once on one mailbox (as imaptest --clients 10)', () => {
  it('keep every protocol invariant in every session: keywords announced, numbers in range, all OK', async () => {
    const base = Date.now();
    const checkers = await Promise.all(Array.from({ length: SESSIONS }, (_, i) => session(i, base + i)));
    expect(checkers.flatMap((c) => c.errors)).toEqual([]);
  }, 120_000);
});
