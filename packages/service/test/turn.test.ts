// Turn: a connection's share of the event loop (issue #20). Over a real socket pair: a client that
// does not read holds the session at pace(); one that reads lets it go on.
import { connect, createServer, type Socket } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Turn } from '../src/turn.js';

const server = createServer();
const accepted: Socket[] = [];
server.on('connection', (socket) => accepted.push(socket));
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
afterAll(() => server.close());

async function pair(): Promise<{ client: Socket; served: Socket }> {
  const client = connect((server.address() as { port: number }).port, '127.0.0.1');
  await new Promise((resolve) => client.once('connect', resolve));
  while (accepted.length === 0) await new Promise((resolve) => setImmediate(resolve));
  return { client, served: accepted.shift()! };
}

describe('Turn.pace', () => {
  it('with its budget spent, lets the callbacks already waiting run first', async () => {
    const turn = new Turn(0);
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    await turn.pace();
    expect(ran).toBe(true);
  });

  it('within its budget, goes on before them (no turn of the loop per small command)', async () => {
    const turn = new Turn(60_000);
    let ran = false;
    setImmediate(() => {
      ran = true;
    });
    await turn.pace();
    expect(ran).toBe(false);
  });

  it('waits while the client has not read what was sent, and goes on once it reads', async () => {
    const { client, served } = await pair();
    client.pause();
    const turn = new Turn(60_000);
    const piece = Buffer.alloc(1024 * 1024, 0x61);
    while (!served.writableNeedDrain) served.write(piece);
    let paced = false;
    const pacing = turn.pace(served).then(() => {
      paced = true;
    });
    // The loop goes round many times: the session is still held, the client having read nothing.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(paced).toBe(false);
    client.resume();
    await pacing;
    expect(paced).toBe(true);
    client.destroy();
    served.destroy();
  });

  it('a connection gone (the client closed) does not hold the session forever', async () => {
    const { client, served } = await pair();
    client.pause();
    const piece = Buffer.alloc(1024 * 1024, 0x62);
    while (!served.writableNeedDrain) served.write(piece);
    const pacing = new Turn(60_000).pace(served);
    client.destroy();
    served.destroy();
    await pacing;
  });
});
