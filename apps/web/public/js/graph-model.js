// Who is connected to whom, from the transcript's `open` and `close` events. Each event names both
// ends of a TCP connection: `from` (the side that connected) and `to` (the side that listened), and
// `role`, whether the process that wrote it accepted the connection (server) or dialled it (client).
//
// A node is a process when that process writes transcripts (a lab server, a BitTorrent peer): its
// session ids start with a tag of their own process (packages/transcript/src/transcript.ts), so
// the accepting side and the dialling side of the same connection can be told apart even on one
// machine. Any other client (curl, a browser, Thunderbird) is a node per connection, its "ip:port".
// A process that accepts connections and also dials others both listens and connects: a peer.

/** Connections kept at most: a process killed without closing its sessions must not fill memory. */
const MAX_CONNECTIONS = 500;

const processOf = (session) => session.split('.')[0];

export class ConnectionGraph {
  constructor() {
    /** "from>to" -> { from, to, port, service, listener?, dialer? } */
    this.connections = new Map();
    /** listening "ip:port" -> { tag, service }: which process listens there. */
    this.listeners = new Map();
    /** Bumped on each change, so a view redraws only when something moved. */
    this.version = 0;
  }

  /** Takes one transcript event; returns true if the graph changed. */
  apply(event) {
    if (event.type === 'service') {
      if (event.state === 'listening') return false;
      // A stopped server's connections are cut: even if its process wrote no `close` for them.
      this.forget((c) => c.service === event.service && c.port === event.port);
      return true;
    }
    if (event.type !== 'open' && event.type !== 'close') return false;
    const key = `${event.from}>${event.to}`;
    if (event.type === 'close') {
      if (!this.connections.delete(key)) return false;
      this.version++;
      return true;
    }
    // One process may play several machines (the peers of `portlab p2p swarm`): they say which.
    const tag = event.node ?? processOf(event.session);
    const connection = this.connections.get(key) ?? {
      from: event.from,
      to: event.to,
      port: event.port,
      service: event.service,
    };
    if (event.role === 'server') {
      // One process listens on a port at a time: a new one there means the old one is gone.
      const before = this.listeners.get(event.to);
      if (before && before.tag !== tag) this.forget((c) => c.to === event.to && c.listener === before.tag);
      connection.listener = tag;
      this.listeners.set(event.to, { tag, service: event.service });
    } else {
      connection.dialer = tag;
    }
    this.connections.delete(key); // re-inserted last: the Map keeps the newest at the end
    this.connections.set(key, connection);
    if (this.connections.size > MAX_CONNECTIONS)
      this.connections.delete(this.connections.keys().next().value);
    this.version++;
    return true;
  }

  forget(matches) {
    for (const [key, c] of this.connections) if (matches(c)) this.connections.delete(key);
    this.version++;
  }

  /** Drops the connections of services the lab says are not listening (their app may have died). */
  dropStopped(services) {
    const stopped = new Set(services.filter((s) => !s.listening).map((s) => s.name));
    this.forget((c) => stopped.has(c.service));
    for (const [address, l] of this.listeners) {
      if (stopped.has(l.service)) this.listeners.delete(address);
    }
  }

  /**
   * Nodes and arrows to draw. Arrows between the same two nodes on the same port are one arrow
   * with a count. `maxClients` caps the plain client nodes drawn (the rest are counted).
   */
  view(maxClients = 24) {
    const nodes = new Map();
    const node = (id, kind, label) => {
      if (!nodes.has(id)) nodes.set(id, { id, kind, label, services: new Set(), in: 0, out: 0 });
      return nodes.get(id);
    };
    // Every process known to listen somewhere is drawn, even with no connection now.
    for (const [address, { tag, service }] of this.listeners) {
      node(`p:${tag}`, 'process', tag).services.add(`${service} ${address.slice(address.lastIndexOf(':'))}`);
    }
    const edges = new Map();
    let clients = 0;
    let hiddenClients = 0;
    for (const c of this.connections.values()) {
      const listenerTag = c.listener ?? this.listeners.get(c.to)?.tag;
      const to = listenerTag
        ? node(`p:${listenerTag}`, 'process', listenerTag)
        : node(`e:${c.to}`, 'endpoint', c.to);
      let from;
      if (c.dialer) {
        from = node(`p:${c.dialer}`, 'process', c.dialer);
      } else if (clients < maxClients) {
        clients++;
        from = node(`e:${c.from}`, 'endpoint', c.from);
      } else {
        hiddenClients++;
        continue;
      }
      const key = `${from.id}>${to.id}>${c.port}`;
      const edge = edges.get(key) ?? {
        key,
        from: from.id,
        to: to.id,
        port: c.port,
        service: c.service,
        count: 0,
      };
      edge.count++;
      edges.set(key, edge);
    }
    for (const e of edges.values()) {
      nodes.get(e.from).out++;
      nodes.get(e.to).in++;
    }
    // A node that both accepted and dialled connections is a peer: with two or more, it is a mesh.
    const peers = [...nodes.values()].filter((n) => n.in > 0 && n.out > 0).length;
    return { nodes: [...nodes.values()], edges: [...edges.values()], hiddenClients, peers };
  }
}

/**
 * The shape of what `view()` gives to draw, for the caption under the graph: the caption must say
 * what the students see. Connections that all touch one node draw a star around it (a server and
 * its clients; one downloader dialling its sources); several such groups apart from each other
 * draw several stars (two servers, each with its clients); anything else, where connections join
 * nodes without all going through one, draws a mesh. A pair of nodes counts as a star of one.
 *
 * Returns { kind: 'none' | 'star' | 'stars' | 'mesh', groups, hub?, leaves?, hubListens?, peers }:
 * `groups` the connected groups drawn, `hub` the node every connection touches (a star), `leaves` the
 * other nodes of the star, `hubListens` whether every connection goes to the hub (a server that
 * listens) rather than some from it; `peers` the nodes that both listen and connect.
 */
export function shapeOf(view) {
  const { edges } = view;
  const peers = view.peers ?? 0;
  if (edges.length === 0) return { kind: 'none', groups: 0, peers };
  // Groups of nodes joined by connections (union-find over the edges).
  const parent = new Map();
  const find = (id) => {
    while (parent.get(id) !== id) id = parent.get(id);
    return id;
  };
  for (const e of edges) {
    for (const id of [e.from, e.to]) if (!parent.has(id)) parent.set(id, id);
    parent.set(find(e.from), find(e.to));
  }
  const groups = new Map();
  for (const e of edges) {
    const root = find(e.from);
    if (!groups.has(root)) groups.set(root, []);
    groups.get(root).push(e);
  }
  const hubs = [...groups.values()].map(hubOf);
  if (hubs.some((hub) => hub === null)) return { kind: 'mesh', groups: groups.size, peers };
  if (groups.size > 1) return { kind: 'stars', groups: groups.size, peers };
  const hub = hubs[0];
  const leaves = new Set(edges.flatMap((e) => [e.from, e.to]).filter((id) => id !== hub)).size;
  return { kind: 'star', groups: 1, hub, leaves, hubListens: edges.every((e) => e.to === hub), peers };
}

/** The node every connection of a group touches, or null if there is none. */
function hubOf(edges) {
  const [first] = edges;
  const candidates = [first.from, first.to];
  // Of two candidates, the one that listens is the better name for a star (a server, its clients).
  candidates.sort((a, b) => Number(edges.every((e) => e.to === b)) - Number(edges.every((e) => e.to === a)));
  return candidates.find((id) => edges.every((e) => e.from === id || e.to === id)) ?? null;
}
