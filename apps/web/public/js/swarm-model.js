// What the swarm section knows, from the `data` of transcript lines (never from their text):
// the BitTorrent peers write `{ event, torrent, … }` (packages/bittorrent/src/torrent.ts, Torrent.data)
// and the FTP server `{ event: 'command', verb, arg?, offset? }`, `{ event: 'reply', code }`
// (apps/files/src/line-data.ts) and `{ event: 'data-close', sent, ms }` (apps/files/src/data-log.ts).
// Every update is keyed (a piece by its index, a peer by its address), so an event seen twice
// changes nothing.

/** Downloads kept at most: the oldest is forgotten first. */
const MAX_DOWNLOADS = 20;
/** Joins and departures kept per download. */
const MAX_MOVES = 40;
/**
 * A download with no event for this long is shown as stopped, not live: its process may have been
 * killed (`kill %1`, Ctrl-C) without a word, or have no source left. A new event makes it live again.
 */
export const SILENT_MS = 30_000;
/** A finished or stopped download stays among the current ones this long, then joins the past list. */
export const SHOWN_MS = 60_000;
/** FTP commands whose reply comes over a data connection (RFC 959 §4.1.3). */
const TRANSFERS = new Set(['RETR', 'STOR', 'STOU', 'APPE', 'LIST', 'NLST', 'MLSD']);
/** A completion reply, 2xx (RFC 959 §4.2): 226 (or 250) once the file is sent. */
const isDone = (code) => code >= 200 && code < 300;
const FTP_SERVICES = new Set(['ftp', 'ftps']);

const processOf = (session) => session.split('.')[0];
const time = (event) => Date.parse(event.ts);

/** One peer (machine) downloading one torrent: where each piece came from, who came and went. */
class Download {
  constructor(id, torrent, node) {
    this.id = id;
    this.torrent = torrent;
    this.node = node;
    /** piece index -> { from, bytes } */
    this.pieces = new Map();
    /** piece index -> the address that sent a copy whose SHA-1 was wrong */
    this.bad = new Map();
    this.retried = new Set();
    /** address -> { address, letter, pieces, bytes, connected, reason } */
    this.peers = new Map();
    /** Joins and departures, newest last. */
    this.moves = [];
    /** When this peer first spoke of the torrent (its first handshake), and when the last piece came. */
    this.start = null;
    this.end = null;
    /** Pieces the peer says it has (`have` in its lines): right even if the page missed some lines. */
    this.have = 0;
    /** The time of the last event about this download, and its sessions still open. */
    this.last = null;
    this.open = new Set();
    /** When its last connection closed (its process ended, or every source left): null while one is open. */
    this.closedAt = null;
  }

  /** An event of this download's process about it: it is alive at `ts`, through `session`. */
  heard(event, session) {
    this.last = Math.max(this.last ?? 0, time(event));
    if (session) this.open.add(session);
    this.closedAt = null;
  }

  /** One of its connections closed; with none left, the download stops where it is. */
  lost(event) {
    this.open.delete(event.session);
    this.last = Math.max(this.last ?? 0, time(event));
    if (this.open.size === 0) this.closedAt = time(event);
  }

  /** Pieces it has, as its peer counts them (or as the page saw them come, if more). */
  get progress() {
    return Math.max(this.have, this.pieces.size);
  }

  /**
   * 'done' (every piece came), 'stopped' (its connections all closed, or no news for SILENT_MS) or
   * 'live', at `now` (a time of the lab's clock: SwarmModel.now()).
   */
  state(now) {
    if (this.complete) return 'done';
    if (this.closedAt !== null) return 'stopped';
    if (this.last !== null && now - this.last > SILENT_MS) return 'stopped';
    return 'live';
  }

  /** Why it stopped: 'closed' (its connections closed) or 'silent' (no news). */
  get stopReason() {
    return this.closedAt !== null ? 'closed' : 'silent';
  }

  /** When it finished or stopped, or null while live. */
  endedAt(now) {
    const state = this.state(now);
    if (state === 'done') return this.end;
    if (state === 'stopped') return this.closedAt ?? this.last + SILENT_MS;
    return null;
  }

