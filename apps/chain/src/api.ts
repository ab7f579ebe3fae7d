/**
 * The node's own JSON API on a loopback address (the lab's own 127.x, else 127.0.0.1), port 18443 (regtest's RPC port), for `portlab chain` and the
 * dashboard. Loopback only, whatever the lab's host: it spends the wallet's coins, and no other
 * student may; and no web page either (Host, Origin and content-type checks below). Small bodies
 * only (4 kB).
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import {
  addressOfScript,
  COIN,
  ConsensusError,
  DEFAULT_FEE,
  formatCoins,
  headerView,
  paymentTx,
  scriptForAddress,
  targetFromBits,
  zeroBitsOf,
} from '@portlab/chain';
import { USER_NAME } from '@portlab/config';
import type { ChainService } from './service.js';

// Not `import … from 'node:http'`: on Node 22+ an ES import of node:http loads undici, about 3 MB of
// heap in every process that does it (issue #20, idle memory; nodejs/node#59686).
const { createServer } = process.getBuiltinModule('node:http');

const MAX_BODY = 4096;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function body(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const parts: Buffer[] = [];
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `body over ${MAX_BODY} bytes`);
    parts.push(chunk);
  }
  if (size === 0) return {};
  try {
    const v = JSON.parse(Buffer.concat(parts).toString('utf8')) as unknown;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error();
    return v as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'the body must be a JSON object');
  }
}

/** Coins as a decimal string ("1.5") → units; at most 8 decimals, as Bitcoin amounts. */
export function parseAmount(text: string): bigint {
  const m = /^(\d{1,8})(?:\.(\d{1,8}))?$/.exec(text.trim());
  if (!m) throw new HttpError(400, `not an amount: ${text} (e.g. 1.5)`);
  return BigInt(m[1] as string) * COIN + BigInt((m[2] ?? '').padEnd(8, '0'));
}

