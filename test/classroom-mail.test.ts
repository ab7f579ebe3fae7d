/**
 * Mail between the labs of a class (issue 18), on the namespace classroom, as a class lives it:
 *  - the teacher's PC runs the real class DNS (apps/dns, zone lab.test, on 8053) and the web app
 *    that takes registrations (POST /api/dns/register, 8080), with a class account e01…e05 each;
 *  - five student PCs each start their own lab as the sheet says, `portlab up --host <their
 *    address> --class-dns TEACHER --name pc03 --user e03` (every app; the password from
 *    PORTLAB_PASSWORD), with no `domain` in their config: the name makes the mail domain
 *    (pc03.lab.test), and the lab registers itself at its own address;
 *  - every lab's alice sends to bob at the four others through her own lab's submission port; each
 *    lab's relay asks the teacher's DNS for the MX (dns.classDns) and delivers to port 25 + 8000;
 *  - a lab leaves midway (`portlab stop mail`, as the sheet has a neighbour do) and comes back
 *    (`portlab start mail`); a mail app holding a queue is killed (kill -9, its pid from its run
 *    file) and its supervisor starts it again.
 * Needs root and iproute2; skipped elsewhere, saying why.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, UserStore } from '@portlab/config';
import {
  type ClassroomNetwork,
  configFileEnv,
  createClassroomNetwork,
  maildirMessages,
  type NetHost,
  namespaceSupport,
  PORTLAB_BIN,
  type TempLab,
  tempLab,
  waitFor,
} from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const LABS = 5;
/** The lab whose relay transcript is read, and that tries the relay outside the class: pc03. */
const PC03 = 2;
const support = namespaceSupport();
if (!support.ok) console.warn(`classroom-mail.test.ts skipped: ${support.reason}`);

const nameOf = (i: number) => `pc${String(i + 1).padStart(2, '0')}`;
const domainOf = (i: number) => `${nameOf(i)}.lab.test`;
const accountOf = (i: number) => ({
  name: `e${String(i + 1).padStart(2, '0')}`,
  password: `mot-de-passe-${i + 1}7`,
});
/** A lab the teacher listed at an address no PC holds: its mail never finds a server. */
const GONE = 'pc09';

/** The relay's settings of every student lab: quick retries; pc02 gives up fast (its bounce is tested). */
const relayOf = (i: number) => ({
  retry: { firstDelayMs: 200, maxDelayMs: 1000 },
  maxAgeSeconds: i === 1 ? 4 : 120,
  connectTimeoutMs: 1000,
});

interface Sent {
  messageId: string;
  to: string;
  ok: boolean;
  code?: number;
  response?: string;
}

/** Runs a node script on a PC of the classroom; resolves with its standard output, rejects if it fails. */
function nodeOn(net: ClassroomNetwork, pc: NetHost, script: string, env: NodeJS.ProcessEnv): Promise<string> {
  const child = net.spawn(pc, process.execPath, ['--input-type=module', '-e', script], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d) => (out += d));
    child.stderr!.on('data', (d) => (err += d));
    child.once('exit', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`node on ${pc.ns} exited ${code}: ${err}`)),
    );
  });
}

/** alice of a lab sends each message through her own lab's submission port (nodemailer, on her PC). */
async function sendFrom(
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
  const out = await nodeOn(net, pc, script, {
    SEND: JSON.stringify({ host: pc.address, from: `alice@${domain}`, messages }),
  });
  return JSON.parse(out) as Sent[];
}

