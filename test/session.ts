// Signing in as a browser does, for the tests that read the web app as one account: the sign-in form
// posts to /api/session (apps/web/src/routes/session.ts) and the browser sends the cookie back.
import { loadConfig } from '@portlab/config';
import type { TempLab } from '@portlab/testkit';
import { buildWebServer, EventHub } from '@portlab/web';
import { expect } from 'vitest';

/** POST /api/session as the sign-in form does; the response as it came (a refusal too). */
export function postSignIn(base: string, user: string, password: string): Promise<Response> {
  return fetch(`${base}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ user, password }),
  });
}

/** The `name=value` of the cookie a response set ('' if none), as a browser sends it back. */
export function cookieOf(res: Response): string {
  return (res.headers.get('set-cookie') ?? '').split(';')[0]!;
}

/** Signs in (it must succeed) and returns the cookie to send back. */
export async function signIn(base: string, user: string, password: string): Promise<string> {
  const res = await postSignIn(base, user, password);
  expect(res.status).toBe(200);
  return cookieOf(res);
}

/**
 * Runs `use` against a second web server, built in this process on `lab` with the default
 * `web.loopbackIsTeacher: true` (a lab on one PC: its own browser is the teacher), on a free port of
 * 127.0.0.1; closes it after, whatever `use` did.
 */
export async function withLoopbackTeacherWeb<T>(
  lab: TempLab,
  use: (web: { app: Awaited<ReturnType<typeof buildWebServer>>; port: number }) => Promise<T>,
): Promise<T> {
  const config = { ...loadConfig({ file: lab.configFile, env: {} }), web: { loopbackIsTeacher: true } };
  const hub = new EventHub(config.paths.log);
  const app = await buildWebServer({ config, hub });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  try {
    return await use({ app, port });
  } finally {
    await app.close();
    hub.close();
  }
}