export function createApi(svc: ChainService): Server {
  const { chain, node, wallet, mining } = svc;
  const balance = () => {
    const coins = chain.coinsOf(wallet.script);
    const confirmed = coins.filter((c) => c.height <= chain.height).reduce((a, c) => a + c.value, 0n);
    const total = coins.reduce((a, c) => a + c.value, 0n);
    return {
      confirmed: formatCoins(confirmed),
      pending: formatCoins(total - confirmed),
      coins: coins.length,
    };
  };
  const blockSummary = (h: number) => {
    const e = chain.best[h];
    if (!e) return undefined;
    return {
      height: e.height,
      id: e.id,
      prev: e.prev,
      nonce: e.block.nonce,
      time: e.block.timestamp,
      txs: e.block.transactions?.length ?? 0,
      tampered: svc.tampered.has(e.id),
    };
  };

  const routes: Record<string, (req: IncomingMessage, url: URL) => Promise<unknown> | unknown> = {
    'GET /status': () => ({
      height: chain.height,
      tip: chain.tip.id,
      bits: chain.params.bits.toString(16),
      zeroBits: zeroBitsOf(chain.params.bits),
      target: targetFromBits(chain.params.bits).toString(16).padStart(64, '0'),
      address: wallet.address,
      balance: balance(),
      mempool: [...chain.mempool.txs.values()].map((p) => ({
        id: p.id,
        fee: formatCoins(p.fee),
        size: p.size,
      })),
      peers: node.peerInfo(),
      known: [...node.known],
      disconnected: node.disconnected,
      mining: mining.status(),
      broken: chain.broken,
      // Blocks known off the best chain (the losing side of forks), and the reorgs that resolved them.
      sideBlocks: [...chain.entries.values()].filter((e) => chain.best[e.height]?.id !== e.id).length,
      reorgs: svc.reorgs,
      storeRepairs: chain.storeRepairs,
      port: node.port,
    }),
    'GET /wallet': () => ({ address: wallet.address, balance: balance() }),
    'GET /blocks': (_req, url) => {
      const count = Math.min(200, Math.max(1, Number(url.searchParams.get('count') ?? 20) || 20));
      const from = Math.max(0, chain.height - count + 1);
      const blocks = [];
      for (let h = from; h <= chain.height; h++) blocks.push(blockSummary(h));
      // Side branches: known blocks off the best chain (forks), newest first.
      const forks = [...chain.entries.values()]
        .filter((e) => chain.best[e.height]?.id !== e.id)
        .sort((a, b) => b.received - a.received)
        .slice(0, 20)
        .map((e) => ({ height: e.height, id: e.id, prev: e.prev, nonce: e.block.nonce }));
      // Balances by address, from the UTXO set: on a blockchain anyone can add them up.
      const byAddress = new Map<string, bigint>();
      for (const coin of chain.utxo.values()) {
        const address = addressOfScript(coin.script) ?? 'other';
        byAddress.set(address, (byAddress.get(address) ?? 0n) + coin.value);
      }
      const balances = [...byAddress]
        .sort((x, y) => (y[1] > x[1] ? 1 : y[1] < x[1] ? -1 : 0))
        .slice(0, 50)
        .map(([address, units]) => ({
          address,
          coins: formatCoins(units),
          mine: address === wallet.address,
        }));
      // Each neighbour's chain as it showed it to us (headers it sent), for the cards side by side.
      const peers = node.peerChains(Math.min(count, 20));
      return { height: chain.height, blocks, forks, balances, peers };
    },
    'GET /block': (_req, url) => {
      const h = url.searchParams.has('height') ? Number(url.searchParams.get('height')) : chain.height;
      const e = chain.best[h];
      if (!Number.isInteger(h) || !e)
        throw new HttpError(404, `no block at height ${h} (0..${chain.height})`);
      svc.activity.shown.push(h);
      svc.saveActivity();
      return { ...headerView(e), raw: e.raw.toString('hex') };
    },
    // Lab 08's check (labs/harness 08-chain.ts): what this node's wallet did, all public data.
    'GET /exercise': () => {
      const own = wallet.script;
      let mined = 0;
      const confirmed = new Set<string>();
      for (const e of chain.best.slice(1)) {
        const txs = e.block.transactions ?? [];
        if (txs[0]?.outs.some((o) => Buffer.from(o.script).equals(own))) mined++;
        for (const tx of txs.slice(1)) confirmed.add(tx.getId());
      }
      const { activity } = svc;
      return {
        owner: activity.owner ?? null,
        address: wallet.address,
        height: chain.height,
        mined,
        sent: activity.sent.map((s) => ({
          ...s,
          state: confirmed.has(s.txid) ? 'confirmed' : chain.mempool.txs.has(s.txid) ? 'pending' : 'lost',
        })),
        shown: activity.shown.length,
        tampered: activity.tampered.length,
        sawBroken: activity.sawBroken,
      };
    },
    // Binds this node's wallet to a lab account, once: the account lab 08's check credits.
    'POST /owner': async (req) => {
      const b = await body(req);
      const user = String(b.user ?? '');
      if (!USER_NAME.test(user)) throw new HttpError(400, `not an account name: ${user}`);
      const owner = svc.activity.owner;
      if (owner && owner !== user)
        throw new HttpError(
          409,
          `this node's wallet is ${owner}'s: each account works on its own node (its own data dir)`,
        );
      svc.activity.owner = user;
      svc.saveActivity();
      return { owner: user, address: wallet.address };
    },
    'POST /mine': async (req) => {
      const b = await body(req);
      const blocks = Number(b.blocks ?? 1);
      if (!Number.isInteger(blocks) || blocks < 0 || blocks > 1000)
        throw new HttpError(400, 'blocks: 0 (until stopped) to 1000');
      if (mining.status().running) throw new HttpError(409, 'already mining');
      void mining.start(blocks).catch((err: Error) => console.error(`[chain] mining: ${err.message}`));
      return mining.status();
    },
    'POST /mine/stop': () => {
      mining.stop();
      return mining.status();
    },
    'POST /send': async (req) => {
      const b = await body(req);
      let to: Buffer;
      try {
        to = scriptForAddress(String(b.address ?? ''));
      } catch {
        throw new HttpError(400, `not a regtest P2PKH address: ${String(b.address)}`);
      }
      const amount = parseAmount(String(b.amount ?? ''));
      let tx: ReturnType<typeof paymentTx>;
      try {
        tx = paymentTx(wallet, chain.coinsOf(wallet.script), to, amount, DEFAULT_FEE);
        chain.acceptTx(tx);
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
      node.broadcastTx(tx);
      svc.activity.sent.push({
        txid: tx.getId(),
        to: String(b.address),
        amount: formatCoins(amount),
        at: Date.now(),
      });
      svc.saveActivity();
      return { txid: tx.getId(), fee: formatCoins(DEFAULT_FEE), size: tx.byteLength() };
    },
    'POST /verify': () => {
      const v = chain.verify();
      // The exercise's last step: seeing your own node say where your tampered copy breaks.
      if (!v.ok && svc.activity.tampered.length > 0) {
        svc.activity.sawBroken++;
        svc.saveActivity();
      }
      return v;
    },
    'POST /tamper': async (req) => {
      const b = await body(req);
      const h = Number(b.height);
      try {
        const r = chain.tamper(h);
        svc.tampered.add(r.id);
        svc.activity.tampered.push({ height: h, id: r.id, at: Date.now() });
        svc.saveActivity();
        return { ...r, before: formatCoins(r.before), after: formatCoins(r.after), verify: chain.verify() };
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
    },
    'POST /connect': async (req) => {
      const b = await body(req);
      const host = String(b.host ?? '');
      const port = Number(b.port);
      if (!host || !Number.isInteger(port) || port < 1 || port > 65535)
        throw new HttpError(400, 'host and port (1-65535) needed');
      try {
        const peer = await node.connect(host, port);
        return { connected: peer.address, userAgent: peer.userAgent, startHeight: peer.startHeight };
      } catch (err) {
        throw new HttpError(502, `cannot connect to ${host}:${port}: ${(err as Error).message}`);
      }
    },
  };

  return createServer((req, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = routes[`${req.method} ${url.pathname}`];
    const send = (status: number, value: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)));
    };
    // Loopback is not enough against a web page: a browser on this machine may be made to send a
    // request here. A name other than loopback (DNS rebinding), an Origin (a page's request), or a
    // POST that is not JSON (a "simple" cross-site form, which skips CORS preflight) is refused.
    if (!/^(127(\.\d{1,3}){3}|localhost|\[::1\])(:\d+)?$/.test(req.headers.host ?? '')) {
      send(403, { error: 'this API answers only to a loopback address (127.x.x.x)' });
      return;
    }
    if (req.headers.origin !== undefined) {
      send(403, { error: 'not for web pages: use portlab chain' });
      return;
    }
    if (req.method === 'POST' && !/^application\/json\b/.test(req.headers['content-type'] ?? '')) {
      send(415, { error: 'POST bodies must be application/json' });
      return;
    }
    if (!route) {
      send(404, { error: `no such endpoint: ${req.method} ${url.pathname}` });
      return;
    }
    Promise.resolve()
      .then(() => route(req, url))
      .then(
        (value) => send(200, value),
        (err: Error) => {
          if (err instanceof HttpError) send(err.status, { error: err.message });
          else if (err instanceof ConsensusError) send(400, { error: err.message });
          else send(500, { error: err.message });
        },
      );
  });
}
