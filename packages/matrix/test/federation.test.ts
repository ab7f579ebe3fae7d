// Server-server pieces: X-Matrix request signing (spec: server-server "Request Authentication"),
// the key server response ("Publishing Keys"), and the outbound transaction queue, sending to a
// real HTTP server over a socket that is stopped and restarted.
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildEvent,
  buildXMatrixAuthorization,
  generateSigningKey,
  type KeyLookup,
  type Pdu,
  parseTransaction,
  parseXMatrixAuthorization,
  ServerKeyCache,
  ServerKeysError,
  serverKeysResponse,
  signJson,
  TransactionQueue,
  toFederationPdu,
  verifyServerKeys,
  verifyXMatrixRequest,
  XMatrixError,
} from '../src/index.js';
import { tempDir } from './helpers.js';

const HS1 = 'hs1.test:8448';
const HS2 = 'hs2.test:8448';
const key1 = generateSigningKey();
const lookup: KeyLookup = (server, keyId) =>
  server === HS1 && keyId === key1.keyId ? key1.publicKeyBase64 : undefined;

describe('X-Matrix Authorization', () => {
  const req = {
    method: 'PUT',
    uri: '/_matrix/federation/v1/send/1?x=1',
    origin: HS1,
    destination: HS2,
    content: { pdus: [] },
  };

  it('a request signed by hs1 verifies at hs2', async () => {
    const authorization = buildXMatrixAuthorization(req, key1);
    expect(authorization).toMatch(
      /^X-Matrix origin="hs1.test:8448",destination="hs2.test:8448",key="ed25519:[a-zA-Z0-9_]+",sig="[A-Za-z0-9+/]+"$/,
    );
    await expect(verifyXMatrixRequest({ authorization, ...req }, HS2, lookup)).resolves.toEqual({
      origin: HS1,
    });
  });

  it.each([
    ['another body', { content: { pdus: [{}] } }],
    ['another path', { uri: '/_matrix/federation/v1/send/2?x=1' }],
    ['another method', { method: 'GET' }],
    ['no body', { content: undefined }],
  ])('refuses the signature replayed with %s', async (_what, change) => {
    const authorization = buildXMatrixAuthorization(req, key1);
    await expect(verifyXMatrixRequest({ authorization, ...req, ...change }, HS2, lookup)).rejects.toThrow(
      /bad X-Matrix signature/,
    );
  });

  it('refuses a request meant for another server, a forged signature, an unknown key, a missing header', async () => {
    const authorization = buildXMatrixAuthorization(req, key1);
    await expect(verifyXMatrixRequest({ authorization, ...req }, 'hs3.test', lookup)).rejects.toThrow(
      /not hs3.test/,
    );
    const forger = generateSigningKey(key1.keyId.slice('ed25519:'.length));
    const forged = buildXMatrixAuthorization(req, forger);
    await expect(verifyXMatrixRequest({ authorization: forged, ...req }, HS2, lookup)).rejects.toThrow(
      XMatrixError,
    );
    const unknown = buildXMatrixAuthorization(req, generateSigningKey('other'));
    await expect(verifyXMatrixRequest({ authorization: unknown, ...req }, HS2, lookup)).rejects.toThrow(
      /unknown key/,
    );
    await expect(
      verifyXMatrixRequest({ authorization: undefined, ...req }, HS2, lookup),
    ).rejects.toMatchObject({ status: 401, errcode: 'M_UNAUTHORIZED' });
  });

  it('parses what RFC 9110 allows: spaces, any case, bare values with colons, escapes, unknown names', () => {
    expect(
      parseXMatrixAuthorization('X-Matrix  Origin=hs1.test:8448 , KEY="ed25519:k" ,\tsig="a\\"b",extra=1'),
    ).toEqual({
      origin: 'hs1.test:8448',
      key: 'ed25519:k',
      sig: 'a"b',
    });
  });

  it.each([
    ['Bearer abc'],
    ['X-Matrix origin="a",key="ed25519:k"'],
    ['X-Matrix origin="a,key="ed25519:k",sig="s"'],
    ['X-Matrix origin'],
    ['X-Matrix origin="a" key="k",sig="s"'],
  ])('refuses the malformed header %j', (header) => {
    expect(() => parseXMatrixAuthorization(header)).toThrow(XMatrixError);
  });
});