  /** A peer gets the next letter when first seen, and keeps it: A, B, … Z, then AA, AB… */
  peer(address) {
    let peer = this.peers.get(address);
    if (!peer) {
      peer = {
        address,
        letter: letterOf(this.peers.size),
        pieces: 0,
        bytes: 0,
        connected: false,
        reason: '',
      };
      this.peers.set(address, peer);
    }
    return peer;
  }

  move(event, address, joined, reason = '') {
    const peer = this.peer(address);
    if (peer.connected === joined) return;
    peer.connected = joined;
    peer.reason = reason;
    this.moves.push({ id: event.id, ts: event.ts, address, letter: peer.letter, joined, reason });
    if (this.moves.length > MAX_MOVES) this.moves.shift();
  }

  received(event, { piece, from, bytes, have }) {
    if (this.pieces.has(piece)) return;
    this.pieces.set(piece, { from, bytes });
    const peer = this.peer(from);
    peer.pieces++;
    peer.bytes += bytes;
    this.start ??= time(event);
    if (have > this.have) this.have = have;
    // The peer's own count says it is complete, even if this page missed some of its pieces.
    if (this.torrent.pieces && have >= this.torrent.pieces) this.end ??= time(event);
  }

  /**
   * Bytes by kind of source: `web`, from web seeds (BEP 19: HTTP, named "web <url>" by the
   * downloader), and `peers`, from BitTorrent peers. Lab 06 compares them.
   */
  get bytesBySource() {
    let web = 0;
    let peers = 0;
    for (const p of this.peers.values()) {
      if (isWebSeed(p.address)) web += p.bytes;
      else peers += p.bytes;
    }
    return { web, peers };
  }

  /** Sources in the order of their letters: those that sent at least one piece. */
  get sources() {
    return [...this.peers.values()].filter((p) => p.pieces > 0);
  }

  get complete() {
    return this.end !== null;
  }
}

/** A web seed (BEP 19), as the downloader names it in a piece's `from`: "web http://…". */
export function isWebSeed(address) {
  return address.startsWith('web ');
}

export function letterOf(n) {
  const letter = String.fromCharCode(65 + (n % 26));
  return n < 26 ? letter : letterOf(Math.floor(n / 26) - 1) + letter;
}

export class SwarmModel {
  constructor() {
    /** info hash -> { key, name, length, pieceLength, pieces, holders: Set of nodes } */
    this.torrents = new Map();
    /** "torrent node process" -> Download: a new `p2p get` may listen on the port an old one had */
    this.downloads = new Map();
    /** session -> { node, tag, torrent?, peer? }: the machine and process that wrote a session, its peer */
    this.sessions = new Map();
    /** FTP control session -> its transfer under way: { verb, name, start, rest, replied, sent } */
    this.ftpCommands = new Map();
    /** FTP control session -> the byte a REST asked the next RETR to start from. */
    this.ftpRest = new Map();
    /** The last file downloaded with FTP (RETR): { name, bytes, ms, ts, rest, confirmed } */
    this.lastFtp = null;
    /** This browser's clock minus the lab's (at least): events are stamped by the lab's clock. */
    this.offset = null;
    this.version = 0;
  }

  /** Takes a batch of events received at `receivedAt` (this browser's clock). */
  addEvents(batch, receivedAt = Date.now()) {
    let changed = false;
    for (const event of batch) {
      // An event is received after it was written: the smallest gap seen is the clocks' offset
      // (plus the network's delay). The projector's machine may not be on time with the lab's.
      const gap = receivedAt - time(event);
      if (Number.isFinite(gap)) this.offset = Math.min(this.offset ?? gap, gap);
      changed = this.apply(event) || changed;
    }
    if (changed) this.version++;
    return changed;
  }

  /** Now, on the lab's clock, for a download's state. */
  now(browserNow = Date.now()) {
    return browserNow - (this.offset ?? 0);
  }