describe.skipIf(!support.ok)(
  `mail between ${LABS} labs of a class, each its own domain in the class DNS`,
  () => {
    let net: ClassroomNetwork;
    let dir: string;
    let teacher: TempLab;
    const teacherApps: ChildProcess[] = [];
    /** Each student lab: its data dir, its environment for `portlab` commands, `portlab up` and what it printed. */
    const dataDirs: string[] = [];
    const envs: NodeJS.ProcessEnv[] = [];
    const ups: ChildProcess[] = [];
    const outputs: string[] = [];
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
      for (const m of maildirMessages(dataDirs[i]!, 'bob'))
        counts.set(m.messageId, (counts.get(m.messageId) ?? 0) + 1);
      return counts;
    };
    const arrived = (sent: Sent[]) =>
      sent.every((s) => (countsAt(labIndex(s.to)).get(s.messageId) ?? 0) >= 1);
    const labIndex = (address: string) => Number(/@pc(\d+)\./.exec(address)![1]) - 1;
    const queued = (i: number) => {
      try {
        return readdirSync(path.join(dataDirs[i]!, 'queue')).filter((f) => f.endsWith('.msg'));
      } catch {
        return []; // no queue yet: nothing was ever relayed
      }
    };

    /** A student's lab, as the student starts it; resolves once it says it registered. */
    async function startLab(i: number): Promise<void> {
      const labDir = path.join(dir, nameOf(i));
      mkdirSync(labDir, { recursive: true });
      const configFile = path.join(labDir, 'portlab.config.json');
      dataDirs[i] = path.join(labDir, 'var');
      // No domain: `--name pcNN` makes it pcNN.lab.test. The demo accounts on a LAN address: no one else is here.
      writeFileSync(
        configFile,
        JSON.stringify({ dataDir: dataDirs[i], allowDemoPasswords: true, mail: { relay: relayOf(i) } }),
      );
      envs[i] = configFileEnv(configFile);
      const pc = net.students[i]!;
      outputs[i] = '';
      const child = net.spawn(
        pc,
        process.execPath,
        [
          PORTLAB_BIN,
          'up',
          '--host',
          pc.address,
          '--class-dns',
          net.teacher.address,
          '--name',
          nameOf(i),
          '--user',
          accountOf(i).name,
        ],
        {
          cwd: labDir,
          env: { ...envs[i], PORTLAB_PASSWORD: accountOf(i).password },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      ups[i] = child;
      child.stdout!.on('data', (d) => (outputs[i] += d));
      child.stderr!.on('data', (d) => (outputs[i] += d));
      await waitFor(() => /^class DNS: .*$/m.test(outputs[i]!) || child.exitCode !== null, {
        timeoutMs: 80_000,
        what: `portlab up on ${pc.ns} to register:\n${outputs[i]}`,
      });
      // On a busy machine `portlab up` may say its table before every app is listening: wait for mail's ports.
      await waitFor(() => mailListening(i), {
        timeoutMs: 60_000,
        what: `the mail app of ${nameOf(i)}:\n${outputs[i]}`,
      });
    }

    /** `portlab stop mail` / `start mail` on lab i (the supervisor's control socket, in its data dir). */
    function control(i: number, command: 'stop' | 'start'): void {
      const result = spawnSync(process.execPath, [PORTLAB_BIN, command, 'mail'], {
        env: envs[i],
        encoding: 'utf8',
      });
      expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
    }
    const mailListening = (i: number): boolean => {
      try {
        const run = JSON.parse(readFileSync(path.join(dataDirs[i]!, 'run', 'mail.json'), 'utf8'));
        return ['smtp', 'submission'].every((s) => run.services[s]?.state === 'listening');
      } catch {
        return false; // not written yet
      }
    };
    const mailPid = (i: number): number =>
      JSON.parse(readFileSync(path.join(dataDirs[i]!, 'run', 'mail.json'), 'utf8')).pid;

    beforeAll(async () => {
      net = createClassroomNetwork({ students: LABS, shaping: null });
      dir = mkdtempSync(path.join(tmpdir(), 'portlab-class-mail-'));
      // The teacher's lab: the class DNS and the web app that takes registrations, on the ports of
      // the plan (8053, 8080), as in a classroom; a class account per student.
      teacher = await tempLab({ host: net.teacher.address, ports: { dns: 8053, http: 8080 } });
      const users = new UserStore(`${teacher.dataDir}/users.json`);
      await users.ensure();
      await users.setMany(net.students.map((_, i) => ({ ...accountOf(i), role: 'student' as const })));
      for (const app of ['web', 'dns']) {
        const main = path.join(REPO_ROOT, 'apps', app, 'dist', 'main.js');
        teacherApps.push(
          net.spawn(net.teacher, process.execPath, [main], { env: teacher.env, stdio: 'ignore' }),
        );
      }
      const listening = (app: string, service: string) => {
        try {
          const run = JSON.parse(readFileSync(path.join(teacher.dataDir, 'run', `${app}.json`), 'utf8'));
          return run.services[service]?.state === 'listening';
        } catch {
          return false;
        }
      };
      await waitFor(() => listening('web', 'http') && listening('dns', 'dns'), {
        what: "the teacher's web and dns",
      });
      // A lab the teacher lists by hand (portlab dns add) at an address where nothing answers.
      const nowhere = net.teacher.address.replace(/\.\d+$/, '.99');
      const add = spawnSync(process.execPath, [PORTLAB_BIN, 'dns', 'add', GONE, nowhere], {
        env: teacher.env,
        encoding: 'utf8',
      });
      expect(add.status, add.stderr).toBe(0);
      await Promise.all(net.students.map((_, i) => startLab(i)));
    }, 100_000);

    afterAll(async () => {
      // Ctrl-C on every lab (its supervisor stops its apps), and the teacher's apps.
      const exits = [...ups, ...teacherApps]
        .filter((c): c is ChildProcess => c !== undefined && c.exitCode === null && c.signalCode === null)
        .map((c) => {
          const exited = new Promise((resolve) => c.once('exit', resolve));
          c.kill(ups.includes(c) ? 'SIGINT' : 'SIGTERM');
          return exited;
        });
      await Promise.all(exits);
      net?.destroy();
      teacher?.cleanup();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it("registers every lab (portlab up --class-dns --name) in the teacher's zone at its own address, under its account", () => {
      net.students.forEach((pc, i) => {
        // The domain came from --name alone (no "domain" in the config): the supervisor says so.
        expect(outputs[i]).toContain(`with the demo accounts alice and bob (${domainOf(i)}).`);
        expect(outputs[i]).toContain(
          `class DNS: registered ${domainOf(i)} -> ${pc.address} with ${net.teacher.address}:8080; dig @${net.teacher.address} -p 8053 MX ${domainOf(i)}\n`,
        );
      });
      const list = spawnSync(process.execPath, [PORTLAB_BIN, 'dns', 'list', '--json'], {
        env: teacher.env,
        encoding: 'utf8',
      });
      const zone = JSON.parse(list.stdout) as { name: string; address: string; account?: string }[];
      expect(zone.map(({ name, address, account }) => ({ name, address, account }))).toEqual(
        expect.arrayContaining(
          net.students.map((pc, i) => ({ name: nameOf(i), address: pc.address, account: accountOf(i).name })),
        ),
      );
    });

    it('each lab, its mail domain from --name, sends to the four others: each message delivered once, a Received header per hop', async () => {
      const everyone = net.students.map((_, i) => i);
      const sent = await sendRound(everyone, (i) => everyone.filter((j) => j !== i).map(domainOf));
      expect(sent).toHaveLength(LABS * (LABS - 1));
      expect(sent.filter((s) => !s.ok)).toEqual([]);
      await waitFor(() => arrived(sent), { what: 'every message in its INBOX' });
      for (const s of sent) {
        const j = labIndex(s.to);
        expect(countsAt(j).get(s.messageId), s.messageId).toBe(1);
        const text = maildirMessages(dataDirs[j]!, 'bob').find((m) => m.messageId === s.messageId)!.text;
        const from = /from-(pc\d+\.lab\.test)/.exec(s.messageId)![1]!;
        const i = labIndex(`x@${from}`);
        const received = [...text.matchAll(/^Received: ([\s\S]*?;)/gm)].map((m) =>
          m[1]!.replace(/\s+/g, ' '),
        );
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
      await waitFor(() => dataDirs.every((_, i) => queued(i).length === 0), { what: 'every queue empty' });
    });

    it('refuses to relay to a domain outside the class, at RCPT (550 5.7.1)', async () => {
      const [refused] = await sendFrom(net, net.students[PC03]!, domainOf(PC03), [
        { to: 'someone@example.com', messageId: '<outside@test>' },
      ]);
      expect(refused).toMatchObject({ ok: false, code: 550 });
      expect(refused!.response).toMatch(/^550 5\.7\.1 .*relaying denied/);
      expect(queued(PC03)).toEqual([]);
    });

    it('a lab away midway gets its mail when it returns; a kill -9 of a sender holding it loses nothing, sends nothing twice', async () => {
      const away = 4;
      control(away, 'stop');
      const senders = [0, PC03, 3];
      const sent = await sendRound(senders, (i) => [0, 1, 2, 3, 4].filter((j) => j !== i).map(domainOf));
      expect(sent.filter((s) => !s.ok)).toEqual([]);
      const forAway = sent.filter((s) => labIndex(s.to) === away);
      await waitFor(() => arrived(sent.filter((s) => labIndex(s.to) !== away)), {
        what: 'the mail of the labs still up',
      });
      // pc01's queue holds the message for pc05 (retried, refused each time); kill -9 it there.
      await waitFor(() => queued(0).length === 1, { what: "pc01's queue to hold only the message for pc05" });
      const killed = mailPid(0);
      process.kill(killed, 'SIGKILL');
      expect(queued(0)).toHaveLength(1);
      // pc01's supervisor starts its mail app again, which takes the queue back.
      await waitFor(() => /^mail restarted \(pid \d+\)/m.test(outputs[0]!), {
        what: `pc01's mail app restarted:\n${outputs[0]}`,
      });
      control(away, 'start');
      await waitFor(() => arrived(forAway), { what: 'the mail for the lab that came back' });
      await waitFor(() => senders.every((i) => queued(i).length === 0), {
        what: "the senders' queues empty",
      });
      for (const s of sent) expect(countsAt(labIndex(s.to)).get(s.messageId), s.messageId).toBe(1);
      // The retries are in pc03's relay transcript: connections pc05 refused while it was away.
      const log = readFileSync(path.join(dataDirs[PC03]!, 'log', 'relay.ndjson'), 'utf8');
      expect(log).toContain(`no connection to ${net.students[away]!.address}:8025`);
    });

    it('an address that never answers: the sender gets a bounce (RFC 3464) after maxAgeSeconds', async () => {
      const [sent] = await sendFrom(net, net.students[1]!, domainOf(1), [
        { to: `carol@${GONE}.lab.test`, messageId: '<never@test>' },
      ]);
      expect(sent!.ok).toBe(true);
      const bounce = await waitFor(
        () =>
          maildirMessages(dataDirs[1]!, 'alice').find((m) =>
            m.text.includes(`Final-Recipient: rfc822; carol@${GONE}.lab.test`),
          ),
        { what: `the bounce for carol@${GONE}.lab.test` },
      );
      expect(bounce.text).toMatch(/report-type=delivery-status/);
      expect(bounce.text).toMatch(/Action: failed\r\nStatus: 4\.4\.7/);
      expect(bounce.text).toContain('Message-ID: <never@test>');
      expect(queued(1)).toEqual([]);
    });
  },
);