describe('GET /_matrix/key/v2/server', () => {
  it('is self-signed, names the server, and says until when', () => {
    const body = serverKeysResponse({ serverName: HS1, key: key1, now: 1000 });
    expect(body.valid_until_ts).toBe(1000 + 24 * 3600 * 1000);
    const keys = verifyServerKeys(JSON.parse(JSON.stringify(body)), HS1);
    expect(keys.verifyKeys.get(key1.keyId)).toBe(key1.publicKeyBase64);
  });

  it('refuses a response for another server, with a swapped key, or unsigned', () => {
    const body = serverKeysResponse({ serverName: HS1, key: key1 });
    expect(() => verifyServerKeys(body, HS2)).toThrow(ServerKeysError);
    const other = generateSigningKey();
    const swapped = { ...body, verify_keys: { [key1.keyId]: { key: other.publicKeyBase64 } } };
    expect(() => verifyServerKeys(swapped, HS1)).toThrow(/not signed by its own/);
    const { signatures: _s, ...unsigned } = body;
    expect(() => verifyServerKeys(unsigned, HS1)).toThrow(ServerKeysError);
    // Re-signed by someone else's key under the same ID: still refused.
    const resigned = signJson({ ...swapped, signatures: {} }, HS1, { ...key1, keyId: key1.keyId });
    expect(() => verifyServerKeys(resigned, HS1)).toThrow(ServerKeysError);
  });

  it('the cache fetches a server once while valid, and refetches when it expires', async () => {
    let now = 1_000_000;
    let fetches = 0;
    const cache = new ServerKeyCache(
      async (name) => {
        fetches++;
        return serverKeysResponse({ serverName: name, key: key1, validUntilTs: now + 60_000 });
      },
      () => now,
    );
    const lk = cache.lookup();
    expect(await Promise.all([lk(HS1, key1.keyId), lk(HS1, key1.keyId)])).toEqual([
      key1.publicKeyBase64,
      key1.publicKeyBase64,
    ]);
    expect(fetches).toBe(1);
    expect(await lk(HS1, 'ed25519:nope')).toBeUndefined(); // fetched 0 s ago: no refetch
    expect(fetches).toBe(1);
    now += 61_000;
    await lk(HS1, key1.keyId);
    expect(fetches).toBe(2);
  });
});

describe('parseTransaction', () => {
  it.each([
    ['not an object', []],
    ['no origin', { pdus: [] }],
    ['51 PDUs', { origin: HS1, pdus: new Array(51).fill({}) }],
    ['101 EDUs', { origin: HS1, pdus: [], edus: new Array(101).fill({}) }],
  ])('refuses %s', (_what, body) => {
    expect(() => parseTransaction(body)).toThrow();
  });
});

// A real receiving server: checks the X-Matrix signature of each transaction, records its PDUs.
class Receiver {
  server: Server | undefined;
  port = 0;
  received: { txnId: string; pdus: Pdu[] }[] = [];
  refused = 0;

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      try {
        await verifyXMatrixRequest(
          {
            authorization: req.headers.authorization,
            method: req.method ?? '',
            uri: req.url ?? '',
            content: body,
          },
          HS2,
          lookup,
        );
        const txn = parseTransaction(body);
        this.received.push({ txnId: (req.url ?? '').split('/').at(-1) ?? '', pdus: txn.pdus as Pdu[] });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"pdus":{}}');
      } catch (err) {
        this.refused++;
        res.writeHead(401).end(JSON.stringify({ errcode: 'M_UNAUTHORIZED', error: (err as Error).message }));
      }
    });
    this.server.listen(this.port, '127.0.0.1');
    await once(this.server, 'listening');
    this.port = (this.server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  bodies(): unknown[] {
    return this.received.flatMap((t) => t.pdus.map((p) => p.content.body));
  }
}

