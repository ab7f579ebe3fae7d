/**
 * A transcript is for reading, not for replaying: a client that sends a megabyte line must not
 * make a megabyte log line. Long lines keep their start and say how long they were.
 */
export function summarizeLine(line: string, maxLength: number): { line: string; truncated: boolean } {
  if (line.length <= maxLength) return { line, truncated: false };
  const bytes = Buffer.byteLength(line);
  return { line: `${line.slice(0, maxLength)}… [${bytes} bytes in all]`, truncated: true };
}
