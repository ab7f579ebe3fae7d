import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transcript } from '@portlab/transcript';
import { describe, expect, it } from 'vitest';
// The dashboard's own module, as the browser runs it (plain JavaScript, no DOM needed).
// @ts-expect-error: a browser module without type declarations
import { ConnectionGraph } from '../public/js/graph-model.js';

const ends = (local: number, remote: number) => ({
  localAddress: '127.0.0.1',
  localPort: local,
  remoteAddress: '127.0.0.1',
  remotePort: remote,
});

describe('the connection graph model', () => {
  it('draws each simulated peer of one process as its own node, and a mesh between them', () => {
    const logDir = path.join(mkdtempSync(path.join(tmpdir(), 'portlab-graph-')), 'log');
    // Three peers in one process (as `portlab p2p swarm` runs them), each dialling the next.
    const peers = [6882, 6883, 6884].map(
      (port) => new Transcript('peer', port, { logDir, node: `127.0.0.1:${port}` }),
    );
    peers.forEach((dialler, i) => {
      const target = peers[(i + 1) % 3]!;
      const ephemeral = 40000 + i;
      dialler.connected(ends(ephemeral, target.port));
      target.accepted(ends(target.port, ephemeral));
    });
    peers[0]!.flush();
    const graph = new ConnectionGraph();
    for (const line of readFileSync(path.join(logDir, 'peer.ndjson'), 'utf8').trim().split('\n')) {
      graph.apply(JSON.parse(line));
    }
    const view = graph.view();
    expect(view.nodes.map((n: { label: string }) => n.label).sort()).toEqual([
      '127.0.0.1:6882',
      '127.0.0.1:6883',
      '127.0.0.1:6884',
    ]);
    expect(view.edges).toHaveLength(3);
    expect(view.peers).toBe(3);
  });
});
