/**
 * `portlab check NN --server HOST[:PORT] --user NAME`: the check of a student's work, asked of the
 * class server, where that work is (its transcripts, mailboxes, folders). The student signs in with
 * their account's password (POST /api/session, as the dashboard does), then reads GET /api/check/NN
 * (apps/web/src/routes/check.ts): the server answers a check only to its account and to the teacher.
 * The output and exit codes are those of a local check (0 done, 1 not yet); 2 when the server cannot
 * say (unreachable, wrong password, refused), with what to check.
 */
import type { Lab } from './lab.js';
import type { Printer } from './output.js';
import { type CheckLine, printCheck } from './runner.js';

/** Sign-in and check requests give up after this: a LAN answers in milliseconds. */
const TIMEOUT_MS = 20_000;

export interface RemoteCheckOptions {
  /** The lab's web server (serverUrl). */
  server: URL;
  user: string;
  password: string;
}

/** "10.0.0.1:8080" -> http://10.0.0.1:8080; the lab's HTTP port when none is given. */
export function serverUrl(server: string, defaultPort: number): URL {
  const text = server.includes('://') ? server : `http://${server}`;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`bad --server '${server}': write HOST or HOST:PORT, e.g. 192.168.1.10:8080`);
  }
  if (url.protocol !== 'http:') {
    throw new Error(`bad --server '${server}': give the lab's HTTP address (http://HOST:PORT)`);
  }
  if (!url.port) url.port = String(defaultPort);
  return url;
}

/** Exit code 2: the server could not say whether the exercise is done. */
class Unanswered extends Error {}

export async function runRemoteCheck(lab: Lab, out: Printer, options: RemoteCheckOptions): Promise<number> {
  const base = options.server;
  const where = `${base.hostname}:${base.port}`;
  try {
    const signIn = await request(
      base,
      '/api/session',
      where,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: options.user, password: options.password }),
      },
      out,
    );
    if (signIn.status === 401) {
      throw new Unanswered(
        out.t({
          fr: `mot de passe refusé pour ${options.user} par ${where} : vérifiez le nom du compte et le mot de passe (carte du compte)`,
          en: `${where} refused the password of ${options.user}: check the account name and the password (your account card)`,
        }),
      );
    }
    if (!signIn.ok) throw new Unanswered(await refusal(signIn, where));
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    try {
      const path = `/api/check/${encodeURIComponent(lab.id)}?user=${encodeURIComponent(options.user)}`;
      const res = await request(base, path, where, { headers: { cookie } }, out);
      if (!res.ok) throw new Unanswered(await refusal(res, where));
      const answer = (await res.json()) as { items: CheckLine[] };
      return printCheck(lab, out, answer.items, { who: `${options.user}@${where}` });
    } finally {
      // Sign out again: the sign-in was only for this one question.
      await request(base, '/api/session', where, { method: 'DELETE', headers: { cookie } }).catch(
        () => undefined,
      );
    }
  } catch (err) {
    if (!(err instanceof Unanswered)) throw err;
    out.say(`✘ ${err.message}`);
    return 2;
  }
}

/** fetch with a timeout; an unreachable server becomes a sentence saying what to check. */
async function request(
  base: URL,
  path: string,
  where: string,
  init: RequestInit,
  out?: Printer,
): Promise<Response> {
  try {
    return await fetch(new URL(path, base), { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch (err) {
    const e = err as Error & { cause?: { code?: string; message?: string } };
    const why =
      e.name === 'TimeoutError'
        ? `no answer in ${TIMEOUT_MS / 1000} s`
        : (e.cause?.code ?? e.cause?.message ?? e.message);
    const text = {
      fr: `impossible de joindre le serveur web du lab à ${where} (${why}) : vérifiez l'adresse (celle du professeur), le port (le port HTTP du lab, comme sur la page d'accueil), et que le lab tourne (portlab up sur la machine du professeur)`,
      en: `cannot reach the lab's web server at ${where} (${why}): check the address (the teacher's), the port (the lab's HTTP port, as on the home page), and that the lab is up (portlab up on the teacher's machine)`,
    };
    throw new Unanswered(out ? out.t(text) : text.en);
  }
}

/** The server's JSON `error`, or its status. */
async function refusal(res: Response, where: string): Promise<string> {
  const text = await res.text().catch(() => '');
  let error = text.trim().slice(0, 300);
  try {
    error = (JSON.parse(text) as { error?: string }).error ?? error;
  } catch {
    // not JSON: another server on that port? Its text says.
  }
  return `${where} answered ${res.status}: ${error}`;
}
