/**
 * A minimal Marionette client: the remote-control protocol built into Gecko (Firefox, Thunderbird),
 * switched on by `--marionette`. No maintained Node client speaks protocol 3 (npm's
 * `marionette-client` is the 2015 Firefox OS one), and the protocol is small: JSON over TCP, each
 * message framed as `<byte length>:<json>`. A command is `[0, id, name, params]`, its answer
 * `[1, id, error, result]`. https://firefox-source-docs.mozilla.org/testing/marionette/Protocol.html
 */
import { connect, type Socket } from 'node:net';

interface MarionetteError {
  error: string;
  message: string;
  data?: { text?: string };
}

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

export class Marionette {
  private buffer = Buffer.alloc(0);
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private greeted!: () => void;
  private readonly greeting = new Promise<void>((resolve) => {
    this.greeted = resolve;
  });

  private constructor(private readonly socket: Socket) {
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('close', () => {
      for (const p of this.pending.values()) p.reject(new Error('Marionette connection closed'));
      this.pending.clear();
    });
  }

  /** Connects, reads the server's greeting (`{"marionetteProtocol":3,...}`) and opens a session. */
  static async open(port: number): Promise<Marionette> {
    const socket = connect(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new Marionette(socket);
    await client.greeting;
    await client.command('WebDriver:NewSession', { capabilities: {} });
    return client;
  }

  command(name: string, params: Record<string, unknown> = {}): Promise<unknown> {
    const id = this.nextId++;
    const json = Buffer.from(JSON.stringify([0, id, name, params]));
    this.socket.write(Buffer.concat([Buffer.from(`${json.length}:`), json]));
    return new Promise((resolve, reject) => this.pending.set(id, { resolve, reject }));
  }

  close(): void {
    this.socket.destroy();
  }

  /** Splits the stream into `<length>:<json>` messages (lengths count bytes, not characters). */
  private receive(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const colon = this.buffer.indexOf(':');
      if (colon < 0) return;
      const length = Number(this.buffer.subarray(0, colon).toString());
      if (this.buffer.length < colon + 1 + length) return;
      const message = JSON.parse(this.buffer.subarray(colon + 1, colon + 1 + length).toString());
      this.buffer = this.buffer.subarray(colon + 1 + length);
      if (!Array.isArray(message)) {
        this.greeted();
        continue;
      }
      const [, id, error, result] = message as [1, number, MarionetteError | null, unknown];
      const waiting = this.pending.get(id);
      this.pending.delete(id);
      // "unexpected alert open" carries the alert's text: the first thing to know when one pops up.
      const alert = error?.data?.text ? ` (alert: ${error.data.text})` : '';
      if (error) waiting?.reject(new Error(`Marionette ${error.error}: ${error.message}${alert}`));
      else waiting?.resolve(result);
    }
  }
}
