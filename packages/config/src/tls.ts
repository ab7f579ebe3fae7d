import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';

/** How long to wait for the certificate of a pair another process has begun to write. */
const PAIR_WAIT_MS = 10_000;

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
  const existing = readPair(keyFile, certFile);
  if (existing) return { ...existing, created: false };
  const names = [
    ...new Set(['localhost', 'lab.test', '*.lab.test', hostname(), '127.0.0.1', '::1', ...extraNames]),
  ];
  const notBeforeDate = new Date();
  const notAfterDate = new Date(notBeforeDate);
  notAfterDate.setFullYear(notAfterDate.getFullYear() + 2);
  // Loaded only to make a pair, once per lab: every app process imports this package, and
  // selfsigned (with node-forge) would hold about 3 MB of each one's heap for nothing.
  const { generate } = await import('selfsigned');
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
  // Two apps may start at once on an empty data dir, each with a pair of its own. Whoever links
  // key.pem first (link() fails on an existing name: an atomic test-and-set) writes the pair; the
  // others throw theirs away and wait for its cert.pem. So every app serves the pair on disk.
  const keyTmp = `${keyFile}.${process.pid}.tmp`;
  const certTmp = `${certFile}.${process.pid}.tmp`;
  writeFileSync(keyTmp, pems.private, { mode: 0o600 });
  writeFileSync(certTmp, pems.cert, { mode: 0o644 });
  let created = false;
  try {
    linkSync(keyTmp, keyFile);
    linkSync(certTmp, certFile);
    created = true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(keyTmp, { force: true });
    rmSync(certTmp, { force: true });
  }
  return { ...(await waitForPair(keyFile, certFile)), created };
}

/** The key and certificate on disk, or null while either is missing. */
function readPair(keyFile: string, certFile: string): { key: string; cert: string } | null {
  try {
    return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    return null;
  }
}

/** The pair another process is writing: its cert.pem follows its key.pem within milliseconds. */
async function waitForPair(keyFile: string, certFile: string): Promise<{ key: string; cert: string }> {
  for (let waited = 0; waited < PAIR_WAIT_MS; waited += 50) {
    const pair = readPair(keyFile, certFile);
    if (pair) return pair;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(
    `${keyFile} exists but ${certFile} does not (a start was cut while making them): delete both and start again`,
  );
}
