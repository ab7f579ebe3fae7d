import { followTranscripts, type TranscriptEvent } from '@portlab/transcript';

type Listener = (event: TranscriptEvent) => void;

/**
 * One follower of $DATA/log shared by every SSE client: the files are read once, whatever the number
 * of browsers watching. It runs only while somebody listens.
 */
export class EventHub {
  private readonly listeners = new Set<Listener>();
  private follower: { close(): void } | null = null;

  constructor(private readonly logDir: string) {}

  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    this.follower ??= followTranscripts({ logDir: this.logDir }, (event) => {
      for (const l of this.listeners) l(event);
    });
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.close();
    };
  }

  close(): void {
    this.follower?.close();
    this.follower = null;
  }
}
