/**
 * The zone as the server answers it: zone.json read again whenever it changed (a registration by
 * the web app, `portlab dns add` in a terminal), checked by a stat at each query (CheckedFile of
 * @portlab/config: inode, size, times; a file changed within the last second is read each time): one
 * stat, no watcher to lose an event.
 */
import { CheckedFile } from '@portlab/config';
import type { ZoneView } from './answer.js';
import type { ZoneRegistry } from './registry.js';

export interface ZoneSettings {
  zone: string;
  ttl: number;
  /** ns.<zone>'s address: where students reach the class DNS. */
  nsAddress: string;
}

export function liveZone(registry: ZoneRegistry, settings: ZoneSettings): () => ZoneView {
  let view: ZoneView = { ...settings, serial: 1, labs: new Map() };
  let said = '';
  // No zone.json yet: registry.read() gives an empty zone.
  const zone = new CheckedFile(registry.file, () => {
    try {
      const file = registry.read();
      view = {
        ...settings,
        serial: file.serial,
        labs: new Map(file.entries.map((e) => [e.name, e.address])),
      };
      said = '';
    } catch (err) {
      // A zone.json broken by hand: keep answering from the last good one, and say why once.
      const why = (err as Error).message;
      if (why !== said) console.error(`[dns] ${why}`);
      said = why;
    }
    return view;
  });
  return () => zone.get();
}
