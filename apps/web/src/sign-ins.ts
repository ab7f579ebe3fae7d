import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

/** The cookie that carries a browser's sign-in: a random token, nothing else. */
export const SIGN_IN_COOKIE = 'portlab_signin';
/** A sign-in lasts a school day; signing out ends it at once. */
const SIGN_IN_MS = 12 * 60 * 60_000;
/** Sign-ins kept at most (a class is 30; this bounds what a script making sign-ins can cost). */
const MAX_SIGN_INS = 5_000;

/**
 * Browsers signed in to the dashboard, by a random token held here, in memory: the cookie says
 * nothing by itself (no account name to edit, nothing to forge), and restarting the web app signs
 * everyone out. Shared by the HTTP and HTTPS servers of the app.
 */
export class SignIns {
  private readonly byToken = new Map<string, { account: string; expires: number }>();

  /** Signs `account` in: a new token, set as an HttpOnly, SameSite=Strict cookie on `reply`. */
  start(request: FastifyRequest, reply: FastifyReply, account: string): void {
    this.end(request, reply);
    if (this.byToken.size >= MAX_SIGN_INS) this.byToken.delete(this.byToken.keys().next().value!);
    const token = randomBytes(32).toString('base64url');
    this.byToken.set(token, { account, expires: Date.now() + SIGN_IN_MS });
    // HttpOnly: no script of the page can read it. SameSite=Strict: another site cannot make the
    // browser send it. Secure over HTTPS, so it is never sent back in clear on port 8080.
    const secure = request.protocol === 'https' ? '; Secure' : '';
    reply.header(
      'set-cookie',
      `${SIGN_IN_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${SIGN_IN_MS / 1000}${secure}`,
    );
  }

  /** Signs the request's browser out (if it was in) and tells it to forget its cookie. */
  end(request: FastifyRequest, reply: FastifyReply): void {
    const token = tokenOf(request);
    if (token === undefined) return;
    this.byToken.delete(token);
    reply.header('set-cookie', `${SIGN_IN_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`);
  }

  /** The account the request's browser signed in with, or null. */
  accountOf(request: FastifyRequest): string | null {
    const token = tokenOf(request);
    const signIn = token === undefined ? undefined : this.byToken.get(token);
    if (!signIn) return null;
    if (signIn.expires < Date.now()) {
      this.byToken.delete(token!);
      return null;
    }
    return signIn.account;
  }
}

/** The sign-in token in the request's Cookie header (RFC 6265 §5.4: `name=value; name=value`). */
function tokenOf(request: FastifyRequest): string | undefined {
  for (const pair of (request.headers.cookie ?? '').split(';')) {
    const [name, value] = pair.trim().split('=', 2);
    if (name === SIGN_IN_COOKIE && value) return value;
  }
  return undefined;
}
