import type { LabConfig, UserStore } from '@portlab/config';
import type { LoginThrottle } from '@portlab/service';
import { plainAddress } from '@portlab/transcript';
import type { FastifyInstance } from 'fastify';
import type { SignIns } from '../sign-ins.js';
import { viewerAs, viewerOf } from '../viewer.js';

interface SignInBody {
  user?: unknown;
  password?: unknown;
}

/**
 * Signing the dashboard in with a lab account, so a student sees their own passwords in the
 * transcripts and their own mail and files (viewer.ts says who sees what):
 *  - GET /api/session: who this browser is: `{account, teacher, loopbackTeacher}`;
 *  - POST /api/session `{"user", "password"}` (JSON only: a form on another site cannot post JSON
 *    without the browser asking first): checked against users.json (scrypt), a wrong one answered
 *    401 after the growing delay every protocol of the lab applies (LoginThrottle, per address);
 *  - DELETE /api/session: signs out.
 * The password is in the request body, which no transcript records (only the request line).
 */
export function sessionRoutes(
  app: FastifyInstance,
  config: LabConfig,
  users: UserStore,
  signIns: SignIns,
  throttle: LoginThrottle,
): void {
  app.get('/api/session', async (request) => viewerOf(request, config, signIns));

  app.post<{ Body: SignInBody }>('/api/session', async (request, reply) => {
    const { user, password } = request.body ?? {};
    if (typeof user !== 'string' || typeof password !== 'string' || user === '') {
      return reply.code(400).send({ error: 'send {"user": "<account>", "password": "<its password>"}' });
    }
    const login = await throttle.authenticate(users, {
      name: user,
      password,
      domain: config.domain,
      address: plainAddress(request.socket.remoteAddress, '?'),
    });
    if (login.user === null) {
      return reply.code(401).send({
        error: `wrong user name or password (answered after ${login.waitedMs} ms; each failure from this address doubles the wait)`,
        waitedMs: login.waitedMs,
      });
    }
    signIns.start(request, reply, login.user);
    return viewerAs(login.user, request, config);
  });

  app.delete('/api/session', async (request, reply) => {
    signIns.end(request, reply);
    return viewerAs(null, request, config);
  });
}
