import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Readable, Writable } from 'node:stream';
import { waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FilesApp, installed, login, run, startFiles, transcript } from './helpers.js';

let app: FilesApp;
let work: string;
const url = (p = '') => `ftp://alice:wonderland@127.0.0.1:${app.ftp}/${p}`;

beforeAll(async () => {
  app = await startFiles();
  work = path.join(app.lab.dir, 'client');
  mkdirSync(work);
});
afterAll(() => app.stop());

async function download(
  client: Awaited<ReturnType<typeof login>>,
  remote: string,
  startAt = 0,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      chunks.push(chunk);
      done();
    },
  });
  await client.downloadTo(sink, remote, startAt);
  return Buffer.concat(chunks);
}

describe('basic-ftp, passive mode', () => {
  it('uploads, lists (MLSD), downloads, and covers SIZE, MDTM, RNFR/RNTO, MKD/RMD, DELE, APPE, REST', async () => {
    const client = await login(app);
    const body = randomBytes(300_000);
    expect((await client.uploadFrom(Readable.from([body]), 'one.bin')).code).toBe(226);
    const listed = await client.list();
    expect(listed.find((f) => f.name === 'one.bin')?.size).toBe(body.length);
    expect(listed.find((f) => f.name === 'public_html')?.isDirectory).toBe(true);
    expect(await download(client, 'one.bin')).toEqual(body);
    expect(await client.size('one.bin')).toBe(body.length);
    expect(Math.abs((await client.lastMod('one.bin')).getTime() - Date.now())).toBeLessThan(60_000);

    // REST: resume a download broken after 100,000 bytes.
    expect(await download(client, 'one.bin', 100_000)).toEqual(body.subarray(100_000));

    // APPE adds to the end.
    await client.appendFrom(Readable.from([Buffer.from('tail')]), 'one.bin');
    expect(await client.size('one.bin')).toBe(body.length + 4);

    await client.ensureDir('/docs/deep'); // MKD, MKD, CWD
    expect(await client.pwd()).toBe('/docs/deep');
    await client.cd('/');
    await client.rename('one.bin', 'docs/renamed.bin');
    expect((await client.list('docs')).map((f) => f.name).sort()).toEqual(['deep', 'renamed.bin']);
    await client.remove('docs/renamed.bin'); // DELE
    expect((await client.send('RMD docs/deep')).code).toBe(250);
    await client.removeEmptyDir('docs');
    expect((await client.list()).map((f) => f.name)).toEqual(['public_html']);
    client.close();
  });

  it('lists with LIST in the ls -l format as well', async () => {
    const client = await login(app);
    client.availableListCommands = ['LIST'];
    const listed = await client.list('/');
    expect(listed.find((f) => f.name === 'public_html')?.isDirectory).toBe(true);
    client.close();
  });
});

describe('FTPS', () => {
  it('explicit (AUTH TLS, PBSZ, PROT P) with basic-ftp', async () => {
    const client = await login(app, { secure: true });
    const body = randomBytes(50_000);
    await client.uploadFrom(Readable.from([body]), 'tls.bin');
    expect(await download(client, 'tls.bin')).toEqual(body);
    await client.remove('tls.bin');
    client.close();
  });

  it('implicit, on the ftps port, with basic-ftp', async () => {
    const client = await login(app, { secure: 'implicit' });
    expect(await client.pwd()).toBe('/');
    expect((await client.list()).map((f) => f.name)).toContain('public_html');
    client.close();
  });
});

describe('a file downloaded again and again (hot-files.ts holds it)', () => {
  it('comes whole, from any REST offset, and as it is now once it changed, even to the same size', async () => {
    const file = path.join(app.home('alice'), 'sheet.bin');
    const first = randomBytes(300_000);
    writeFileSync(file, first);
    // Held only once its times are over a second old (hot-files.ts, SETTLED_NS).
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const client = await login(app);
    try {
      expect(await download(client, 'sheet.bin')).toEqual(first); // read from the disk, then held
      expect(await download(client, 'sheet.bin')).toEqual(first); // from memory
      expect(await download(client, 'sheet.bin', 123_456)).toEqual(first.subarray(123_456));
      const second = randomBytes(300_000);
      writeFileSync(file, second);
      expect(await download(client, 'sheet.bin')).toEqual(second);
    } finally {
      client.close();
    }
  });
});

