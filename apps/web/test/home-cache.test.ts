import { type ChildProcess, spawn } from 'node:child_process';
import { statSync } from 'node:fs';
import { type LabConfig, loadConfig, settled } from '@portlab/config';
import { writeRunState } from '@portlab/service';
import { type TempLab, tempLab, waitFor } from '@portlab/testkit';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { homeRoutes } from '../src/routes/home.js';

let lab: TempLab;
let config: LabConfig;
let web: FastifyInstance;
let mailApp: ChildProcess;

/** The home page's smtp row: its state and its "clients now". */
async function smtpRow(): Promise<{ state: string; clients: number }> {
  const html = await (await fetch(`http://127.0.0.1:${lab.ports.http}/`)).text();
  const row = /<tr class="(\w+)"><td>[^<]*<\/td><td>smtp<\/td>.*?<td>(\d+)<\/td><\/tr>/.exec(html);
  expect(row, html).not.toBeNull();
  return { state: row![1]!, clients: Number(row![2]) };
}

function saysMail(pid: number, clients: number): void {
  writeRunState(config.paths.run, {
    app: 'mail',
    pid,
    startedAt: new Date().toISOString(),
    services: { smtp: { port: lab.ports.smtp, state: 'listening', clients } },
  });
}

beforeAll(async () => {
  lab = await tempLab();
  config = loadConfig({ file: lab.configFile, env: {} });
  // A live process standing for the mail app: what matters is that its pid is alive, then dead.
  mailApp = spawn('sleep', ['60']);
  web = Fastify();
  homeRoutes(web, config);
  await web.listen({ port: lab.ports.http, host: '127.0.0.1' });
});

afterAll(async () => {
  mailApp.kill('SIGKILL');
  await web.close();
  lab.cleanup();
});

describe('the home page, kept between requests, follows the apps', () => {
  it('shows a change of run file, and an app killed without a word (its pid dead, no file changed)', async () => {
    saysMail(mailApp.pid!, 3);
    expect(await smtpRow()).toEqual({ state: 'listening', clients: 3 });
    // Once the run folder's times are old enough for the page to be kept (CheckedFile), it is kept:
    await waitFor(() => settled(statSync(config.paths.run, { bigint: true })), {
      what: 'a settled run folder',
    });
    expect(await smtpRow()).toEqual({ state: 'listening', clients: 3 });
    expect(await smtpRow()).toEqual({ state: 'listening', clients: 3 });
    // SIGKILL: the app writes nothing more, its run file still says "listening".
    const exited = new Promise((resolve) => mailApp.once('exit', resolve));
    mailApp.kill('SIGKILL');
    await exited;
    expect(await smtpRow()).toEqual({ state: 'stopped', clients: 0 });
    // Started again (this test's own pid stands for it): the new run file is read at once.
    saysMail(process.pid, 5);
    expect(await smtpRow()).toEqual({ state: 'listening', clients: 5 });
  });
});
