/**
 * The resident peer seeds what lies in $DATA/p2p/ (docs/architecture.md, "Data"):
 *   $DATA/p2p/resident/portlab-demo.txt           the demo file, made at start
 *   $DATA/p2p/resident/portlab-demo.txt.torrent   its metainfo, remade at start for this lab's tracker
 *   $DATA/p2p/<folder>/<name>.torrent             any other torrent, its file beside it as <info name>
 *   $DATA/updates/portlab-update-1.0.tar          the demo software update (update.ts), with its
 *   $DATA/updates/portlab-update-1.0.torrent      torrent whose web seed is the web server's copy
 * Every torrent announces to this lab's tracker, whatever its `announce` says.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createMetainfo, type PeerNode, parseMetainfo } from '@portlab/bittorrent';
import { ensureDemoFile } from './demo-file.js';
import { ensureUpdateArchive, UPDATE_NAME, UPDATE_TORRENT } from './update.js';

export interface ResidentFiles {
  p2p: string;
  updates: string;
  trackerUrl: string;
  /** Where the web server serves $DATA/updates/: http://HOST:8080/updates/ (apps/web, routes/updates.ts). */
  updatesUrl: string;
}

export async function seedResidentFiles(node: PeerNode, dirs: ResidentFiles): Promise<string[]> {
  const { p2p: p2pDir, trackerUrl } = dirs;
  const demo = await ensureDemoFile(path.join(p2pDir, 'resident'));
  await writeFile(`${demo}.torrent`, await createMetainfo(demo, { announce: trackerUrl }));
  const update = await ensureUpdateArchive(dirs.updates);
  const updateTorrent = path.join(dirs.updates, UPDATE_TORRENT);
  const urlList = [`${dirs.updatesUrl}${UPDATE_NAME}`];
  await writeFile(updateTorrent, await createMetainfo(update, { announce: trackerUrl, urlList }));
  const seeded: string[] = [];
  for (const torrentFile of [...(await findTorrents(p2pDir)), updateTorrent]) {
    try {
      const meta = parseMetainfo(await readFile(torrentFile), torrentFile);
      const data = path.join(path.dirname(torrentFile), meta.name);
      const torrent = await node.add(meta, data, { create: true, trackerUrl });
      seeded.push(`${data} (${torrent.have.pieces}/${torrent.have.size} pieces)`);
    } catch (err) {
      // One broken torrent must not keep the others from being seeded.
      console.error(`[peer] skipping ${torrentFile}: ${(err as Error).message}`);
    }
  }
  return seeded;
}

/** *.torrent in the folder and its direct subfolders. */
async function findTorrents(dir: string): Promise<string[]> {
  const found: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isFile() && entry.name.endsWith('.torrent')) found.push(full);
    if (entry.isDirectory()) {
      for (const inner of await readdir(full, { withFileTypes: true })) {
        if (inner.isFile() && inner.name.endsWith('.torrent')) found.push(path.join(full, inner.name));
      }
    }
  }
  return found.sort();
}
