import { existsSync, statSync } from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import { waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FilesApp, leftoverUploads, RawFtp, startFiles } from './helpers.js';

const QUOTA = 4_000_000;
let app: FilesApp;

beforeAll(async () => {
  app = await startFiles({ files: { quotaBytes: QUOTA } });
});
afterAll(() => app?.stop());

const home = () => app.home('alice');

/** A STOR begun on its own session: the control connection and the data connection it sends on. */
async function beginStor(name: string): Promise<{ raw: RawFtp; data: Socket }> {
  const raw = await RawFtp.connect(app.ftp);
  await raw.login();
  const data = await raw.passive();
  expect(await raw.send(`STOR ${name}`)).toMatch(/^150/);
  return { raw, data };
}

/** Bytes the uploads in progress hold on disk (their hidden temp files). */
const inProgress = () =>
  leftoverUploads(home()).reduce((sum, f) => sum + statSync(path.join(home(), f)).size, 0);

describe('the quota against uploads side by side', () => {
  it('two uploads at once cannot store more than the quota between them', async () => {
    // Two sessions begin their STOR before either has sent a byte: each alone fits in 4 MB, not both.
    const a = await beginStor('a.bin');
    const b = await beginStor('b.bin');
    a.data.write(Buffer.alloc(3_000_000, 1));
    // Written to its temp file, but for what the server's 512 KiB receive buffer may still hold.
    await waitFor(() => inProgress() >= 2_400_000, { what: "a.bin's bytes on disk" });
    b.data.end(Buffer.alloc(3_000_000, 2));
    const bReply = await b.raw.reply();
    a.data.end();
    const aReply = await a.raw.reply();
    expect([aReply, bReply].filter((r) => r.startsWith('552'))).toHaveLength(1);
    expect(bReply).toMatch(/^552 .*quota of 4 MB exceeded; nothing stored/);
    expect(aReply).toMatch(/^226/);
    expect(existsSync(path.join(home(), 'b.bin'))).toBe(false);
    expect(leftoverUploads(home())).toEqual([]);
    a.raw.close();
    b.raw.close();
  });

  it("a user's file cannot take the name of an upload in progress, which the quota leaves out", async () => {
    const raw = await RawFtp.connect(app.ftp);
    await raw.login();
    const data = await raw.passive();
    expect(await raw.send('STOR .portlab-upload-mine')).toMatch(/^553 .*kept for uploads in progress/);
    data.destroy();
    // ftp-srv's MKD and RNTO answer 550 to every refusal; the reason is ours.
    expect(await raw.send('MKD .portlab-upload-dir')).toMatch(/^550 .*kept for uploads in progress/);
    expect(await raw.send('RNFR a.bin')).toMatch(/^350/);
    expect(await raw.send('RNTO .portlab-upload-a')).toMatch(/^550 .*kept for uploads in progress/);
    expect(existsSync(path.join(home(), 'a.bin'))).toBe(true);
    raw.close();
  });
});
