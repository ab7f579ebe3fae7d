/**
 * Mail between the labs of a class (issue 18), on the namespace classroom: five student PCs, each
 * running its own mail app with its own domain (pc01.lab.test … pc05.lab.test) at its own address,
 * and on the teacher's PC a class DNS with an A and an MX record per lab (dns2, in this test until
 * apps/dns serves the zone). Every lab's alice sends to bob at the four others, through her own
 * lab's submission port; each lab's relay finds the MX by DNS and delivers to port 25 + 8000.
 * Needs root and iproute2; skipped elsewhere, saying why.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '@portlab/config';
import {
  type ClassroomNetwork,
  createClassroomNetwork,
  type MailApp,
  maildirMessages,
  type NetHost,
  namespaceSupport,
  startMailApp,
  waitFor,
} from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LABS = 5;
const DNS_PORT = 8053;
const support = namespaceSupport();
if (!support.ok) console.warn(`classroom-mail.test.ts skipped: ${support.reason}`);

const domainOf = (i: number) => `pc${String(i + 1).padStart(2, '0')}.lab.test`;
/** A lab of the class whose address no PC holds: its mail never finds a server. */
const GONE = 'pc09.lab.test';

interface Sent {
  messageId: string;
  to: string;
  ok: boolean;
  code?: number;
  response?: string;
}

/** alice of a lab sends each message through her own lab's submission port (nodemailer, on her PC). */
function sendFrom(
  net: ClassroomNetwork,
  pc: NetHost,
  domain: string,
  messages: { to: string; messageId: string }[],
): Promise<Sent[]> {
  const script = `
    const { default: nodemailer } = await import('nodemailer');
    const { host, from, messages } = JSON.parse(process.env.SEND);
    const transport = nodemailer.createTransport({ host, port: 8587, ignoreTLS: true, auth: { user: 'alice', pass: 'wonderland' } });
    const sent = [];
    for (const m of messages) {
      try {
        await transport.sendMail({ from, to: m.to, subject: 'across the class', text: 'hello', messageId: m.messageId });
        sent.push({ ...m, ok: true });
      } catch (e) {
        sent.push({ ...m, ok: false, code: e.responseCode, response: e.response });
      }
    }
    console.log(JSON.stringify(sent));`;
  const child = net.spawn(pc, process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, SEND: JSON.stringify({ host: pc.address, from: `alice@${domain}`, messages }) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => {
      out += d;
    });
    child.stderr!.on('data', (d) => {
      err += d;
    });
    child.once('exit', (code) => {
      try {
        resolve(JSON.parse(out) as Sent[]);
      } catch {
        reject(new Error(`the sender on ${pc.ns} exited ${code}: ${err}`));
      }
    });
  });
}

