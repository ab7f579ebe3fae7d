import { type ChildProcess, fork } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decode, PeerNode, parseMetainfo, percentEncode } from '@portlab/bittorrent';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import { Transcript } from '@portlab/transcript';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoText } from '../src/demo-file.js';

const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
let lab: TempLab;
let app: ChildProcess;
const torrentFile = () => path.join(lab.dataDir, 'p2p', 'resident', 'portlab-demo.txt.torrent');

beforeAll(async () => {
  lab = await tempLab();
  app = fork(main, [], { env: lab.env, stdio: 'pipe' });
  await waitFor(scrape, { what: 'the tracker to list the resident peer as a seed' });
});

afterAll(async () => {
  app.kill('SIGTERM');
  await new Promise((resolve) => app.once('exit', resolve));
  lab.cleanup();
});

/** The tracker's scrape (BEP 48) of the demo torrent: true once one seed is known. */
async function scrape(): Promise<boolean> {
  try {
    const meta = parseMetainfo(readFileSync(torrentFile()));
    const res = await fetch(
      `http://127.0.0.1:${lab.ports.tracker}/scrape?info_hash=${percentEncode(meta.infoHash)}`,
    );
    const answer = decode(Buffer.from(await res.arrayBuffer()), { maxBytes: 1 << 16, maxDepth: 8 }) as {
      files: Record<string, { complete: number }>;
    };
    return Object.values(answer.files)[0]?.complete === 1;
  } catch {
    return false;
  }
}

describe('the peer app', () => {
  it('makes the demo file and its .torrent, announcing to this lab tracker', () => {
    const meta = parseMetainfo(readFileSync(torrentFile()));
    expect(meta.announce).toBe(`http://127.0.0.1:${lab.ports.tracker}/announce`);
    expect(meta.length).toBe(Buffer.byteLength(demoText()));
  });

  it('serves the demo file from the resident peer, found through the tracker', async () => {
    const meta = parseMetainfo(readFileSync(torrentFile()));
    const node = new PeerNode({
      host: '127.0.0.1',
      port: 0,
      transcript: new Transcript('peer', 0, { logDir: lab.dir }),
    });
    await node.listen();
    const target = path.join(lab.dir, 'download', meta.name);
    const torrent = await node.add(meta, target, { create: true });
    await new Promise<void>((resolve) => torrent.once('done', resolve));
    await node.close();
    const digest = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
    expect(digest(readFileSync(target))).toBe(digest(demoText()));
    expect([...torrent.sources.keys()]).toEqual([`127.0.0.1:${lab.ports.peer}`]);
  });

  it('logs the resident peer side of the exchange in the peer transcript', async () => {
    const log = () => readFileSync(path.join(lab.dataDir, 'log', 'peer.ndjson'), 'utf8');
    await waitFor(() => log().includes('piece 0 sent') || log().match(/piece \d+ sent/), {
      what: 'piece lines',
    });
    expect(log()).toMatch(/"line":"handshake peer_id -PL0100-/);
    expect(log()).toMatch(/"line":"bitfield \d+\/\d+ pieces"/);
  });
});
