// A minimal IMAP client for benchmarks: sends a tagged command and reads (literals included) up to
// its tagged answer, counting the bytes of the answer. No parsing beyond lines and literal lengths.
import { connect } from 'node:net';

export class BenchImapClient {
  static async open(port, host = '127.0.0.1') {
    const socket = connect(port, host);
    socket.setNoDelay(true);
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const client = new BenchImapClient(socket);
    await client.untilLine((line) => line.startsWith('* OK'));
    return client;
  }

  constructor(socket) {
    this.socket = socket;
    this.chunks = [];
    this.literal = 0;
    this.waiter = null;
    this.count = 0;
    this.lines = 0;
    this.bytes = 0;
    socket.on('data', (chunk) => this.receive(chunk));
    socket.on('error', () => {});
  }

  receive(chunk) {
    this.bytes += chunk.length;
    let at = 0;
    while (at < chunk.length) {
      if (this.literal > 0) {
        const take = Math.min(this.literal, chunk.length - at);
        this.literal -= take;
        at += take;
        continue;
      }
      const lf = chunk.indexOf(0x0a, at);
      if (lf === -1) {
        this.chunks.push(chunk.subarray(at));
        return;
      }
      this.chunks.push(chunk.subarray(at, lf));
      const line = Buffer.concat(this.chunks).toString('latin1').replace(/\r$/, '');
      this.chunks = [];
      at = lf + 1;
      this.lines++;
      const literal = /\{(\d+)\}$/.exec(line);
      if (literal) this.literal = Number(literal[1]);
      this.waiter?.(line);
    }
  }

  untilLine(test) {
    return new Promise((resolve) => {
      this.waiter = (line) => {
        if (!test(line)) return;
        this.waiter = null;
        resolve(line);
      };
    });
  }

  /** Resolves with { line, lines, bytes }: the tagged answer, the lines and bytes received for it. */
  async command(text) {
    const tag = `b${++this.count}`;
    const lines = this.lines;
    const bytes = this.bytes;
    const done = this.untilLine((line) => line.startsWith(`${tag} `));
    this.socket.write(`${tag} ${text}\r\n`);
    const line = await done;
    if (!line.startsWith(`${tag} OK`)) throw new Error(`${text} -> ${line}`);
    return { line, lines: this.lines - lines, bytes: this.bytes - bytes };
  }

  close() {
    this.socket.destroy();
  }
}
