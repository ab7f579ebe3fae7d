import { writeFile } from 'node:fs/promises';
import { createMetainfo, formatBytes, labTrackerUrl, parseMetainfo } from '@portlab/bittorrent';
import type { LabConfig } from '@portlab/config';

/** `portlab p2p create FILE [-o OUT]`: a .torrent (BEP 3) announcing to the lab tracker. */
export async function create(config: LabConfig, file: string, out: string | undefined): Promise<number> {
  const announce = labTrackerUrl(config);
  const bytes = await createMetainfo(file, { announce });
  const target = out ?? `${file}.torrent`;
  await writeFile(target, bytes);
  const meta = parseMetainfo(bytes);
  console.log(`wrote ${target}`);
  console.log(`  file       ${meta.name} (${formatBytes(meta.length)})`);
  console.log(
    `  pieces     ${meta.pieceHashes.length} of ${meta.pieceLength / 1024} KiB, each with its SHA-1`,
  );
  console.log(`  info_hash  ${meta.infoHash.toString('hex')}`);
  console.log(`  tracker    ${announce}`);
  return 0;
}
