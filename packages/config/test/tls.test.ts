import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, statSync } from 'node:fs';
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
});