describe('curl', () => {
  it('uploads with -T, downloads, lists, and resumes a download with -C - (REST)', async () => {
    const file = path.join(work, 'curl.bin');
    const body = randomBytes(200_000);
    writeFileSync(file, body);
    expect((await run('curl', ['-sS', '-T', file, url('public_html/')])).code).toBe(0);
    const got = await run('curl', ['-sS', '-o', path.join(work, 'back.bin'), url('public_html/curl.bin')]);
    expect(got.code).toBe(0);
    expect(readFileSync(path.join(work, 'back.bin'))).toEqual(body);
    expect((await run('curl', ['-sS', url('public_html/')])).stdout).toMatch(/curl\.bin\r?\n/);

    writeFileSync(path.join(work, 'part.bin'), body.subarray(0, 80_000));
    const resumed = await run('curl', [
      '-sS',
      '-C',
      '-',
      '-o',
      path.join(work, 'part.bin'),
      url('public_html/curl.bin'),
    ]);
    expect(resumed.code).toBe(0);
    expect(readFileSync(path.join(work, 'part.bin'))).toEqual(body);
  });

  it('requires TLS with --ssl-reqd (explicit FTPS) and speaks implicit FTPS', async () => {
    const explicit = await run('curl', ['-sS', '--ssl-reqd', '-k', url('public_html/curl.bin')]);
    expect(explicit.code).toBe(0);
    expect(explicit.bytes).toEqual(readFileSync(path.join(work, 'curl.bin')));
    const implicit = await run('curl', [
      '-sS',
      '-k',
      `ftps://alice:wonderland@127.0.0.1:${app.ftps}/public_html/curl.bin`,
    ]);
    expect(implicit.bytes).toEqual(readFileSync(path.join(work, 'curl.bin')));
  });

  it('works in active mode (PORT and EPRT): the server dials the client', async () => {
    const port = await run('curl', ['-sS', '-P', '127.0.0.1', '--disable-eprt', url('public_html/curl.bin')]);
    expect(port.bytes).toEqual(readFileSync(path.join(work, 'curl.bin')));
    const eprt = await run('curl', ['-sS', '-P', '127.0.0.1', url('public_html/curl.bin')]);
    expect(eprt.bytes).toEqual(readFileSync(path.join(work, 'curl.bin')));
  });
});

describe('large uploads (more than one buffer of the receiver)', () => {
  it('arrive whole in passive mode, active mode and over TLS; the transcript counts the bytes', async () => {
    const file = path.join(work, 'large.bin');
    const body = randomBytes(5_000_000);
    writeFileSync(file, body);
    const ways: [string, string[]][] = [
      ['passive.bin', []], // A plain data connection read straight into the buffer (read-into.ts).
      ['active.bin', ['-P', '127.0.0.1']], // The server dials: a socket it made itself.
      ['tls.bin', ['--ssl-reqd', '-k']], // PROT P: decrypted chunks copied into the buffer.
    ];
    for (const [name, options] of ways) {
      const sent = await run('curl', ['-sS', ...options, '-T', file, url(name)]);
      expect(sent.stderr).toBe('');
      expect(readFileSync(path.join(app.home('alice'), name)).equals(body)).toBe(true);
    }
    await waitFor(
      () =>
        transcript(app).some((e) =>
          e.line?.startsWith(`data connection closed: 0 bytes sent, ${body.length} received in `),
        ),
      { what: 'the upload counted in the transcript' },
    );
  });
});

describe("python3's ftplib", () => {
  const script = (tls: boolean) => `
import ftplib, io, ssl, sys
f = ftplib.${tls ? 'FTP_TLS' : 'FTP'}()
f.connect('127.0.0.1', ${0}, timeout=10)
${tls ? 'f.context.check_hostname = False\nf.context.verify_mode = ssl.CERT_NONE\nf.auth()' : ''}
f.login('alice', 'wonderland')
${tls ? 'f.prot_p()' : ''}
data = bytes(range(256)) * 1000
f.storbinary('STOR py.bin', io.BytesIO(data))
got = io.BytesIO()
f.retrbinary('RETR py.bin', got.write)
assert got.getvalue() == data, 'download differs'
facts = dict(f.mlsd())
assert facts['py.bin']['size'] == str(len(data)), facts
f.set_pasv(False)
got = io.BytesIO()
f.retrbinary('RETR py.bin', got.write)
assert got.getvalue() == data, 'active download differs'
f.delete('py.bin')
print('ok', f.pwd())
f.quit()
`;
  for (const tls of [false, true]) {
    it(`${tls ? 'FTP_TLS (AUTH TLS, PROT P)' : 'FTP'}: STOR, RETR, MLSD, active mode, DELE`, async () => {
      const result = await run('python3', [
        '-c',
        script(tls).replace("'127.0.0.1', 0", `'127.0.0.1', ${app.ftp}`),
      ]);
      expect(result.stderr).toBe('');
      expect(result.stdout.trim()).toBe('ok /');
    });
  }
});

