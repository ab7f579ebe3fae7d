/**
 * What the sheets say of `nc` (netcat-openbsd, Debian's and Ubuntu's) when a lab server closes the
 * connection, checked against the lab in a pseudo-terminal as a student types: after `221` nc does
 * not give the prompt back, whatever -N or -q 0 (they act on the end of the input, not on the
 * server's close); Ctrl-D does. On FTP's data connection, `nc -d` (no keyboard) ends with it.
 */
import { execFile, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import path from 'node:path';
import { type TempLab, tempLab } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startLab } from './labs/helpers.js';

const nc = spawnSync('nc', ['-h'], { encoding: 'utf8' });
const openbsd = /-N\s+Shutdown the network socket/.test(`${nc.stdout}${nc.stderr}`);
if (!openbsd)
  console.warn('nc.test.ts skipped: netcat-openbsd is not installed (apt-get install netcat-openbsd)');

interface Run {
  exitedAlone: boolean;
  exitedAfterCtrlD: boolean | null;
  output: string;
}

function typed(spec: object): Promise<Run> {
  return new Promise((resolve, reject) =>
    execFile(
      'python3',
      [path.join(import.meta.dirname, 'nc', 'pty_run.py'), JSON.stringify(spec)],
      (err, out) => (err ? reject(err) : resolve(JSON.parse(out))),
    ),
  );
}

describe.skipIf(!openbsd)('nc and the closed connection', () => {
  let lab: TempLab;
  let stop: () => Promise<void>;
  beforeAll(async () => {
    lab = await tempLab();
    stop = (await startLab(lab)).stop;
  });
  afterAll(async () => {
    await stop?.();
    lab?.cleanup();
  });

  it.each([[[]], [['-N']], [['-q', '0']]])(
    'after QUIT and 221, nc %j waits; Ctrl-D gives the prompt back',
    async (opts) => {
      const r = await typed({
        argv: ['nc', '-C', ...opts, '127.0.0.1', String(lab.ports.smtp)],
        ready: '^220 ',
        send: ['QUIT'],
        until: '^221 ',
        watch: 2,
        afterwards: 'ctrl-d',
      });
      expect(r.output).toMatch(/^221 /m);
      expect(r.exitedAlone).toBe(false);
      expect(r.exitedAfterCtrlD).toBe(true);
    },
  );

  it('FTP: `nc -d` on the data connection ends when the server closes it after the list', async () => {
    // The control connection, logged in, in passive mode (RFC 959 §4.1.2 PASV).
    const control = connect(lab.ports.ftp, '127.0.0.1');
    let said = '';
    control.on('data', (d) => {
      said += d;
    });
    const reply = async (code: string) => {
      for (;;) {
        const m = new RegExp(`^${code} .*$`, 'm').exec(said);
        if (m) {
          said = said.slice(m.index + m[0].length);
          return m[0];
        }
        await new Promise((r) => control.once('data', r));
      }
    };
    await reply('220');
    control.write('USER alice\r\n');
    await reply('331');
    control.write('PASS wonderland\r\n');
    await reply('230');
    control.write('PASV\r\n');
    const [, p1, p2] = /,(\d+),(\d+)\)/.exec(await reply('227'))!;
    const port = Number(p1) * 256 + Number(p2);
    // nc waits for the list; the server waits for nc's connection before sending it.
    const data = typed({ argv: ['nc', '-d', '127.0.0.1', String(port)], watch: 15 });
    control.write('LIST\r\n');
    await reply('226');
    const r = await data;
    control.end('QUIT\r\n');
    expect(r.output).toMatch(/public_html/);
    expect(r.exitedAlone).toBe(true);
  });
});