  /** Takes one transcript event; true if the swarm view changes. */
  apply(event) {
    if (event.type === 'open') {
      // One process may play several peers (`portlab p2p swarm`): its events name the machine.
      const tag = processOf(event.session);
      this.sessions.set(event.session, { node: event.node ?? tag, tag });
      return false;
    }
    if (event.type === 'close' && FTP_SERVICES.has(event.service)) return this.ftpClosed(event);
    if (event.type === 'close') return this.closed(event);
    if (event.type !== 'line') return false;
    if (event.service === 'ftp' || event.service === 'ftps') return this.ftpLine(event);
    if (event.service === 'peer' && event.data?.torrent) return this.peerLine(event, event.data);
    return false;
  }

  session(event) {
    let s = this.sessions.get(event.session);
    if (!s) {
      const tag = processOf(event.session);
      s = { node: tag, tag };
      this.sessions.set(event.session, s);
    }
    return s;
  }

  torrent(data) {
    let t = this.torrents.get(data.torrent);
    if (!t) {
      t = { key: data.torrent, name: '', length: 0, pieceLength: 0, pieces: 0, holders: new Set() };
      this.torrents.set(data.torrent, t);
    }
    if (data.event === 'torrent') Object.assign(t, pick(data, ['name', 'length', 'pieceLength', 'pieces']));
    if (data.pieces && !t.pieces) t.pieces = data.pieces;
    return t;
  }

  /** The download a session's process runs; `create`: start it if there is none. */
  download(torrent, session, create = true) {
    const key = `${torrent.key} ${session.node} ${session.tag}`;
    let d = this.downloads.get(key);
    if (!d && create) {
      d = new Download(key, torrent, session.node);
      this.downloads.set(key, d);
      if (this.downloads.size > MAX_DOWNLOADS) this.downloads.delete(this.downloads.keys().next().value);
    }
    return d;
  }

  peerLine(event, data) {
    const session = this.session(event);
    const torrent = this.torrent(data);
    session.torrent = torrent;
    if (data.event === 'torrent') {
      torrent.holders.add(session.node);
      // A peer that lacks pieces is downloading: its first handshake is the download's start.
      if (data.have < data.pieces) {
        const download = this.download(torrent, session);
        download.start ??= time(event);
        download.have = Math.max(download.have, data.have);
        download.heard(event, event.session);
        // A peer that dialled us named itself before we answered with this line.
        if (session.peer) download.move(event, session.peer, true);
      }
      return true;
    }
    const download = () => this.download(torrent, session);
    // Any line of the downloading process about its torrent: it is alive, through this session.
    this.download(torrent, session, false)?.heard(event, event.session);
    switch (data.event) {
      case 'peer':
        session.peer = data.peer;
        this.download(torrent, session, false)?.move(event, data.peer, true);
        return true;
      case 'peer-gone':
        this.download(torrent, session, false)?.move(event, data.peer, false, data.reason);
        return true;
      case 'piece':
        download().received(event, data);
        download().heard(event, event.session);
        return true;
      case 'bad-piece':
        download().bad.set(data.piece, data.from);
        return true;
      case 're-request':
        download().retried.add(data.piece);
        return true;
      default:
        return false;
    }
  }

  /** A connection closed without a 'peer-gone' line (refused, or the process died): the peer left. */
  closed(event) {
    const session = this.sessions.get(event.session);
    this.sessions.delete(event.session);
    if (!session?.torrent) return false;
    const download = this.download(session.torrent, session, false);
    if (!download) return false;
    if (download.open.has(event.session)) download.lost(event);
    if (session.peer)
      download.move(event, session.peer, false, download.peers.get(session.peer)?.reason ?? '');
    return true;
  }

