/**
 * Shows what the servers wrote in their transcripts during one step: each connection with both
 * ends and the protocol (`client 127.0.0.1:53122 -> 127.0.0.1:8025 SMTP`), then what each side
 * said. The servers write the transcripts; the lab only reads them, as `portlab watch` does.
 */
import { type LabConfig, SERVICE_NAMES, type ServiceName, serviceSpec } from '@portlab/config';
import { type ConnectionEvent, followTranscripts, type TranscriptEvent } from '@portlab/transcript';
import type { Printer } from './output.js';

/** A server writes its events on the next tick and the follower polls every 50 ms: wait a little more. */
const SETTLE_MS = 300;

export interface ShowOptions {
  /** Only connection events (a BitTorrent download says thousands of lines). */
  connectionsOnly?: boolean;
  /** At most this many lines per connection (default 30); the rest is counted. */
  linesPerSession?: number;
}

export class TranscriptView {
  private events: TranscriptEvent[] = [];
  private readonly follower: { close(): void };

  constructor(config: LabConfig) {
    this.follower = followTranscripts({ logDir: config.paths.log, intervalMs: 50 }, (event) =>
      this.events.push(event),
    );
  }

  /** Every event since the last call, once the servers have written them. */
  async take(): Promise<TranscriptEvent[]> {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const taken = this.events;
    this.events = [];
    return taken;
  }

  /** Prints the events since the last call. Returns them for the step to look into. */
  async show(out: Printer, options: ShowOptions = {}): Promise<TranscriptEvent[]> {
    const events = await this.take();
    const limit = options.linesPerSession ?? 30;
    // Several connections may talk at once (a probe, a swarm): show each one's conversation together.
    const sessions = new Map<string, TranscriptEvent[]>();
    for (const e of events) {
      const key = e.type === 'service' ? `service ${e.ts}` : e.session;
      sessions.set(key, [...(sessions.get(key) ?? []), e]);
    }
    let cut = 0;
    for (const group of sessions.values()) {
      let said = 0;
      for (const e of group) {
        if (e.type === 'open') out.say(describeConnection(e), 'bold');
        if (e.type === 'service')
          out.say(`${e.service}:${e.port} ${e.state}${e.message ? `: ${e.message}` : ''}`);
        if (e.type !== 'line' || options.connectionsOnly) continue;
        if (++said > limit) {
          cut++;
          continue;
        }
        const flags = e.flags?.length ? `   [${e.flags.join(', ')}]` : '';
        out.say(`    ${e.dir}: ${e.line}${flags}`, e.dir === 'C' ? 'cyan' : 'green');
      }
    }
    if (cut > 0) out.say(`    … ${cut} more line(s): npx portlab watch --from-start`, 'dim');
    return events;
  }

  close(): void {
    this.follower.close();
  }
}

/** `client 127.0.0.1:53122 -> 127.0.0.1:8025 SMTP`, and `(data)` for an FTP data connection. */
export function describeConnection(e: ConnectionEvent): string {
  const protocol = SERVICE_NAMES.includes(e.service as ServiceName)
    ? serviceSpec(e.service as ServiceName).protocol
    : e.service;
  const data = e.flags?.includes('data') ? ' (data)' : '';
  return `client ${e.from} -> ${e.to} ${protocol}${data}`;
}
