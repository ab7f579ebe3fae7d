import { hostname } from 'node:os';

/**
 * Unique Maildir file names, as Dovecot makes them: `<seconds>.M<microseconds>P<pid>Q<count>.<host>`
 * (https://cr.yp.to/proto/maildir.html, "How a message is delivered"), then `,S=<size>` so a
 * reader knows the size without a stat (Dovecot and Courier do the same). The time first means
 * sorting the names sorts the messages by delivery.
 */

// The Maildir spec: '/' and ':' may not appear in the host part; they are written as octal escapes.
const host = hostname().replace(/\//g, '\\057').replace(/:/g, '\\072');
let deliveries = 0;

export function uniqueName(size: number): string {
  // Microseconds since the epoch from the monotonic clock: the names of one process never go back.
  const now = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const seconds = Math.floor(now / 1e6);
  const micros = String(now % 1e6).padStart(6, '0');
  return `${seconds}.M${micros}P${process.pid}Q${++deliveries}.${host},S=${size}`;
}

/**
 * Delivery order of two unique names: by time, then by the process's delivery count (two
 * deliveries in the same microsecond). Names of other tools sort after, by plain comparison.
 */
export function compareNames(a: string, b: string): number {
  const [x, y] = [ORDER.exec(a), ORDER.exec(b)];
  if (!x || !y) return x ? -1 : y ? 1 : a < b ? -1 : a > b ? 1 : 0;
  for (const i of [1, 2, 3]) {
    const d = Number(x[i]) - Number(y[i]);
    if (d !== 0) return d;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

const ORDER = /^(\d+)\.M(\d+)P\d+Q(\d+)\./;

/** The size recorded in a unique name, or undefined for names written by other tools without `,S=`. */
export function sizeOfName(id: string): number | undefined {
  const match = /,S=(\d+)/.exec(id);
  return match ? Number(match[1]) : undefined;
}
