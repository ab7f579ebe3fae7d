/**
 * The labs of the class zone, in $DATA/dns/zone.json: one entry per lab, its name (one DNS label,
 * `pc07` for pc07.lab.test), its IPv4 address, and the class account that registered it (null when
 * the teacher listed it: `portlab dns add`). Plain JSON a teacher can read and edit by hand; written
 * whole to a temporary file, then renamed, so a reader never sees half of it.
 *
 * Rules of a registration by a student lab (`register`), checked here once for every way in:
 *  - a lab registers only its own name: the first name an account registers is bound to it, and
 *    the account may then move that name to a new address, never take another one;
 *  - a name bound to another account, or listed by the teacher, is refused;
 *  - the address is the one the request came from, never one the request names (the web route).
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import path from 'node:path';

/** One DNS label (RFC 1035 §2.3.1, lower case): letters, digits and inner hyphens, 63 at most. */
export const LAB_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Names of the zone itself, which no lab may take. */
const RESERVED = new Set(['ns']);

export interface ZoneEntry {
  name: string;
  address: string;
  /** The class account that registered it; null when the teacher listed it. */
  account: string | null;
  /** ISO 8601 time of the last change. */
  updated: string;
}

export interface ZoneFile {
  /** The SOA serial (RFC 1035 §3.3.13): one more at each change, as a zone edited by hand. */
  serial: number;
  entries: ZoneEntry[];
}

/** A registration refused, with the reason said to the student. */
export class RegistrationError extends Error {
  constructor(
    message: string,
    /** 403: not yours to take; 400: not a name or address at all. */
    readonly status: 400 | 403,
  ) {
    super(message);
    this.name = 'RegistrationError';
  }
}

export function zoneFile(dnsDir: string): string {
  return path.join(dnsDir, 'zone.json');
}

/** Throws a RegistrationError (400) unless `name` can be a lab's name and `address` an IPv4 address. */
export function checkEntry(name: string, address: string): void {
  if (!LAB_NAME.test(name) || RESERVED.has(name)) {
    throw new RegistrationError(
      `'${name}' cannot be a lab's name: one label of lower-case letters, digits and inner hyphens, such as pc07${RESERVED.has(name) ? ` ('${name}' is the zone's own)` : ''}`,
      400,
    );
  }
  if (!isIPv4(address)) {
    throw new RegistrationError(`'${address}' is not an IPv4 address such as 192.168.1.57`, 400);
  }
}

export class ZoneRegistry {
  readonly file: string;

  constructor(readonly dnsDir: string) {
    this.file = zoneFile(dnsDir);
  }

  /** The zone as stored; an empty zone when there is no file yet. A broken file is an error that names it. */
  read(): ZoneFile {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { serial: 1, entries: [] };
      throw err;
    }
    let zone: ZoneFile;
    try {
      zone = JSON.parse(text) as ZoneFile;
    } catch (err) {
      throw new Error(`${this.file} is not valid JSON (${(err as Error).message}): fix or remove it`);
    }
    if (!Array.isArray(zone.entries)) throw new Error(`${this.file}: "entries" must be a list`);
    for (const e of zone.entries) checkEntry(String(e.name), String(e.address));
    return { serial: Number.isInteger(zone.serial) ? zone.serial : 1, entries: zone.entries };
  }

  list(): ZoneEntry[] {
    return this.read().entries;
  }

  /** The teacher lists a lab (`portlab dns add pc07 192.168.1.57`): any name, any address. */
  add(name: string, address: string): ZoneEntry {
    checkEntry(name, address);
    return this.change((entries) => {
      const entry: ZoneEntry = { name, address, account: null, updated: new Date().toISOString() };
      return [...entries.filter((e) => e.name !== name), entry];
    }, name);
  }

  /** Removes names; resolves with those that were there. */
  remove(names: string[]): string[] {
    const removed: string[] = [];
    this.change((entries) =>
      entries.filter((e) => {
        if (!names.includes(e.name)) return true;
        removed.push(e.name);
        return false;
      }),
    );
    return removed;
  }

  /**
   * A student lab registers `name` at `address` (its request's source address) as `account`,
   * already authenticated. Refused (RegistrationError, 403) when the name is another's or the
   * account already holds another name.
   */
  register(account: string, name: string, address: string): ZoneEntry {
    checkEntry(name, address);
    return this.change((entries) => {
      const held = entries.find((e) => e.account === account);
      if (held && held.name !== name) {
        throw new RegistrationError(
          `the account ${account} already registered the lab '${held.name}': a lab registers only its own name (the teacher can free it: portlab dns remove ${held.name})`,
          403,
        );
      }
      const taken = entries.find((e) => e.name === name);
      if (taken && taken.account !== account) {
        throw new RegistrationError(
          taken.account === null
            ? `'${name}' is listed by the teacher: ask them, or register another name`
            : `'${name}' is another lab's name (registered by another account): register your own`,
          403,
        );
      }
      const entry: ZoneEntry = { name, address, account, updated: new Date().toISOString() };
      return [...entries.filter((e) => e.name !== name), entry];
    }, name);
  }

  /**
   * Read, change, write: synchronous from the read to the rename, so two registrations in this
   * process never interleave. (The CLI, another process, edits while the lab runs: one teacher's
   * command against registrations a few a minute; the later rename wins.)
   */
  private change(edit: (entries: ZoneEntry[]) => ZoneEntry[]): void;
  private change(edit: (entries: ZoneEntry[]) => ZoneEntry[], name: string): ZoneEntry;
  private change(edit: (entries: ZoneEntry[]) => ZoneEntry[], name?: string): ZoneEntry | undefined {
    const zone = this.read();
    const entries = edit(zone.entries).sort((a, b) => a.name.localeCompare(b.name));
    const next: ZoneFile = { serial: zone.serial + 1, entries };
    mkdirSync(this.dnsDir, { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(next, null, 2)}\n`);
    renameSync(tmp, this.file);
    return name === undefined ? undefined : entries.find((e) => e.name === name);
  }
}
