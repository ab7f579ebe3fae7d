import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface LabCertificate {
  key: string;
  cert: string;
  created: boolean;
}

/**
 * The lab certificate: self-signed, made once in $DATA/tls/ and reused, so a student accepts the
 * browser's warning once. Its subjectAltName lists every name a client may use to reach the lab
 * (RFC 6125: clients match the name they dialled against the SAN, not the CN).
 */
export async function ensureLabCertificate(
  tlsDir: string,
  extraNames: string[] = [],
): Promise<LabCertificate> {
  const keyFile = path.join(tlsDir, 'key.pem');
  const certFile = path.join(tlsDir, 'cert.pem');
  try {
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), created: false };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const names = [
    ...new Set(['localhost', 'lab.test', '*.lab.test', hostname(), '127.0.0.1', '::1', ...extraNames]),
  ];
  const notBeforeDate = new Date();
  const notAfterDate = new Date(notBeforeDate);
  notAfterDate.setFullYear(notAfterDate.getFullYear() + 2);
  const pems = await generate([{ name: 'commonName', value: 'portlab lab certificate' }], {
    keySize: 2048,
    algorithm: 'sha256', // selfsigned 5 signs with SHA-1 unless told; browsers reject SHA-1.
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: names.map((n) => (isIP(n) ? { type: 7 as const, ip: n } : { type: 2 as const, value: n })),
      },
    ],
  });
  mkdirSync(tlsDir, { recursive: true });
  // Two apps may start at once: each writes its own temp file and renames, so the pair read
  // back is always a whole one (the later rename wins for both files in the same order).
  writeAtomic(keyFile, pems.private, 0o600);
  writeAtomic(certFile, pems.cert, 0o644);
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8'), created: true };
}

function writeAtomic(file: string, text: string, mode: number): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, file);
}
