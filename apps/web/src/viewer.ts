import { isLoopback, type LabConfig } from '@portlab/config';
import { plainAddress } from '@portlab/transcript';
import type { FastifyRequest } from 'fastify';
import type { SignIns } from './sign-ins.js';

/** The account that sees everyone's passwords and mailboxes, when the lab has one. */
export const TEACHER_ACCOUNT = 'teacher';

/**
 * Who a browser is, for what the web app shows it. Only two things decide it: the account the browser
 * signed in with, and whether it runs on the lab machine itself. Never a source address otherwise: a
 * class often sits behind one NAT address, and addresses on a LAN are easy to borrow.
 */
export interface Viewer {
  /** Sees every secret, every mailbox, every folder. */
  teacher: boolean;
  /** The account the browser signed in with (POST /api/session), or null. */
  account: string | null;
  /** The browser is on the lab machine and `web.loopbackIsTeacher` made it the teacher. */
  loopbackTeacher: boolean;
}

/** Whether `viewer` may see in clear a secret typed for `owner` (null: nobody's, see SecretOwners). */
export function mayReadSecretsOf(viewer: Viewer, owner: string | null): boolean {
  return viewer.teacher || (owner !== null && owner === viewer.account);
}

/** Whether `viewer` may read the mail and files of account `user`, and what its sessions say once logged in. */
export function mayBrowse(viewer: Viewer, user: string): boolean {
  return viewer.teacher || viewer.account === user;
}

/**
 * The viewer of a request. Cheap (a map look-up): the SSE stream asks again for each event it sends,
 * so that signing out takes effect at once on a stream already open.
 */
export function viewerOf(request: FastifyRequest, config: LabConfig, signIns: SignIns): Viewer {
  return viewerAs(signIns.accountOf(request), request, config);
}

/** The viewer of a request signed in as `account` (null: not signed in). */
export function viewerAs(account: string | null, request: FastifyRequest, config: LabConfig): Viewer {
  const loopbackTeacher =
    config.web.loopbackIsTeacher && isLoopback(plainAddress(request.socket.remoteAddress));
  // Signing in as `teacher` needs the password of a `teacher` account in users.json: if there is
  // none, nobody can be this one.
  return { teacher: loopbackTeacher || account === TEACHER_ACCOUNT, account, loopbackTeacher };
}
