// GET /api/check/:lab on the real web app: a check is answered only to its account signed in and to
// the teacher. The lab says `web.loopbackIsTeacher: false`, as a lab machine students share would:
// the test's requests from 127.0.0.1 are then an ordinary browser's, as one on the classroom LAN is.
import { createServer } from 'node:net';
import { type TempLab, tempLab } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApp, startApp } from '../apps.js';
import { signIn } from '../session.js';
import { addAccounts, portlab, remoteCheck } from './helpers.js';

let lab: TempLab;
let web: RunningApp;
let base: string;
beforeAll(async () => {
  lab = await tempLab({ web: { loopbackIsTeacher: false } });
  await addAccounts(lab, { e07: 'e07-Pass1', e08: 'e08-Pass2', teacher: 'chalk-Board9' });
  web = await startApp(lab, 'web');
  base = `http://127.0.0.1:${lab.ports.http}`;
});
afterAll(async () => {
  await web?.stop();
  lab.cleanup();
});

async function getCheck(
  path: string,
  cookie?: string,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${base}${path}`, cookie ? { headers: { cookie } } : {});
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe('GET /api/check/:lab: answered only to the account and to the teacher', () => {
  it('e07 signed in gets their own check (user defaults to the signed-in account)', async () => {
    const cookie = await signIn(base, 'e07', 'e07-Pass1');
    for (const path of ['/api/check/03', '/api/check/3?user=e07', '/api/check/files']) {
      const { status, body } = await getCheck(path, cookie);
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body.lab).toBe('03');
      expect(body.user).toBe('e07');
      expect(body.total).toBe(4);
      expect(body.done).toBe(0);
      const items = body.items as { ok: boolean; text: { fr: string; en: string } }[];
      expect(items).toHaveLength(4);
      expect(items[0]).toEqual({
        ok: false,
        text: {
          fr: "aucune page index.html n'a encore été envoyée par FTP",
          en: 'no index.html page has been uploaded over FTP yet',
        },
      });
    }
  });

  it("another student's check: 403, with a message saying whose it is", async () => {
    const cookie = await signIn(base, 'e08', 'e08-Pass2');
    const { status, body } = await getCheck('/api/check/03?user=e07', cookie);
    expect(status).toBe(403);
    expect(body.error).toBe(
      'you are signed in as e08: the check of e07 is answered only to e07 and to the teacher',
    );
    expect(body).not.toHaveProperty('items');
    // An account that does not exist is no different to a student: 403, nothing learnt.
    expect((await getCheck('/api/check/03?user=nobody', cookie)).status).toBe(403);
  });

  it('not signed in: 401 (and a cookie of nobody counts as not signed in)', async () => {
    for (const cookie of [undefined, 'portlab_signin=forged-token']) {
      const { status, body } = await getCheck('/api/check/03?user=e07', cookie);
      expect(status).toBe(401);
      expect(String(body.error)).toMatch(/^not signed in: sign in with your lab account first/);
    }
  });

  it('the teacher gets any student’s check; an unknown lab or account is 404', async () => {
    const cookie = await signIn(base, 'teacher', 'chalk-Board9');
    const e07 = await getCheck('/api/check/02?user=e07', cookie);
    expect(e07.status, JSON.stringify(e07.body)).toBe(200);
    expect(e07.body).toMatchObject({ lab: '02', user: 'e07', done: 0, total: 3 });
    const lab = await getCheck('/api/check/09?user=e07', cookie);
    expect(lab.status).toBe(404);
    expect(String(lab.body.error)).toContain("no lab '09'");
    const user = await getCheck('/api/check/02?user=nobody', cookie);
    expect(user.status).toBe(404);
    expect(user.body.error).toBe("no account 'nobody' in this lab (portlab user list)");
    // A name that is not an account name never reaches a path.
    expect((await getCheck('/api/check/01?user=..%2F..%2Fetc', cookie)).status).toBe(404);
  });
});

describe('GET /api/check/:lab on the lab machine itself (web.loopbackIsTeacher, the default)', () => {
  it('the teacher’s own browser gets any check without signing in, once it says whose', async () => {
    const own = await tempLab();
    try {
      await addAccounts(own, { e07: 'e07-Pass1' });
      const app = await startApp(own, 'web');
      try {
        const url = `http://127.0.0.1:${own.ports.http}/api/check/04`;
        const e07 = await fetch(`${url}?user=e07`);
        expect(e07.status).toBe(200);
        expect(await e07.json()).toMatchObject({ lab: '04', user: 'e07', done: 0, total: 4 });
        const nobody = await fetch(url);
        expect(nobody.status).toBe(400);
        expect(((await nobody.json()) as { error: string }).error).toMatch(/^whose check\? add \?user=NAME/);
      } finally {
        await app.stop();
      }
    } finally {
      own.cleanup();
    }
  });
});

describe('portlab check --server: what the student sees when the server cannot answer', () => {
  it('exit 2 and what to check when nothing listens at the address', async () => {
    // A port nobody listens on: bound, then closed.
    const closed = await new Promise<number>((resolve) => {
      const server = createServer().listen(0, '127.0.0.1', () => {
        const { port } = server.address() as { port: number };
        server.close(() => resolve(port));
      });
    });
    const r = await remoteCheck(lab, '03', 'e07', 'e07-Pass1', `127.0.0.1:${closed}`);
    expect(r.code, r.out).toBe(2);
    expect(r.out).toContain(`cannot reach the lab's web server at 127.0.0.1:${closed} (ECONNREFUSED)`);
    expect(r.out).toContain('check the address');
  });

  it('exit 2 without --user, and with a bad --server', async () => {
    const noUser = await portlab(lab, ['check', '03', '--server', '127.0.0.1', '--lang', 'en']);
    expect(noUser.code).toBe(2);
    expect(noUser.out).toContain('--server needs --user YOUR_ACCOUNT');
    const bad = await portlab(lab, ['check', '03', '--server', 'ftp://127.0.0.1', '--user', 'e07']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain("give the lab's HTTP address");
  });
});
