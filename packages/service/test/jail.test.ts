import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Jail, JailError, type JailRefusal } from '../src/index.js';

/** A temp folder holding the user's folder (`home`) and, beside it, the rest of the server's disk. */
let base: string;
let home: string;
let outside: string;
let jail: Jail;

beforeAll(async () => {
  base = realpathSync(mkdtempSync(path.join(tmpdir(), 'portlab-jail-')));
  home = path.join(base, 'home');
  outside = path.join(base, 'outside');
  mkdirSync(path.join(home, 'docs'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(home, 'docs', 'a.txt'), 'mine');
  writeFileSync(path.join(outside, 'secret.txt'), 'TOP SECRET');
  symlinkSync(outside, path.join(home, 'evil')); // a folder link pointing out
  symlinkSync(path.join(outside, 'secret.txt'), path.join(home, 'evil.txt')); // a file link pointing out
  symlinkSync(path.join(home, 'docs'), path.join(home, 'alias')); // a link that stays inside
  jail = await Jail.open(home);
});

afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The JailError `promise` is refused with; it fails the test if it resolves or throws anything else. */
async function refusal(promise: Promise<unknown>): Promise<JailError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(JailError);
  return err as JailError;
}

function refused(reason: JailRefusal, run: () => unknown): JailError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(JailError);
    expect((err as JailError).reason).toBe(reason);
    return err as JailError;
  }
  throw new Error('expected a JailError');
}

describe('by name: every path a client sends stays inside', () => {
  it("'..' stops at the top, as `cd ..` in / does", () => {
    expect(Jail.virtual('/', '../../etc/passwd')).toBe('/etc/passwd');
    expect(Jail.virtual('/docs', '..')).toBe('/');
    expect(Jail.virtual('/docs', '../../..')).toBe('/');
    expect(Jail.virtual('/docs', './a.txt')).toBe('/docs/a.txt');
  });

  it('an absolute path starts at the top of the jail, not of the disk', async () => {
    expect(Jail.virtual('/docs', '/etc/passwd')).toBe('/etc/passwd');
    const err = await refusal(jail.existing('/etc/passwd'));
    expect(err.reason).toBe('not-found');
    expect(err.message).toBe('/etc/passwd: no such file or folder');
  });

  it('backslashes count as slashes, and stop at the top too', () => {
    expect(Jail.virtual('/', '..\\..\\etc\\passwd')).toBe('/etc/passwd');
    expect(Jail.virtual('/docs', '..\\docs\\a.txt')).toBe('/docs/a.txt');
  });

  it("with 'refuse', a '..' above the top is an error that names it; one that stays inside is not", () => {
    const err = refused('outside', () => Jail.virtual('/', 'docs/../../x', 'refuse'));
    expect(err.message).toBe('docs/../../x: is outside your folder');
    refused('outside', () => Jail.virtual('/', '/..', 'refuse'));
    refused('outside', () => Jail.virtual('/', '..\\x', 'refuse'));
    expect(Jail.virtual('/', 'docs/../docs/a.txt', 'refuse')).toBe('/docs/a.txt');
  });

  it('a NUL byte is invalid, and is not repeated in the message', async () => {
    const err = refused('invalid', () => Jail.virtual('/', 'a.txt\0.jpg'));
    expect(err.message).toBe('a.txt\\0.jpg: a path cannot hold a NUL byte');
    expect((await refusal(jail.existing('/docs\0'))).reason).toBe('invalid');
  });
});

