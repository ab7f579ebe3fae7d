import { writeFile } from 'node:fs/promises';
import { createMetainfo, formatBytes, labTrackerUrl, parseMetainfo } from '@portlab/bittorrent';
import type { LabConfig } from '@portlab/config';
import { type Lang, say } from './say.js';

/**
 * `portlab p2p create FILE [-o OUT] [--web-seed URL]...`: a .torrent (BEP 3) announcing to the lab
 * tracker, with BEP 19 web seeds (`url-list`) when given.
 */
export async function create(
  config: LabConfig,
  file: string,
  out: string | undefined,
  lang: Lang = 'en',
  webSeeds: string[] = [],
): Promise<number> {
  const announce = labTrackerUrl(config);
  const bytes = await createMetainfo(file, { announce, urlList: webSeeds });
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
  for (const url of meta.urlList) console.log(`  web seed   ${url}`);
  return 0;
}
