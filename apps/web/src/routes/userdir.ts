import { type BigIntStats, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { AccountNames, type LabConfig, sameVersion, USER_NAME, UserStore } from '@portlab/config';
import { Jail, JailError } from '@portlab/service';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { type FileBody, SmallFiles } from '../disk-cache.js';
import { escapeMarkup } from '../escape.js';
import { type HeldAnswer, SERVER_HEADER } from '../fast-path.js';
import { entityTag, sendBytesRanged, sendFileRanged } from '../range.js';

/** Content types by extension (the common ones of a student's site); anything else is bytes. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.htm': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.xml': 'application/xml',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.pdf': 'application/pdf',
  '.mp3': 'audio/mpeg',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.woff2': 'font/woff2',
  '.zip': 'application/zip',
  '.wasm': 'application/wasm',
};

/**
 * The hot path (issue 20): who exists is read from users.json once per change of it (AccountNames of
 * @portlab/config), and small files are served from memory while a stat says they are unchanged
 * (disk-cache.ts). One for HTTP
 * and HTTPS alike, so a page asked over both is read and held once.
 *
 * A URL answered once with a held file is remembered (`known`), with the answer's headers made
 * once; the next requests for it are answered by `answer`, before fastify routes them
 * (fast-path.ts). The route's checks are not skipped but proven unchanged, with two stats:
 * - the user is still in users.json (its own stat, `names`);
 * - the path the URL names, under public_html and links followed as open(2) would, still leads to
 *   the very file held: same device and inode, same size, same times to the nanosecond.
 * The jail's realpath is what this saves. It is not needed: when the URL leads to the same inode,
 * unchanged, the bytes sent are the ones read after the jail let that file through. A link swapped
 * in anywhere on the way (`ln -s /etc sub`) leads to another inode, or to none, and the request
 * goes the whole way again, realpath and all. (To reach the same inode through a link outside, that
 * file needs a hard link outside, made before it was held: making one changes the inode's ctime;
 * it is then the same bytes, which the jail let through as alice's file.)
 */
export class UserdirCache {
  readonly names: AccountNames;
  readonly files: SmallFiles;
  private readonly known = new Map<string, Known>();
  private readonly maxKnown: number;

  /** `maxKnown`: how many URLs are remembered; `settledNs`: see checked-file.ts in @portlab/config (tests set 0). */
  constructor(config: LabConfig, options: { maxKnown?: number; settledNs?: bigint } = {}) {
    this.names = new AccountNames(new UserStore(config.paths.users), options.settledNs);
    this.files = new SmallFiles(undefined, undefined, options.settledNs);
    this.maxKnown = options.maxKnown ?? 1024;
  }

  /**
   * The whole answer (200, no range) to a GET of `urlPath` (the request's path, without the query),
   * if it was answered from memory before and nothing it depends on changed; null otherwise (and
   * the route answers).
   */
  answer(urlPath: string): HeldAnswer | null {
    const known = this.known.get(urlPath);
    if (!known) return null;
    let body: FileBody | null = null;
    if (this.names.has(known.user)) {
      const stats = statSync(known.asked, { bigint: true, throwIfNoEntry: false });
      if (stats && sameVersion(stats, known.stats)) body = this.files.held(known.real, stats);
    }
    if (!body) {
      this.known.delete(urlPath);
      return null;
    }
    return { headers: known.headers, bytes: body.bytes };
  }

  /** Remembers what `urlPath` was answered with (`body`, held in `files`; see `answer`). */
  remember(urlPath: string, user: string, asked: string, real: string, type: string, body: FileBody): void {
    // A URL has many spellings ("/~alice/./x", "/~alice//x"…), each its own key: a long one is not
    // kept, so that the most the map can hold stays small (maxKnown × MAX_KNOWN_URL).
    if (urlPath.length > MAX_KNOWN_URL) return;
    if (this.files.held(real, body.stats) !== body) return;
    const mtime = body.stats.mtime;
    // The headers as the route sends them (sendFile, sendBytesRanged, the onSend hook), in order.
    const headers = [
      'content-security-policy',
      USER_CONTENT_POLICY,
      'content-type',
      type,
      'accept-ranges',
      'bytes',
      'etag',
      entityTag(body.bytes.length, mtime),
      'last-modified',
      mtime.toUTCString(),
      'content-length',
      String(body.bytes.length),
      'server',
      SERVER_HEADER,
    ];
    this.known.delete(urlPath);
    this.known.set(urlPath, { user, asked, real, stats: body.stats, headers });
    for (const oldest of this.known.keys()) {
      if (this.known.size <= this.maxKnown) break;
      this.known.delete(oldest);
    }
  }
}

/** The longest URL path remembered (see `remember`); longer ones always take the route. */
const MAX_KNOWN_URL = 512;

/** A URL answered from memory: whose, the path it names and the file it led to, the answer's headers. */
interface Known {
  user: string;
  /** public_html's path joined with the URL's path, links not followed: what the URL names now. */
  asked: string;
  /** Where the jail found it led, links followed: the key of the bytes held (SmallFiles). */
  real: string;
  stats: BigIntStats;
  headers: string[];
}

/**
 * The classic Unix userdir (Apache's mod_userdir): http://host/~alice/ serves what alice put in
 * $DATA/files/alice/public_html/, for instance by FTP. index.html by default, else a plain listing.
 *
 * Jailed as the FTP server is, by the same Jail (@portlab/service): the path is resolved by name first
 * (".." stops at public_html, a backslash counts as a slash), then on disk with realpath, so a link
 * pointing out of public_html is refused (403). Unknown users, missing files, a NUL byte and anything
 * else refused answer 404, without naming a server path.
 */
export function userdirRoutes(
  app: FastifyInstance,
  config: LabConfig,
  cache: UserdirCache = new UserdirCache(config),
): void {
  const { names } = cache;
  // A folder's URL ends with "/", so that the relative links of its pages resolve inside it.
  app.get<{ Params: { user: string } }>('/~:user', async (request, reply) =>
    reply.redirect(`/~${encodeURIComponent(request.params.user)}/`, 301),
  );

  app.get<{ Params: { user: string; '*': string } }>('/~:user/*', async (request, reply) => {
    const { user } = request.params;
    if (!USER_NAME.test(user) || !names.has(user)) return notFound(reply);
    let virtual: string;
    let jail: Jail;
    let real: string;
    try {
      virtual = Jail.virtual('/', request.params['*']);
      jail = Jail.openSync(path.join(config.paths.files, user, 'public_html'));
      real = jail.existingSync(virtual);
    } catch (err) {
      if (!(err instanceof JailError)) throw err;
      if (err.reason !== 'link') return notFound(reply);
      return reply
        .code(403)
        .type('text/plain; charset=utf-8')
        .send('403 Forbidden: this link leads outside public_html\n');
    }
    const urlPath = request.url.split('?')[0]!;
    const asked = path.join(config.paths.files, user, 'public_html', virtual);
    const info = statSync(real, { bigint: true });
    if (!info.isDirectory()) return sendFile(request, reply, real, info, cache, { urlPath, user, asked });
    if (!urlPath.endsWith('/')) return reply.redirect(`${urlPath}/`, 301);
    // An index.html that is missing, or a link leading out, is not served: the folder is listed instead.
    let index: string | null = null;
    try {
      index = jail.existingSync(path.posix.join(virtual, 'index.html'));
    } catch {}
    if (index) {
      const indexInfo = statSync(index, { bigint: true });
      if (indexInfo.isFile())
        return sendFile(request, reply, index, indexInfo, cache, {
          urlPath,
          user,
          asked: path.join(asked, 'index.html'),
        });
    }
    return listing(reply, real, `/~${user}${virtual === '/' ? '/' : `${virtual}/`}`);
  });
}

function notFound(reply: FastifyReply) {
  return reply.code(404).type('text/plain; charset=utf-8').send('404 Not Found\n');
}

/**
 * A user's page runs in a sandbox (CSP 3, `sandbox`): its scripts run, but in an origin of their own,
 * so a page put up by one student cannot read the lab's /api (everyone's mail) with the visitor's
 * browser — the reason real sites serve user content from another domain.
 */
const USER_CONTENT_POLICY = 'sandbox allow-scripts allow-forms allow-popups';

/**
 * A file of the user's site, whole or the range asked for (range.ts: 206, 416, If-Range): from memory
 * when small (`stats`, just taken, says whether the copy held is still the file), else streamed.
 * A file held is remembered for its URL (`url`), so the next requests take the fast path.
 */
function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: string,
  stats: BigIntStats,
  cache: UserdirCache,
  url: { urlPath: string; user: string; asked: string },
) {
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  reply.header('content-security-policy', USER_CONTENT_POLICY);
  const held = stats.isFile() ? cache.files.get(file, stats) : null;
  if (held) {
    cache.remember(url.urlPath, url.user, url.asked, file, type, held);
    return sendBytesRanged(request, reply, held.bytes, held.stats.mtime, type);
  }
  return sendFileRanged(request, reply, file, type);
}

/** A folder without index.html: its entries, folders first, as Apache's mod_autoindex shows them. */
async function listing(reply: FastifyReply, folder: string, urlPath: string) {
  const entries = (await readdir(folder, { withFileTypes: true }))
    .filter((e) => !e.name.startsWith('.') && !/[\x00-\x1f\x7f]/.test(e.name))
    .sort((a, b) => Number(b.isDirectory()) - Number(a.isDirectory()) || a.name.localeCompare(b.name));
  const items = entries
    .map((e) => {
      const name = e.isDirectory() ? `${e.name}/` : e.name;
      return `<li><a href="${encodeURIComponent(e.name)}${e.isDirectory() ? '/' : ''}">${escapeMarkup(name)}</a></li>`;
    })
    .join('\n');
  const title = `Index of ${escapeMarkup(urlPath)}`;
  reply.header('content-security-policy', USER_CONTENT_POLICY).type('text/html; charset=utf-8');
  return `<!doctype html>
<html>
<head><meta charset="utf-8"><title>${title}</title></head>
<body>
<h1>${title}</h1>
<ul>
${urlPath.split('/').length > 3 ? '<li><a href="../">../</a></li>\n' : ''}${items}
</ul>
</body>
</html>
`;
}