describe('on disk: symbolic links are followed, and checked', () => {
  it('the top itself is the real path of the folder', async () => {
    expect(jail.root).toBe(home);
    expect(await jail.existing('/')).toBe(home);
  });

  it('a link that points out is refused, naming the user path only', async () => {
    for (const at of ['/evil', '/evil/secret.txt', '/evil.txt', '/docs/../evil']) {
      const err = await refusal(jail.existing(at));
      expect(err.reason, at).toBe('link');
      expect(err.message, at).not.toContain(base);
    }
    expect((await refusal(jail.existing('/evil.txt'))).message).toBe('/evil.txt: leads outside your folder');
  });

  it('a link that stays inside is followed', async () => {
    expect(await jail.existing('/alias/a.txt')).toBe(path.join(home, 'docs', 'a.txt'));
  });

  it('nothing there is not-found, with the system error kept as the cause', async () => {
    const missing = await refusal(jail.existing('/docs/nope.txt'));
    expect(missing.reason).toBe('not-found');
    expect((missing.cause as NodeJS.ErrnoException).code).toBe('ENOENT');
    const throughFile = await refusal(jail.existing('/docs/a.txt/x'));
    expect((throughFile.cause as NodeJS.ErrnoException).code).toBe('ENOTDIR');
  });

  it('opening a folder that does not exist is not-found, and names no server path', async () => {
    const err = await refusal(Jail.open(path.join(base, 'nobody')));
    expect(err.reason).toBe('not-found');
    expect(err.message).not.toContain(base);
  });

  it('a folder opened through a link has its real path as the boundary', async () => {
    symlinkSync(home, path.join(base, 'home-link'));
    const throughLink = await Jail.open(path.join(base, 'home-link'));
    expect(throughLink.root).toBe(home);
    expect(await throughLink.existing('/docs/a.txt')).toBe(path.join(home, 'docs', 'a.txt'));
  });
});

describe('entries to create, rename or delete: the folder is checked, the entry is not followed', () => {
  it('a new entry lives in its checked folder', async () => {
    expect(await jail.entry('/docs/new.txt')).toBe(path.join(home, 'docs', 'new.txt'));
    expect(await jail.entry('alias/new.txt')).toBe(path.join(home, 'docs', 'new.txt'));
  });

  it('a link is the entry itself, never what it points to', async () => {
    expect(await jail.entry('/evil')).toBe(path.join(home, 'evil'));
  });

  it('a not-yet-existing entry whose folder is a link out is refused, and nothing is made', async () => {
    const err = await refusal(jail.entry('/evil/planted.txt'));
    expect(err.reason).toBe('link');
    expect(err.message).toBe('/evil: leads outside your folder');
    expect(existsSync(path.join(outside, 'planted.txt'))).toBe(false);
  });

  it('an entry in a missing folder is not-found', async () => {
    expect((await refusal(jail.entry('/nope/new.txt'))).reason).toBe('not-found');
  });

  it('the top folder itself cannot be an entry (invalid), however it is named', async () => {
    for (const at of ['/', '..', '\\', 'docs/..']) {
      const err = await refusal(jail.entry(at));
      expect(err.reason, at).toBe('invalid');
      expect(err.message, at).toBe('/: your own top folder cannot be changed');
    }
  });
});

describe('the synchronous twins (openSync, existingSync) answer as open and existing do', () => {
  /** The same paths through both: the same real path, or the same refusal with the same message. */
  async function both(at: string): Promise<string> {
    const sync = (() => {
      try {
        return Jail.openSync(home).existingSync(at);
      } catch (err) {
        return err as JailError;
      }
    })();
    const promised = await jail.existing(at).catch((err: JailError) => err);
    if (typeof promised === 'string') {
      expect(sync, at).toBe(promised);
      return promised;
    }
    expect(sync, at).toBeInstanceOf(JailError);
    expect([(sync as JailError).reason, (sync as JailError).message], at).toEqual([
      promised.reason,
      promised.message,
    ]);
    return promised.reason;
  }

  it('follows links that stay inside and refuses links out, traversal, NUL bytes and missing files alike', async () => {
    expect(await both('/')).toBe(home);
    expect(await both('/alias/a.txt')).toBe(path.join(home, 'docs', 'a.txt'));
    expect(await both('/../../docs/a.txt')).toBe(path.join(home, 'docs', 'a.txt'));
    for (const at of ['/evil', '/evil/secret.txt', '/evil.txt', '/docs/../evil'])
      expect(await both(at)).toBe('link');
    expect(await both('/docs/nope.txt')).toBe('not-found');
    expect(await both('/docs/a.txt/x')).toBe('not-found');
    expect(await both('/docs/a\0.txt')).toBe('invalid');
  });

  it('opening a folder that does not exist is not-found, and names no server path', () => {
    let err: unknown;
    try {
      Jail.openSync(path.join(base, 'nobody'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(JailError);
    expect((err as JailError).reason).toBe('not-found');
    expect((err as JailError).message).not.toContain(base);
  });
});
