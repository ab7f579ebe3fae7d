import { type LabConfig, USER_NAME, type UserStore } from '@portlab/config';
import type { Lab } from '@portlab/labs';
import type { FastifyInstance } from 'fastify';
import type { SignIns } from '../sign-ins.js';
import { viewerOf } from '../viewer.js';

/**
 * GET /api/check/:lab?user=NAME: a lab's exercise check for one account, computed here, where the
 * transcripts, mailboxes and folders are (labs/harness: each lab's `check` counts only what that
 * account did). `portlab check NN --server HOST --user NAME` prints it on a student's PC, and the
 * teacher's board asks it for every student.
 *
 * A check tells what an account did, so it is answered only to that account signed in (POST
 * /api/session) and to the teacher (viewer.ts): 401 not signed in, 403 another student's; 404 for a
 * lab or an account that does not exist (to the teacher: a student learns nothing of other accounts).
 * `user` defaults to the signed-in account. The answer:
 *   {"lab": "03", "user": "e07", "items": [{"ok": true, "text": {"fr": "…", "en": "…"}}], "done": 1, "total": 4}
 */
/**
 * The labs and their checks, imported at the first request that needs them, once: they weigh about
 * 15 MB of heap (every lab, its texts, its client libraries), which an idle web server need not hold
 * (issue #20, idle memory).
 */
let labsModule: Promise<typeof import('@portlab/labs')> | undefined;
function labsHarness(): Promise<typeof import('@portlab/labs')> {
  labsModule ??= import('@portlab/labs');
  return labsModule;
}

export function checkRoutes(
  app: FastifyInstance,
  config: LabConfig,
  users: UserStore,
  signIns: SignIns,
): void {
  // GET /api/labs: the labs a check can be asked for, `[{id, title: {fr, en}}]`, in their order.
  // Their titles are on every printed sheet: answered to anyone, signed in or not.
  app.get('/api/labs', async () =>
    (await labsHarness()).LABS.map((lab) => ({ id: lab.id, title: lab.title })),
  );

  app.get<{ Params: { lab: string }; Querystring: { user?: string } }>(
    '/api/check/:lab',
    async (request, reply) => {
      const viewer = viewerOf(request, config, signIns);
      if (!viewer.teacher && viewer.account === null) {
        return reply.code(401).send({
          error:
            'not signed in: sign in with your lab account first (POST /api/session {"user", "password"}, or `portlab check NN --server HOST --user NAME`)',
        });
      }
      const user = request.query.user || viewer.account;
      if (!user) {
        return reply
          .code(400)
          .send({ error: 'whose check? add ?user=NAME (you are not signed in as an account)' });
      }
      if (!viewer.teacher && user !== viewer.account) {
        return reply.code(403).send({
          error: `you are signed in as ${viewer.account}: the check of ${user} is answered only to ${user} and to the teacher`,
        });
      }
      const { checkLines, findLab } = await labsHarness();
      let lab: Lab;
      try {
        lab = findLab(request.params.lab);
      } catch (err) {
        return reply.code(404).send({ error: (err as Error).message });
      }
      if (!USER_NAME.test(user) || !knownAccount(users, user)) {
        return reply.code(404).send({ error: `no account '${user}' in this lab (portlab user list)` });
      }
      let lines: ReturnType<typeof checkLines>;
      try {
        lines = checkLines(await lab.check(config, { user }));
      } catch (err) {
        return reply
          .code(500)
          .send({ error: `the check of lab ${lab.id} failed: ${(err as Error).message}` });
      }
      const done = lines.filter((l) => l.ok).length;
      return { lab: lab.id, user, items: lines, done, total: lines.length };
    },
  );
}

function knownAccount(users: UserStore, name: string): boolean {
  try {
    return users.find(name) !== undefined;
  } catch {
    return false; // no users.json yet: no account at all
  }
}