describe.skipIf(!support.ok)(`mail between ${LABS} labs of a class, each its own domain`, () => {
  let net: ClassroomNetwork;
  let dir: string;
  let dns: ChildProcess;
  let labs: MailApp[] = [];
  let round = 0;

  /** Every lab's alice (those of `senders`) sends one message to bob at each domain of `to(i)`. */
  async function sendRound(senders: number[], to: (i: number) => string[]): Promise<Sent[]> {
    round += 1;
    const all = await Promise.all(
      senders.map((i) =>
        sendFrom(
          net,
          net.students[i]!,
          domainOf(i),
          to(i).map((domain) => ({
            to: `bob@${domain}`,
            messageId: `<r${round}.from-${domainOf(i)}.to-${domain}@test>`,
          })),
        ),
      ),
    );
    return all.flat();
  }

  /** How many times each Message-ID is in bob's INBOX of lab i. */
  const countsAt = (i: number) => {
    const counts = new Map<string, number>();
    for (const m of maildirMessages(labs[i]!.dataDir, 'bob'))
      counts.set(m.messageId, (counts.get(m.messageId) ?? 0) + 1);
    return counts;
  };
  const arrived = (sent: Sent[]) => sent.every((s) => (countsAt(labIndex(s.to)).get(s.messageId) ?? 0) >= 1);
  const labIndex = (address: string) => Number(/@pc(\d+)\./.exec(address)![1]) - 1;
  const queued = (i: number) =>
    readdirSync(path.join(labs[i]!.dataDir, 'queue')).filter((f) => f.endsWith('.msg'));

  beforeAll(async () => {
    net = createClassroomNetwork({ students: LABS, shaping: null });
    dir = mkdtempSync(path.join(tmpdir(), 'portlab-class-mail-'));
    // The class DNS on the teacher's PC: A and MX for each lab, and an A for a lab that is gone.
    const records = {
      a: Object.fromEntries([
        ...net.students.map((pc, i) => [domainOf(i), pc.address]),
        [GONE, '10.213.0.99'],
      ]),
      mx: Object.fromEntries([...net.students.map((_, i) => [domainOf(i), [domainOf(i)]]), [GONE, [GONE]]]),
    };
    const testkit = path.join(REPO_ROOT, 'packages', 'testkit', 'dist', 'index.js');
    dns = net.spawn(
      net.teacher,
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const { startZoneDns } = await import(${JSON.stringify(testkit)});
         await startZoneDns(${JSON.stringify(records)}, ${JSON.stringify(net.teacher.address)}, ${DNS_PORT});
         console.log('listening');`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      dns.stdout!.once('data', () => resolve());
      dns.once('exit', (code) => reject(new Error(`the class DNS exited (${code})`)));
    });
    labs = await Promise.all(
      net.students.map((pc, i) =>
        startMailApp({
          dir: path.join(dir, domainOf(i)),
          host: pc.address,
          domain: domainOf(i),
          relay: {
            dns: `${net.teacher.address}:${DNS_PORT}`,
            retry: { firstDelayMs: 200, maxDelayMs: 1000 },
            // pc02 gives up quickly (its bounce is tested); the others wait for a lab that is away.
            maxAgeSeconds: i === 1 ? 4 : 120,
            connectTimeoutMs: 1000,
          },
          spawn: (command, args, options) => net.spawn(pc, command, args, options),
        }),
      ),
    );
  });

  afterAll(async () => {
    await Promise.all(labs.map((lab) => lab.stop('SIGKILL')));
    dns?.kill('SIGKILL');
    net?.destroy();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('each lab sends to the four others: every message delivered exactly once, a Received header per hop', async () => {
    const everyone = labs.map((_, i) => i);
    const sent = await sendRound(everyone, (i) => everyone.filter((j) => j !== i).map(domainOf));
    expect(sent).toHaveLength(LABS * (LABS - 1));
    expect(sent.filter((s) => !s.ok)).toEqual([]);
    await waitFor(() => arrived(sent), { what: 'every message in its INBOX' });
    for (const s of sent) {
      const j = labIndex(s.to);
      expect(countsAt(j).get(s.messageId), s.messageId).toBe(1);
      const text = maildirMessages(labs[j]!.dataDir, 'bob').find((m) => m.messageId === s.messageId)!.text;
      const from = /from-(pc\d+\.lab\.test)/.exec(s.messageId)![1]!;
      const i = labIndex(`x@${from}`);
      const received = [...text.matchAll(/^Received: ([\s\S]*?;)/gm)].map((m) => m[1]!.replace(/\s+/g, ' '));
      // Newest first (RFC 5321 §4.4): the recipient's MX, then the sender's submission.
      expect(received[0]).toMatch(
        new RegExp(
          `^from ${from} \\(\\[${net.students[i]!.address}\\]\\) by ${domainOf(j)} \\(portlab\\) with ESMTP id`,
        ),
      );
      expect(received[1]).toMatch(
        new RegExp(
          `\\(Authenticated sender: alice\\) by ${from} \\(portlab\\) with ESMTPA id \\w+ for <${s.to}>;`,
        ),
      );
    }
    await waitFor(() => labs.every((_, i) => queued(i).length === 0), { what: 'every queue empty' });
  });

  it('refuses to relay to a domain outside the class, at RCPT (550 5.7.1)', async () => {
    const [refused] = await sendFrom(net, net.students[2]!, domainOf(2), [
      { to: 'someone@example.com', messageId: '<outside@test>' },
    ]);
    expect(refused).toMatchObject({ ok: false, code: 550 });
    expect(refused!.response).toMatch(/^550 5\.7\.1 .*relaying denied/);
    expect(queued(2)).toEqual([]);
  });

  it('a lab away midway gets its mail when it returns; a kill -9 of a sender holding it loses nothing, sends nothing twice', async () => {
    const away = 4;
    await labs[away]!.stop('SIGTERM');
    const senders = [0, 2, 3];
    const sent = await sendRound(senders, (i) => [0, 1, 2, 3, 4].filter((j) => j !== i).map(domainOf));
    expect(sent.filter((s) => !s.ok)).toEqual([]);
    const forAway = sent.filter((s) => labIndex(s.to) === away);
    await waitFor(() => arrived(sent.filter((s) => labIndex(s.to) !== away)), {
      what: 'the mail of the labs still up',
    });
    // pc01's queue holds the message for pc05 (retried, refused each time); kill -9 it there.
    await waitFor(() => queued(0).length === 1, { what: "pc01's queue to hold only the message for pc05" });
    await labs[0]!.stop('SIGKILL');
    expect(queued(0)).toHaveLength(1);
    await labs[0]!.start();
    await labs[away]!.start();
    await waitFor(() => arrived(forAway), { what: 'the mail for the lab that came back' });
    await waitFor(() => senders.every((i) => queued(i).length === 0), { what: "the senders' queues empty" });
    for (const s of sent) expect(countsAt(labIndex(s.to)).get(s.messageId), s.messageId).toBe(1);
    // The retries are in the relay's transcript: connections pc05 refused while it was away.
    const log = readFileSync(path.join(labs[2]!.dataDir, 'log', 'relay.ndjson'), 'utf8');
    expect(log).toContain(`no connection to ${net.students[away]!.address}:8025`);
  });

  it('an address that never answers: the sender gets a bounce (RFC 3464) after maxAgeSeconds', async () => {
    const [sent] = await sendFrom(net, net.students[1]!, domainOf(1), [
      { to: `carol@${GONE}`, messageId: '<never@test>' },
    ]);
    expect(sent!.ok).toBe(true);
    const bounce = await waitFor(
      () =>
        maildirMessages(labs[1]!.dataDir, 'alice').find((m) =>
          m.text.includes(`Final-Recipient: rfc822; carol@${GONE}`),
        ),
      { what: `the bounce for carol@${GONE}` },
    );
    expect(bounce.text).toMatch(/report-type=delivery-status/);
    expect(bounce.text).toMatch(/Action: failed\r\nStatus: 4\.4\.7/);
    expect(bounce.text).toContain('Message-ID: <never@test>');
    expect(queued(1)).toEqual([]);
  });
});
