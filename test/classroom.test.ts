/**
 * The classroom on a real network (issue 13): 30 student PCs and the teacher's, each a Linux
 * network namespace on one virtual switch, links shaped with tc (100 Mbit/s per student, 1 Gbit/s
 * for the teacher). The teacher's `portlab up` is bound to its LAN address; every student PC runs
 * real clients at once (test/classroom/student.js): three IMAP IDLEs, an SMTP submission every few
 * seconds, a 10 MB FTP download, web pages, `portlab check 02` as itself.
 * Asserts correctness only (figures: `npm run bench -- class`): no error on any PC, every message
 * delivered exactly once, the check answers for every student, the board lists the class.
 * Needs root and iproute2 (`.ci/run` installs it); skipped elsewhere, saying why.
 */
import {
  type AgentReport,
  boardStudents,
  type ClassLab,
  checkAs,
  checkDeliveries,
  namespaceSupport,
  runStudents,
  startClassLab,
} from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const STUDENTS = 30;
const support = namespaceSupport();
if (!support.ok) console.warn(`classroom.test.ts skipped: ${support.reason}`);

describe.skipIf(!support.ok)(`a classroom of ${STUDENTS} student PCs in network namespaces`, () => {
  let lab: ClassLab;
  let reports: AgentReport[];
  /** The teacher's board read halfway through, every student connected. */
  let boardDuring: Awaited<ReturnType<typeof boardStudents>> = [];

  beforeAll(async () => {
    lab = await startClassLab({ students: STUDENTS });
    // Short: the bench runs two minutes. Three rounds of mail and web pages per student.
    reports = await runStudents(lab, {
      durationMs: 20_000,
      sendEveryMs: 6_000,
      whileRunning: async () => {
        boardDuring = await boardStudents(lab);
      },
    });
  }, 180_000);

  afterAll(async () => {
    await lab?.stop();
  });

  it('every student PC worked without a single error', () => {
    expect(reports).toHaveLength(STUDENTS);
    const errors = reports.flatMap((r) => r.errors.map((e) => `${r.user} ${e.op}: ${e.message}`));
    expect(errors).toEqual([]);
    for (const r of reports) {
      expect(r.ftp?.bytes, `${r.user}'s FTP download`).toBe(10_000_000);
      // Every protocol answered: logins, folders, IDLE's fetches, pages.
      for (const op of [
        'IMAP AUTHENTICATE',
        'IMAP SELECT',
        'SMTP AUTH',
        'SMTP end of DATA',
        'FTP RETR',
        'HTTP GET ~page (headers)',
      ]) {
        expect(r.latencies[op]?.length, `${r.user}: ${op}`).toBeGreaterThan(0);
      }
    }
  });

  it('every message sent is in its recipient’s INBOX exactly once, and their mail client got it once', () => {
    const deliveries = checkDeliveries(lab, reports);
    // Every student sent (at least the first round; how many rounds fit depends on the machine).
    for (const r of reports) expect(r.sent.length, `${r.user} sent`).toBeGreaterThan(0);
    expect(deliveries.missing).toEqual([]);
    expect(deliveries.duplicated).toEqual([]);
    expect(deliveries.exactlyOnce).toBe(deliveries.sent);
    // The recipient's IMAP client fetched each one (at SELECT, or told by EXISTS while IDLE), once.
    expect(deliveries.seenTwice).toEqual([]);
    expect(deliveries.seenByClient).toBe(deliveries.sent);
    // And IDLE works: messages that arrived while the INBOX was IDLE were announced (EXISTS).
    expect(deliveries.seenByIdle).toBeGreaterThan(0);
  });

  it('`portlab check 02` answers for every student (done or not yet, never an error)', () => {
    for (const r of reports) {
      expect(r.check, r.user).not.toBeNull();
      expect([0, 1], `${r.user}: ${r.check?.output}`).toContain(r.check?.code);
      // The server's answer for this account: its items and the count.
      expect(r.check?.output).toContain(r.user);
      expect(r.check?.output).toMatch(/still to do|All correct/);
    }
  });

  it('`portlab check 02` for a classmate’s account, with one’s own password, is refused (exit 2)', async () => {
    const [e07, e08] = [lab.students[6]!, lab.students[7]!];
    const check = checkAs(lab, e08);
    const child = lab.net.spawn(e07.host, check.command, check.args, {
      env: { ...process.env, ...check.env, PORTLAB_PASSWORD: e07.password },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout!.on('data', (d) => {
      output += d;
    });
    child.stderr!.on('data', (d) => {
      output += d;
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code, output).toBe(2);
    expect(output).toMatch(/refused the password of e08/);
    // Nothing of e08's work: no check item, no count.
    expect(output).not.toMatch(/[✔]|still to do|All correct/);
  });

  it('the teacher’s board (GET /api/class, signed in as teacher from a student PC) lists the 30, each connected', () => {
    expect(boardDuring.map((s) => s.name).sort()).toEqual(lab.students.map((s) => s.name).sort());
    // Live: halfway through, every student's mail client IDLEs on three folders.
    for (const student of boardDuring) {
      const services = (student.connected ?? []).map((c) => c.service);
      expect(services, student.name).toContain('imap');
    }
  });

  it('the board is the teacher’s only: a student’s own password gets 403, a wrong one 401', async () => {
    const e07 = lab.students[6]!;
    await expect(boardStudents(lab, e07.host, { name: e07.name, password: e07.password })).rejects.toThrow(
      /HTTP 403/,
    );
    await expect(boardStudents(lab, e07.host, { name: 'teacher', password: e07.password })).rejects.toThrow(
      /sign-in as teacher: HTTP 401/,
    );
  });
});
