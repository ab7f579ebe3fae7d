// Names for connections that students can read. A session id ("a3f9c1.2b") means nothing to a
// class; "127.0.0.1:53422 → IMAP 8143" says who connected to what, and "Thunderbird 115 → IMAP 8143"
// says it better when the client named itself. Clients name themselves in the protocol:
//   SMTP  EHLO/HELO its host name (RFC 5321 §4.1.1.1), LMTP LHLO (RFC 2033 §4.1);
//   IMAP  ID ("name" "Thunderbird" "version" "115.0") (RFC 2971 §3.1);
//   FTP   CLNT FileZilla (draft-ietf-ftpext-clnt, sent by FileZilla and others);
//   HTTP  the User-Agent header (RFC 9110 §10.1.5): the web app puts it in the request line's
//         `data.agent` (apps/web/src/server.ts), since the transcript line is the request line only.
// POP3 has no such command: its connections keep their address. Pure model: tests run it in Node.

/** Sessions named at most: the oldest are forgotten first, as the store forgets old events. */
const MAX_SESSIONS = 2000;
/** A name longer than this is cut: it is a label on a line, not a document. */
const MAX_NAME = 40;

const HELLO = /^(?:EHLO|HELO|LHLO) +(\S+)/i;
const IMAP_ID = /^\S+ +ID +\((.*)\)\s*$/i;
const IMAP_ID_NAME = /"name"\s+"((?:[^"\\]|\\.)*)"(?:.*?"version"\s+"((?:[^"\\]|\\.)*)")?/i;
const CLNT = /^CLNT +(.+)$/i;

/** A browser's or a tool's short name from a User-Agent: "Firefox 128", "curl 8.5.0". */
export function shortAgent(agent) {
  const text = String(agent ?? '').trim();
  if (!text) return '';
  // Browsers name several engines for old sites' sake: the last meaningful one is the browser.
  for (const [token, name] of [
    ['Edg', 'Edge'],
    ['OPR', 'Opera'],
    ['Firefox', 'Firefox'],
    ['Chrome', 'Chrome'],
    ['Chromium', 'Chromium'],
    ['Version', 'Safari'],
  ]) {
    // No word boundary: "HeadlessChrome/120" (a test's Chromium) is Chrome too.
    const match = new RegExp(`${token}/(\\d+)`).exec(text);
    if (match) return `${name} ${match[1]}`;
  }
  const [product] = text.split(/\s+/);
  return product.replace('/', ' ');
}

/** The name a client gave itself on one of its lines, or '' when the line names none. */
export function clientNameIn(event) {
  if (event.type !== 'line' || event.dir !== 'C') return '';
  if (event.data?.agent) return shortAgent(event.data.agent);
  const line = event.line ?? '';
  const hello = HELLO.exec(line);
  if (hello) return hello[1];
  const id = IMAP_ID.exec(line);
  if (id) {
    const name = IMAP_ID_NAME.exec(id[1]);
    if (name) return name[2] ? `${name[1]} ${name[2]}` : name[1];
  }
  const clnt = CLNT.exec(line);
  if (clnt) return clnt[1].trim();
  return '';
}

const cut = (text) => (text.length > MAX_NAME ? `${text.slice(0, MAX_NAME - 1)}…` : text);

export class ConnectionNames {
  constructor() {
    /** session -> { client: "ip:port", server: "SERVICE port" or "service ip:port", name } */
    this.sessions = new Map();
  }

  /** Takes one transcript event (open, line…); returns true if a name changed. */
  apply(event) {
    if (!event.session) return false;
    let known = this.sessions.get(event.session);
    if (!known) {
      known = { client: '', server: '', name: '' };
      this.sessions.set(event.session, known);
      if (this.sessions.size > MAX_SESSIONS) this.sessions.delete(this.sessions.keys().next().value);
    }
    const service = String(event.service ?? '').toUpperCase();
    if (event.type === 'open') {
      known.client = event.from;
      // A peer that dialled out names the machine it reached; a server, its own port.
      known.server = event.role === 'client' ? `${service} ${event.to}` : `${service} ${event.port}`;
      return true;
    }
    if (!known.server && event.type === 'line') {
      // The open event may be older than the events kept: the line still says which port and peer.
      known.client = event.peer ?? '';
      known.server = `${service} ${event.port}`;
    }
    const name = clientNameIn(event);
    if (name && name !== known.name) {
      known.name = cut(name);
      return true;
    }
    return false;
  }

  /** "Thunderbird 115 (127.0.0.1:53422) → IMAP 8143", "127.0.0.1:53422 → IMAP 8143", or the id. */
  nameOf(session) {
    const known = this.sessions.get(session);
    if (!known?.server) return session ?? '';
    const client = known.name ? `${known.name} (${known.client})` : known.client;
    return `${client} → ${known.server}`;
  }

  /** The short form for a column: the client's name, or its address. */
  clientOf(session) {
    const known = this.sessions.get(session);
    return known?.name || known?.client || session || '';
  }
}
