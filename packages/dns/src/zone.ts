/**
 * The zone as the server answers it: zone.json read again whenever it changed (a registration by
 * the web app, `portlab dns add` in a terminal), checked by its modification time at each query:
 * one stat, no watcher to lose an event.
 */
import { statSync } from 'node:fs';
import type { ZoneView } from './answer.js';
import type { ZoneRegistry } from './registry.js';

export interface ZoneSettings {
  zone: string;
  ttl: number;
  /** ns.<zone>'s address: where students reach the class DNS. */
  nsAddress: string;
}

export function liveZone(registry: ZoneRegistry, settings: ZoneSettings): () => ZoneView {
  let stamp = '';
  let view: ZoneView = { ...settings, serial: 1, labs: new Map() };
  return () => {
    let now = 'absent';
    try {
      const stat = statSync(registry.file);
      now = `${stat.mtimeMs}:${stat.size}:${stat.ino}`;
    } catch {
      // no zone.json yet: an empty zone
    }
    if (now !== stamp && `bad:${now}` !== stamp) {
      try {
        const file = registry.read();
        view = {
          ...settings,
          serial: file.serial,
          labs: new Map(file.entries.map((e) => [e.name, e.address])),
        };
        stamp = now;
      } catch (err) {
        // A zone.json broken by hand: keep answering from the last good one, and say why once.
        console.error(`[dns] ${(err as Error).message}`);
        stamp = `bad:${now}`;
      }
    }
    return view;
  };
}
