import { closeSync, fstatSync, openSync, readdirSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import type { TranscriptEvent } from './events.js';

export interface FollowOptions {
  /** $DATA/log */
  logDir: string;
  /** Only these services (default: every <service>.ndjson in the folder, including ones made later). */
  services?: string[];
  /** Read what the files already hold first (default: only what is written from now on). */
  fromStart?: boolean;
  /** How often to look for new lines, in ms. */
  intervalMs?: number;
}

interface Tail {
  fd: number;
  ino: number;
  offset: number;
  /** Text of a line whose end has not been written yet. */
  partial: string;
  /** Keeps a UTF-8 character cut between two reads whole. */
  decoder: StringDecoder;
}

/** The live log file of a service: <service>.ndjson, not a rotated <service>.N.ndjson. */
const LIVE_LOG = /^([a-z0-9-]+)\.ndjson$/;

/**
 * Follows the transcripts live, like `tail -F`, across processes: each server appends to its own file,
 * and any reader (the web app, `portlab watch`) picks the new lines up. A rotated file is read to its
 * end before the follower moves to the new one, so no event is lost at rotation.
 */
export function followTranscripts(
  options: FollowOptions,
  onEvent: (event: TranscriptEvent) => void,
): { close(): void } {
  const tails = new Map<string, Tail>();
  const wanted = (service: string) => !options.services || options.services.includes(service);

  const openTail = (file: string, atEnd: boolean): void => {
    try {
      const fd = openSync(file, 'r');
      const st = fstatSync(fd);
      tails.set(file, {
        fd,
        ino: st.ino,
        offset: atEnd ? st.size : 0,
        partial: '',
        decoder: new StringDecoder('utf8'),
      });
    } catch {
      // Not there (yet): looked for again at the next poll.
    }
  };

  const buffer = Buffer.alloc(64 * 1024); // One read buffer for every file, every poll.
  const readNew = (tail: Tail): void => {
    for (;;) {
      const n = readSync(tail.fd, buffer, 0, buffer.length, tail.offset);
      if (n === 0) break;
      tail.offset += n;
      const text = tail.partial + tail.decoder.write(buffer.subarray(0, n));
      const lines = text.split('\n');
      tail.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (!line) continue;
        let event: TranscriptEvent;
        try {
          event = JSON.parse(line) as TranscriptEvent;
        } catch {
          continue; // A line that is not JSON is not ours: skip it rather than stop following.
        }
        onEvent(event);
      }
    }
  };

  /**
   * Reads, oldest first, the rotated files <service>.N.ndjson newer than the one whose inode was
   * `held` (log-file.ts: .1 is the newest). If `held` is gone (shifted past `keep`), every rotated
   * file left is newer than it.
   */
  const readRotatedAfter = (file: string, held: number): void => {
    const base = file.slice(0, -'.ndjson'.length);
    const rotated: { n: number; file: string; ino: number }[] = [];
    for (let n = 1; ; n++) {
      const name = `${base}.${n}.ndjson`;
      try {
        rotated.push({ n, file: name, ino: statSync(name).ino });
      } catch {
        break;
      }
    }
    const at = rotated.findIndex((r) => r.ino === held);
    const newer = at === -1 ? rotated : rotated.slice(0, at);
    for (const r of newer.reverse()) {
      openTail(r.file, false);
      const whole = tails.get(r.file);
      if (!whole) continue;
      readNew(whole);
      closeSync(whole.fd);
      tails.delete(r.file);
    }
  };

  const poll = (first: boolean): void => {
    let names: string[] = [];
    try {
      names = readdirSync(options.logDir);
    } catch {
      return; // The log folder appears with the first event.
    }
    for (const name of names) {
      const match = LIVE_LOG.exec(name);
      const file = path.join(options.logDir, name);
      if (match && wanted(match[1]!) && !tails.has(file)) openTail(file, first && !options.fromStart);
    }
    for (const [file, tail] of tails) {
      readNew(tail);
      let ino: number | null = null;
      try {
        ino = statSync(file).ino;
      } catch {
        // Renamed away and not made again yet.
      }
      if (ino !== tail.ino) {
        // Rotated: finish the old file (the writer may have added lines just before renaming it),
        // then read every file rotated after it (a busy writer may have rotated more than once
        // between two polls: <service>.1 is then newer than the file we held), then start the new
        // one from its beginning.
        readNew(tail);
        closeSync(tail.fd);
        tails.delete(file);
        readRotatedAfter(file, tail.ino);
        if (ino !== null) {
          openTail(file, false);
          const fresh = tails.get(file); // Absent if the file went away again in between.
          if (fresh) readNew(fresh);
        }
      } else if (fstatSync(tail.fd).size < tail.offset) {
        tail.offset = 0; // Truncated in place.
        tail.partial = '';
        tail.decoder = new StringDecoder('utf8');
      }
    }
  };

  poll(true);
  const timer = setInterval(() => poll(false), options.intervalMs ?? 100);
  return {
    close() {
      clearInterval(timer);
      for (const tail of tails.values()) closeSync(tail.fd);
      tails.clear();
    },
  };
}
