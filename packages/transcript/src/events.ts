/**
 * What a transcript holds. Every server reports each exchange as a `line` event (docs/architecture.md,
 * "Transcripts"), and each TCP connection as an `open` and a `close` event naming both endpoints
 * and which side connected: enough to draw who talks to whom, on which port.
 */

/** C: the client said it; S: the server said it. */
export type Direction = 'C' | 'S';

/**
 * credentials: the line carries a password or an AUTH exchange (plain text on the wire, for a lesson);
 * tls: the session switched to TLS after this line; data: a data connection (FTP) opened or closed;
 * truncated: the line was cut; summary: the line stands for a larger payload (a message body, a literal).
 */
export type Flag = 'credentials' | 'tls' | 'data' | 'truncated' | 'summary';

interface Base {
  /** ISO 8601 time, milliseconds. */
  ts: string;
  service: string;
  /** The server's port this event belongs to. */
  port: number;
}

/**
 * What a line says, for programs: the text is for people, and a viewer that parsed it would break
 * the day a word changed. Flat and small (the BitTorrent peer writes `{ event: 'piece', torrent,
 * piece, from, bytes }`); each service documents its own keys.
 */
export type LineData = Readonly<Record<string, string | number | boolean>>;

export interface LineEvent extends Base {
  type: 'line';
  /**
   * "<process tag>.<n>": the tag is the same for every session of one process and differs between
   * processes, so a viewer can tell which process wrote what (the dashboard's graph relies on it).
   */
  session: string;
  /** The remote end, "ip:port". */
  peer: string;
  dir: Direction;
  line: string;
  flags?: Flag[];
  /** The same fact, machine-readable, when the service gives it (absent on most lines). */
  data?: LineData;
}

export interface ConnectionEvent extends Base {
  type: 'open' | 'close';
  session: string;
  peer: string;
  /** The side that connected (the client), "ip:port". */
  from: string;
  /** The side that listened (the server), "ip:port". */
  to: string;
  /** Whether this process listened (an accepted connection) or connected out (a peer dialling another). */
  role: 'server' | 'client';
  /** The machine ("ip:port") that wrote the event, when one process plays several (see TranscriptOptions). */
  node?: string;
  flags?: Flag[];
}

/** A service started or stopped listening: how the dashboard greys out a stopped server. */
export interface ServiceEvent extends Base {
  type: 'service';
  state: 'listening' | 'stopped' | 'failed';
  message?: string;
}

/**
 * A session tried to log in (SMTP AUTH, IMAP LOGIN/AUTHENTICATE, POP3 USER/PASS or AUTH, FTP USER/PASS):
 * as which account, and whether the password was right. Written when the server checks the password,
 * so it comes after the credentials lines of that try, in the same session: a viewer tells from it
 * whose secret those lines are (the web app shows a student their own password and masks the others).
 * The chat server also writes one, `ok`, when a connection's first request with an access token acts
 * for its account (no password then): what the session says from there on is that account's.
 */
export interface LoginEvent extends Base {
  type: 'login';
  session: string;
  peer: string;
  /** The account the login names ("Zoe@lab.test" is zoe); null when it names none of this lab's. */
  user: string | null;
  ok: boolean;
  /** Absent for a password; 'access-token': a request's bearer token acted for the account. */
  via?: 'access-token';
}

export type TranscriptEvent = LineEvent | ConnectionEvent | ServiceEvent | LoginEvent;

/**
 * An address as people write it: an IPv4 client seen through an IPv6 socket (RFC 4291 §2.5.5.2,
 * "::ffff:127.0.0.1") is named by its IPv4 address.
 */
export function plainAddress(address: string | undefined, unknown = ''): string {
  return (address ?? unknown).replace(/^::ffff:/, '');
}

export function endpoint(address: string | undefined, port: number | undefined): string {
  const host = plainAddress(address, '?');
  return host.includes(':') ? `[${host}]:${port ?? '?'}` : `${host}:${port ?? '?'}`;
}

/** The address of an endpoint as `endpoint` writes it: "10.0.0.7:40000" -> 10.0.0.7, "[::1]:40000" -> ::1. */
export function hostOfEndpoint(peer: string): string {
  const colon = peer.lastIndexOf(':');
  const host = colon < 0 ? peer : peer.slice(0, colon);
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
