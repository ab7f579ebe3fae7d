/**
 * What lab 5 draws in the terminal: where each piece came from, and a bar per method for the
 * comparison of client-server and peer-to-peer.
 */
import type { Torrent } from '@portlab/bittorrent';
import type { Printer } from '../output.js';

/** A bar per method, as long as its time: the chart of the comparison. */
export function barChart(rows: { label: string; seconds: number }[], width = 40): string[] {
  const longest = Math.max(...rows.map((r) => r.seconds), 0.001);
  const label = Math.max(...rows.map((r) => r.label.length));
  return rows.map(
    (r) =>
      `${r.label.padEnd(label)}  ${'█'.repeat(Math.max(1, Math.round((r.seconds / longest) * width)))} ${r.seconds.toFixed(1)} s`,
  );
}

/** One row per source of a finished download, most pieces first; `labels`: a name by port ("peer #1"). */
export function sourceRows(
  torrent: {
    sources: ReadonlyMap<string, { address: string; pieces: number; bytes: number }>;
    have: { size: number };
  },
  labels: ReadonlyMap<number, string>,
): (string | number)[][] {
  const total = torrent.have.size;
  return [...torrent.sources.values()]
    .sort((a, b) => b.pieces - a.pieces)
    .map((s) => {
      const port = Number(s.address.split(':').pop());
      return [
        `${s.address} ${labels.get(port) ?? ''}`.trim(),
        s.pieces,
        s.bytes,
        Math.round((s.pieces / total) * 100),
      ];
    });
}

/** The table of sources of a finished download, as the demo prints it. */
export function sourcesTable(out: Printer, torrent: Torrent, labels: ReadonlyMap<number, string>): void {
  out.table(
    [out.t({ fr: 'source', en: 'source' }), 'pieces', out.t({ fr: 'octets', en: 'bytes' }), '%'],
    sourceRows(torrent, labels),
  );
}

/** The demo's seeders by port: "peer #1", "peer #2", … in the order they started. */
export function seederLabels(seeders: readonly { port: number }[]): Map<number, string> {
  return new Map(seeders.map((x, i) => [x.port, `peer #${i + 1}`]));
}
