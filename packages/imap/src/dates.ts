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

/**
 * The day of an INTERNALDATE, as BEFORE / ON / SINCE compare it "disregarding time and timezone"
 * (RFC 3501 §6.4.4): the day FETCH INTERNALDATE shows, which this server writes in UTC.
 */
export function dayOf(date: Date): number {
  return Math.floor(date.getTime() / 86_400_000);
}

/**
 * The day a Date: header names, as SENTBEFORE / SENTON / SENTSINCE compare it "disregarding time
 * and timezone" (RFC 3501 §6.4.4): the day, month and year as the sender wrote them (RFC 5322 §3.3
 * `date = day month year`), never moved to UTC: "Sun, 25 Mar 2007 00:30:00 +0200" is 25 March even
 * though it is still the 24th in UTC. Null when the header holds no such date.
 */
export function sentDayOf(header: string): number | null {
  const m = /(?:^|[\s,])(\d{1,2})\s+([A-Za-z]{3})\s+(\d{2,4})(?=\s|$)/.exec(
    header.replace(/\([^)]*\)/g, ' '),
  );
  if (!m) return null;
  const month = monthIndex(m[2]!);
  if (month === -1) return null;
  return Date.UTC(fullYear(m[3]!), month, Number(m[1])) / 86_400_000;
}

/** RFC 5322 §4.3, obsolete years: two digits below 50 are 20xx, other two or three digits 19xx. */
function fullYear(digits: string): number {
  const year = Number(digits);
  if (digits.length === 2) return year < 50 ? 2000 + year : 1900 + year;
  return digits.length === 3 ? 1900 + year : year;
}

function monthIndex(name: string): number {
  return MONTHS.findIndex((m) => m.toLowerCase() === name.toLowerCase());
}