describe('TransactionQueue', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let receiver: Receiver;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    receiver = new Receiver();
    await receiver.start();
  });
  afterEach(async () => {
    await receiver.stop();
    await cleanup();
  });

  const send = async (dest: string, txnId: string, txn: unknown) => {
    const uri = `/_matrix/federation/v1/send/${encodeURIComponent(txnId)}`;
    const res = await fetch(`http://127.0.0.1:${receiver.port}${uri}`, {
      method: 'PUT',
      headers: {
        authorization: buildXMatrixAuthorization(
          { method: 'PUT', uri, origin: HS1, destination: dest, content: txn },
          key1,
        ),
        'content-type': 'application/json',
      },
      body: JSON.stringify(txn),
    });
    if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
  };
  const pdu = (i: number): Pdu =>
    toFederationPdu(
      buildEvent(
        {
          roomId: `!r:${HS1}`,
          sender: `@a:${HS1}`,
          type: 'm.room.message',
          content: { body: `m${i}` },
          prevEvents: [],
          authEvents: [],
          depth: i + 1,
          originServerTs: i,
          origin: HS1,
        },
        key1,
      ),
    );

  it('delivers, keeps what a stopped server missed across our own restart, and catches it up in order', async () => {
    let q = await TransactionQueue.open({ dir, origin: HS1, send, minBackoffMs: 20, maxBackoffMs: 200 });
    for (let i = 0; i < 3; i++) await q.enqueuePdu([HS2, HS1], pdu(i));
    await q.drained();
    expect(receiver.bodies()).toEqual(['m0', 'm1', 'm2']);

    await receiver.stop();
    for (let i = 3; i < 63; i++) await q.enqueuePdu([HS2], pdu(i));
    await expect.poll(() => q.status()[0]?.failures ?? 0).toBeGreaterThan(0);
    expect(q.status()[0]).toMatchObject({ destination: HS2, pending: 60, lastError: expect.any(String) });
    await q.close();

    // Our server restarts too: the queue comes back from disk.
    q = await TransactionQueue.open({ dir, origin: HS1, send, minBackoffMs: 20, maxBackoffMs: 200 });
    expect(q.pending(HS2)).toBe(60);
    await receiver.start(); // same port
    q.wake(HS2); // as the chat app does when HS2 contacts us
    await q.drained();
    await q.close();
    expect(receiver.bodies()).toEqual(Array.from({ length: 63 }, (_, i) => `m${i}`));
    expect(Math.max(...receiver.received.map((t) => t.pdus.length))).toBe(50);
    expect(new Set(receiver.received.map((t) => t.txnId)).size).toBe(receiver.received.length);
    expect(receiver.refused).toBe(0);

    // Delivered: nothing left to replay at the next start.
    const again = await TransactionQueue.open({ dir, origin: HS1, send, minBackoffMs: 20 });
    expect(again.pending(HS2)).toBe(0);
    await again.close();
  });

  it('retries on its own, backing off, until the server is back', async () => {
    await receiver.stop();
    const q = await TransactionQueue.open({ dir, origin: HS1, send, minBackoffMs: 10, maxBackoffMs: 50 });
    await q.enqueuePdu([HS2], pdu(0));
    await q.enqueuePdu([HS2], pdu(1));
    await expect.poll(() => q.status()[0]?.failures ?? 0).toBeGreaterThanOrEqual(3);
    expect(q.status()[0]?.pending).toBe(2);
    await receiver.start();
    await q.drained(); // no wake(): the next retry finds it
    await q.close();
    expect(receiver.bodies()).toEqual(['m0', 'm1']);
  });
});
