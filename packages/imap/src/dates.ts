/**
 * IMAP's date formats (RFC 3501 §9): `date-time` for INTERNALDATE and APPEND,
 * "17-Jul-1996 02:44:25 -0700"; `date` for SEARCH, "1-Feb-1994".
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** INTERNALDATE, in UTC. */
export function formatDateTime(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, ' ');
  return `${day}-${MONTHS[date.getUTCMonth()]}-${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

/** APPEND's date-time; null if it is not one. */
export function parseDateTime(text: string): Date | null {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(text);
  if (!m) return null;
  const month = monthIndex(m[2]!);
  if (month === -1) return null;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const offset = (Number(m[8]) * 60 + Number(m[9])) * (m[7] === '-' ? -1 : 1);
  return new Date(utc - offset * 60_000);
}

/** SEARCH's date, as a day number (days since 1970-01-01); null if it is not one. */
export function parseSearchDate(text: string): number | null {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!m) return null;
  const month = monthIndex(m[2]!);
  return month === -1 ? null : Date.UTC(Number(m[3]), month, Number(m[1])) / 86_400_000;
}

/** The day of a date, as SEARCH compares them: "disregarding time and timezone" (RFC 3501 §6.4.4). */
export function dayOf(date: Date): number {
  return Math.floor(date.getTime() / 86_400_000);
}

function monthIndex(name: string): number {
  return MONTHS.findIndex((m) => m.toLowerCase() === name.toLowerCase());
}
