import { writeFile } from 'node:fs/promises';
import { createMetainfo, formatBytes, labTrackerUrl, parseMetainfo } from '@portlab/bittorrent';
import type { LabConfig } from '@portlab/config';
import { type Lang, say } from './say.js';

/** `portlab p2p create FILE [-o OUT]`: a .torrent (BEP 3) announcing to the lab tracker. */
export async function create(
  config: LabConfig,
  file: string,
  out: string | undefined,
  lang: Lang = 'en',
): Promise<number> {
  const announce = labTrackerUrl(config);
  const bytes = await createMetainfo(file, { announce });
  const target = out ?? `${file}.torrent`;
  await writeFile(target, bytes);
  const meta = parseMetainfo(bytes);
  console.log(say(lang, { fr: `écrit ${target}`, en: `wrote ${target}` }));
  console.log(
    say(lang, { fr: '  fichier    ', en: '  file       ' }) + `${meta.name} (${formatBytes(meta.length)})`,
  );
  const pieces = meta.pieceHashes.length;
  const kib = meta.pieceLength / 1024;
  console.log(
    say(lang, {
      fr: `  morceaux   ${pieces} de ${kib} Kio, chacun avec son SHA-1`,
      en: `  pieces     ${pieces} of ${kib} KiB, each with its SHA-1`,
    }),
  );
  console.log(`  info_hash  ${meta.infoHash.toString('hex')}`);
  console.log(`  tracker    ${announce}`);
  return 0;
}