  /**
   * An FTP download's time runs from its command (RETR) to its last byte, as lab 5's demo prints it
   * (labs/harness/src/p2p/capped-ftp.ts). The server cannot see the last byte arrive: its data
   * connection closes when the last bytes are in its socket buffers, seconds before a client
   * reading at a capped rate has them all (that was the chart's 17.1 s against the terminal's 20.3 s).
   * A client speaks again only once it has every byte (RFC 959 §3.2: the 226 reply, then its next
   * command; curl says QUIT, the demo closes): that word ends the download. Until it comes (FileZilla
   * stays silent), the server's own figure is shown, as a lower bound.
   */
  ftpLine(event) {
    const data = event.data ?? {};
    if (event.dir === 'C') {
      const done = this.ftpAnswered(event);
      if (data.event !== 'command') return done;
      // REST n: the next RETR starts at byte n (RFC 3659 §5), a resumed download.
      if (data.verb === 'REST' && Number.isSafeInteger(data.offset))
        this.ftpRest.set(event.session, data.offset);
      if (TRANSFERS.has(data.verb)) {
        this.ftpCommands.set(event.session, {
          verb: data.verb,
          name: data.arg ?? '',
          start: time(event),
          rest: this.ftpRest.get(event.session) ?? 0,
          replied: false,
          sent: 0,
        });
        this.ftpRest.delete(event.session);
      }
      return done;
    }
    const command = this.ftpCommands.get(event.session);
    if (command?.verb !== 'RETR') return false;
    if (data.event === 'reply' && isDone(data.code)) command.replied = true;
    if (data.event !== 'data-close' || !data.sent) return false;
    command.sent = data.sent;
    // For now, the server's figure: from the command to its data connection's close.
    this.lastFtp = this.ftpRecord(command, time(event), event.ts, false);
    return true;
  }

  /** The client spoke again after the file was sent: it had every byte. */
  ftpAnswered(event) {
    const command = this.ftpCommands.get(event.session);
    if (command?.verb !== 'RETR' || !command.replied || !command.sent) return false;
    this.ftpCommands.delete(event.session);
    this.lastFtp = this.ftpRecord(command, time(event), event.ts, true);
    return true;
  }

  ftpClosed(event) {
    const changed = this.ftpAnswered(event);
    this.ftpCommands.delete(event.session);
    this.ftpRest.delete(event.session);
    return changed;
  }

  ftpRecord(command, end, ts, confirmed) {
    return {
      name: command.name,
      bytes: command.sent,
      ms: end - command.start,
      ts,
      rest: command.rest,
      confirmed,
    };
  }

  /** The downloads to draw, newest first: those that received a piece, or are waiting for one. */
  list() {
    return [...this.downloads.values()].reverse();
  }

  /**
   * The downloads as the page shows them at `now` (the lab's clock): `current`, the live ones and
   * those that finished or stopped less than SHOWN_MS ago; `past`, the others, newest first. A
   * finished download is never left on screen as if it were still going.
   */
  byState(now = this.now()) {
    const current = [];
    const past = [];
    for (const d of this.list()) {
      const ended = d.endedAt(now);
      (ended !== null && now - ended > SHOWN_MS ? past : current).push(d);
    }
    return { current, past };
  }

  /** Torrents seen that nobody downloads yet. */
  idleTorrents() {
    const busy = new Set([...this.downloads.values()].map((d) => d.torrent.key));
    return [...this.torrents.values()].filter((t) => !busy.has(t.key) && t.name);
  }

  /** The lab 5 comparison: the last FTP download and the last complete torrent download. */
  comparison() {
    const done = [...this.downloads.values()].filter((d) => d.complete).sort((a, b) => a.end - b.end);
    const last = done.at(-1);
    const p2p = last && {
      name: last.torrent.name,
      // Every piece came: the whole file, even if this page missed some pieces' lines.
      bytes: last.torrent.length || [...last.pieces].reduce((sum, [, got]) => sum + got.bytes, 0),
      ms: Math.max(last.end - last.start, 1),
      sources: last.sources.length,
    };
    const ftp = this.lastFtp && { ...this.lastFtp, ms: Math.max(this.lastFtp.ms, 1), sources: 1 };
    return { ftp, p2p };
  }
}

/** Every piece is `pieceLength` long but the last (BEP 3). */
export function pieceSize(torrent, index) {
  return Math.min(torrent.pieceLength, torrent.length - index * torrent.pieceLength);
}

function pick(object, keys) {
  return Object.fromEntries(keys.filter((k) => object[k] !== undefined).map((k) => [k, object[k]]));
}