describe('resumed uploads (REST, then STOR; RFC 3659 §5)', () => {
  it("keep the first bytes of the file and write the rest after them, with python3's ftplib", async () => {
    const result = await run('python3', [
      '-c',
      `
import ftplib, io
f = ftplib.FTP()
f.connect('127.0.0.1', ${app.ftp}, timeout=10)
f.login('alice', 'wonderland')
f.storbinary('STOR resumed.bin', io.BytesIO(b'a' * 1000))
f.storbinary('STOR resumed.bin', io.BytesIO(b'b' * 600), rest=400)
try:
    f.storbinary('STOR resumed.bin', io.BytesIO(b'c'), rest=5000)
except ftplib.error_perm as e:
    print(e)
f.quit()
`,
    ]);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('554 /resumed.bin: REST 5000 is past the end of the file (1000 bytes)');
    expect(readFileSync(path.join(app.home('alice'), 'resumed.bin'), 'latin1')).toBe(
      'a'.repeat(400) + 'b'.repeat(600),
    );
  });
});

describe('lftp', () => {
  it.skipIf(!installed('lftp'))('mirrors a local folder up with mirror -R', async () => {
    const site = path.join(work, 'site');
    mkdirSync(path.join(site, 'img'), { recursive: true });
    writeFileSync(path.join(site, 'index.html'), '<h1>hello</h1>\n');
    writeFileSync(path.join(site, 'img', 'dot.bin'), randomBytes(10_000));
    const commands = [
      'set ssl:verify-certificate no',
      `open -u alice,wonderland -p ${app.ftp} 127.0.0.1`,
      `mirror -R ${site} /public_html/site`,
      'bye',
    ].join('; ');
    const result = await run('lftp', ['-c', commands]);
    expect(result.stderr).toBe('');
    const uploaded = path.join(app.home('alice'), 'public_html', 'site');
    expect(readFileSync(path.join(uploaded, 'index.html'), 'utf8')).toBe('<h1>hello</h1>\n');
    expect(readFileSync(path.join(uploaded, 'img', 'dot.bin'))).toEqual(
      readFileSync(path.join(site, 'img', 'dot.bin')),
    );
  });
  if (!installed('lftp'))
    it.skip('lftp is not installed (Debian package lftp; .ci/run installs it)', () => {});
});

describe('the transcript', () => {
  it('shows the control conversation and, for each transfer, the data connection', async () => {
    const client = await login(app);
    await client.send('PASV');
    client.close();
    const events = await waitFor(
      () => {
        const all = transcript(app);
        return all.some((e) => e.line?.startsWith('data connection closed')) &&
          all.some((e) => e.line?.startsWith('227 ...'))
          ? all
          : false;
      },
      { what: 'data connection lines in ftp.ndjson' },
    );
    const lines = events.filter((e) => e.line);
    expect(lines.find((e) => e.line === 'PASS wonderland')?.flags).toEqual(['credentials']);
    expect(lines.find((e) => e.line?.startsWith('234 '))?.flags).toEqual(['tls']);
    const pasv = lines.find((e) => e.line?.startsWith('227 ...'))!;
    const [, hi, lo, port] = /\(127,0,0,1,(\d+),(\d+)\) -> data port (\d+)/.exec(pasv.line!)!;
    expect(Number(hi) * 256 + Number(lo)).toBe(Number(port));
    expect(pasv.flags).toEqual(['data']);
    const closed = lines.find((e) =>
      /data connection closed: \d+ bytes sent, \d+ received in \d+ ms/.test(e.line!),
    );
    expect(closed?.flags).toEqual(['data']);
    expect(lines.some((e) => /data connection open \(active/.test(e.line!))).toBe(true);
  });
});
