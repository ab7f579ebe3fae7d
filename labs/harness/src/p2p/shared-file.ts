/**
 * The file labs 5 and 6 share: bytes the project generates, and their SHA-1 to say a copy is whole.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { stat, writeFile } from 'node:fs/promises';

/**
 * The shared file: bytes the project generates (AES-CTR over zeros, fixed key), so it is free to
 * share and the same on every machine. Never a copyrighted work: the lesson on legal use starts here.
 * A file already there with the right size is kept (the same bytes, made by an earlier run).
 */
export async function makeFile(file: string, size: number): Promise<void> {
  if (existsSync(file) && (await stat(file)).size === size) return;
  const cipher = createCipheriv('aes-128-ctr', Buffer.alloc(16, 'portlab-lab-5'), Buffer.alloc(16));
  await writeFile(file, cipher.update(Buffer.alloc(size)));
}

/** The SHA-1 of a whole file, hex: a downloaded copy is whole when it matches the original's. */
export async function sha1Of(file: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
