import { execFile, execFileSync } from 'node:child_process';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureLabCertificate } from '../src/index.js';

describe('the lab certificate', () => {
  it('is made once, with the lab names in its subjectAltName, signed with SHA-256, and reused', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'portlab-tls-')), 'tls');
    const first = await ensureLabCertificate(dir, ['192.0.2.10']);
    expect(first.created).toBe(true);
    const x509 = new X509Certificate(first.cert);
    expect(x509.subjectAltName).toContain('DNS:localhost');
    expect(x509.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x509.subjectAltName).toContain('IP Address:192.0.2.10');
    expect(x509.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(first.key)))).toBe(
      true,
    );
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: first.cert }).toString();
    expect(text).toMatch(/Signature Algorithm: sha256WithRSAEncryption/);
    expect(statSync(path.join(dir, 'key.pem')).mode & 0o077).toBe(0);
    const second = await ensureLabCertificate(dir);
    expect(second.created).toBe(false);
    expect(second.cert).toBe(first.cert);
  });

  it('made by four processes at once on an empty data dir: all serve the one pair left on disk', async () => {
    const dir = path.join(mkdtempSync(path.join(tmpdir(), 'portlab-tls-')), 'tls');
    const lib = new URL('../dist/index.js', import.meta.url).href;
    const script = `const { ensureLabCertificate } = await import(${JSON.stringify(lib)});
      const pair = await ensureLabCertificate(process.argv[1]);
      process.stdout.write(JSON.stringify(pair));`;
    const run = () =>
      new Promise<{ key: string; cert: string; created: boolean }>((resolve, reject) =>
        execFile(process.execPath, ['--input-type=module', '-e', script, dir], (err, out) =>
          err ? reject(err) : resolve(JSON.parse(out)),
        ),
      );
    const pairs = await Promise.all([run(), run(), run(), run()]);
    const onDisk = readFileSync(path.join(dir, 'cert.pem'), 'utf8');
    for (const pair of pairs) {
      expect(pair.cert).toBe(onDisk);
      expect(new X509Certificate(pair.cert).checkPrivateKey(createPrivateKey(pair.key))).toBe(true);
    }
    expect(pairs.filter((p) => p.created)).toHaveLength(1);
    expect(readdirSync(dir).sort()).toEqual(['cert.pem', 'key.pem']); // no temp file left
  });
});
