import { randomBytes, scrypt as scryptCb, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { AuthCache } from './auth-cache.js';

const scrypt = promisify(scryptCb) as (
  pw: string,
  salt: Buffer,
  len: number,
  opts: object,
) => Promise<Buffer>;

/**
 * Accounts live in $DATA/users.json as scrypt hashes, never in clear. scrypt (RFC 7914) is slow and
 * memory-hard on purpose: a stolen users.json does not give the passwords back quickly.
 * Stored form: scrypt$N$r$p$salt$hash (base64), so the cost can be raised later per account.
 */
const SCRYPT = { N: 16384, r: 8, p: 1, keyLength: 32 };

/** The demo accounts made on first start (docs/architecture.md, "Data"). Known passwords: loopback only. */
export const DEMO_ACCOUNTS: readonly { name: string; password: string }[] = [
  { name: 'alice', password: 'wonderland' },
  { name: 'bob', password: 'builder' },
];

/** A user name is also a mailbox name and a folder name: keep it to safe characters. */
export const USER_NAME = /^[a-z][a-z0-9._-]{0,31}$/;

/**
 * The account a login names, as `authenticate` reads it: "Zoe" and "zoe@lab.test" are zoe; a name in
 * another domain, or one no account could have, names none (null). The transcripts say whose a login
 * try was with it, failed tries too: a wrong password typed for zoe is still zoe's secret.
 */
export function accountName(login: string, domain?: string): string | null {
  const [local, at, ...more] = login.toLowerCase().split('@');
  if (!local || !USER_NAME.test(local) || more.length > 0) return null;
  if (at !== undefined && domain !== undefined && at !== domain) return null;
  return local;
}

/** A class account's part: `portlab class create` makes students and one teacher; demo and `user add` accounts have none. */
export type Role = 'student' | 'teacher';

export interface UserRecord {
  name: string;
  hash: string;
  role?: Role;
}

/** An account to add or change: its password in clear, hashed before it is stored. */
export interface NewAccount {
  name: string;
  password: string;
  role?: Role;
}

/** Throws, saying why, if `name` cannot be an account or `password` is too short. */
export function checkAccount(name: string, password: string): void {
  if (!USER_NAME.test(name)) {
    throw new Error(
      `invalid user name '${name}': use a lower-case letter, then letters, digits, '.', '_' or '-'`,
    );
  }
  if (password.length < 4) throw new Error('password too short: use 4 characters or more');
}

interface UsersFile {
  users: UserRecord[];
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const { N, r, p, keyLength } = SCRYPT;
  const key = await scrypt(password, salt, keyLength, { N, r, p });
  return `scrypt$${N}$${r}$${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Checks a password against a stored hash: `verifyPassword` here, or another process's (an app asks `portlab up`). */
export type PasswordVerifier = (password: string, storedHash: string) => Promise<boolean>;

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await scrypt(password, Buffer.from(salt, 'base64'), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return timingSafeEqual(key, expected);
}

/** The accounts of one lab, read from users.json (re-read when `portlab user add` changed it). */
export class UserStore {
  /** Right logins of late (auth-cache.ts): a class's clients log in again and again. */
  private readonly cache = new AuthCache();

  /**
   * `verify` does the scrypt check when the cache cannot answer. Under `portlab up` the apps pass
   * one that asks the supervisor (packages/service auth-client.ts), so that mail, files and web
   * share one cache and a student's first logins cost one hash, not one per process.
   */
  constructor(
    readonly file: string,
    private readonly verify: PasswordVerifier = verifyPassword,
  ) {}

  /** Creates users.json with the demo accounts if it does not exist yet. Returns true if it did. */
  async ensure(): Promise<boolean> {
    try {
      this.read();
      return false;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const users = await Promise.all(
      DEMO_ACCOUNTS.map(async ({ name, password }) => ({ name, hash: await hashPassword(password) })),
    );
    this.write({ users });
    return true;
  }

  list(): UserRecord[] {
    return this.read().users;
  }

  /** The class's students (accounts made by `portlab class create`), in the order they were made. */
  students(): string[] {
    return this.list()
      .filter((u) => u.role === 'student')
      .map((u) => u.name);
  }

  find(name: string): UserRecord | undefined {
    return this.list().find((u) => u.name === name);
  }

  /** Checks a login. Accepts "alice" and "alice@lab.test" alike: mail clients send either. */
  async authenticate(login: string, password: string, domain?: string): Promise<string | null> {
    const local = accountName(login, domain);
    if (local === null) return null;
    const user = this.find(local);
    // Verify against a dummy hash when the user does not exist, so the reply time does not tell.
    const ok = await this.cache.verify(password, user?.hash ?? DUMMY_HASH, this.verify);
    return ok && user ? user.name : null;
  }

  /** Adds an account or sets a new password for an existing one; an existing account keeps its role. */
  async set(name: string, password: string, role?: Role): Promise<void> {
    await this.setMany([{ name, password, ...(role ? { role } : {}) }]);
  }

  /**
   * Adds or changes many accounts at once (`portlab class create`): every name and password is
   * checked before anything is written, the scrypt hashes are computed in parallel (scrypt runs on
   * libuv's thread pool, so 30 accounts take about the time of a few), and users.json is written once.
   * An account given no role keeps the one it had.
   */
  async setMany(accounts: readonly NewAccount[]): Promise<void> {
    const seen = new Set<string>();
    for (const { name, password } of accounts) {
      checkAccount(name, password);
      if (seen.has(name)) throw new Error(`user name '${name}' given twice`);
      seen.add(name);
    }
    const hashes = await Promise.all(accounts.map(({ password }) => hashPassword(password)));
    // Read after hashing: users.json as it is now, not as it was before the wait.
    const users = this.read().users;
    accounts.forEach(({ name, role }, i) => {
      const old = users.findIndex((u) => u.name === name);
      const kept = role ?? (old >= 0 ? users[old]!.role : undefined);
      const record: UserRecord = { name, hash: hashes[i]!, ...(kept ? { role: kept } : {}) };
      if (old >= 0) users[old] = record;
      else users.push(record);
    });
    this.write({ users });
  }

  /** Removes these accounts (their data stays: see `portlab class`); returns the names that existed. */
  remove(names: readonly string[]): string[] {
    const gone = new Set(names);
    const users = this.read().users;
    const removed = users.filter((u) => gone.has(u.name)).map((u) => u.name);
    if (removed.length > 0) this.write({ users: users.filter((u) => !gone.has(u.name)) });
    return removed;
  }

  /** Names of accounts that still have their published demo password. */
  async withDemoPasswords(): Promise<string[]> {
    const names: string[] = [];
    for (const { name, password } of DEMO_ACCOUNTS) {
      const user = this.find(name);
      if (user && (await verifyPassword(password, user.hash))) names.push(name);
    }
    return names;
  }

  private read(): UsersFile {
    const data = JSON.parse(readFileSync(this.file, 'utf8')) as UsersFile;
    if (!Array.isArray(data.users)) throw new Error(`${this.file}: expected {"users": [...]}`);
    return data;
  }

  /** Write then rename: a crash never leaves a half-written users.json. */
  private write(data: UsersFile): void {
    mkdirSync(path.dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(data, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, this.file);
  }
}

const DUMMY_HASH = `scrypt$16384$8$1$${Buffer.alloc(16).toString('base64')}$${Buffer.alloc(32).toString('base64')}`;
