/**
 * Splits the byte stream of a text protocol's command connection into lines (POP3, RFC 1939 §3; FTP,
 * RFC 959 §4.1), as textproto.Reader does in Go: CRLF or a bare LF (a student's `nc`) ends a line. A line longer than `maxLength` is dropped up to its end and reported, so one
 * bad line does not cost the session, and a client cannot make us buffer without limit.
 */
export class LineReader {
  private pending: Buffer[] = [];
  private pendingLength = 0;
  private dropping = false;

  constructor(
    private readonly maxLength: number,
    private readonly onLine: (line: string) => void,
    private readonly onTooLong: () => void,
  ) {}

  push(chunk: Buffer): void {
    let start = 0;
    while (start < chunk.length) {
      const lf = chunk.indexOf(0x0a, start);
      if (lf === -1) {
        this.keep(chunk.subarray(start));
        return;
      }
      this.keep(chunk.subarray(start, lf));
      this.endLine();
      start = lf + 1;
    }
  }

  /** Forgets a line begun and not ended: its bytes came before a switch (STARTTLS, AUTH TLS). */
  reset(): void {
    this.pending = [];
    this.pendingLength = 0;
    this.dropping = false;
  }

  private keep(part: Buffer): void {
    if (this.dropping) return;
    if (this.pendingLength + part.length > this.maxLength) {
      this.pending = [];
      this.pendingLength = 0;
      this.dropping = true;
      return;
    }
    this.pending.push(part);
    this.pendingLength += part.length;
  }

  private endLine(): void {
    if (this.dropping) {
      this.dropping = false;
      this.onTooLong();
      return;
    }
    const line = Buffer.concat(this.pending).toString('utf8');
    this.pending = [];
    this.pendingLength = 0;
    this.onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  }
}
