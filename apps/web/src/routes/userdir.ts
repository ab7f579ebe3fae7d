import { type BigIntStats, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { type LabConfig, USER_NAME, UserStore } from '@portlab/config';
import { Jail, JailError } from '@portlab/service';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Checked, SmallFiles } from '../disk-cache.js';
import { escapeMarkup } from '../escape.js';
import { sendBytesRanged, sendFileRanged } from '../range.js';

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
 * The hot path (issue 20): who exists is read from users.json once per change of it, and small
 * files are served from memory while a stat says they are unchanged (disk-cache.ts). The jail's
 * realpath and the stat stay on every request, made without a trip to the thread pool: a link
 * made or removed, a file replaced, is seen by the very next request. One for HTTP and HTTPS alike,
 * so a page asked over both is read and held once.
 */
export class UserdirCache {
  readonly names: Checked<Set<string>>;
  readonly files = new SmallFiles();

  constructor(config: LabConfig) {
    const users = new UserStore(config.paths.users);
    this.names = new Checked(users.file, () => new Set(users.list().map((u) => u.name)));
  }
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
  { names, files }: UserdirCache = new UserdirCache(config),
): void {
  // A folder's URL ends with "/", so that the relative links of its pages resolve inside it.
  app.get<{ Params: { user: string } }>('/~:user', async (request, reply) =>
    reply.redirect(`/~${encodeURIComponent(request.params.user)}/`, 301),
  );

  app.get<{ Params: { user: string; '*': string } }>('/~:user/*', async (request, reply) => {
    const { user } = request.params;
    if (!USER_NAME.test(user) || !names.get().has(user)) return notFound(reply);
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
    const info = statSync(real, { bigint: true });
    if (!info.isDirectory()) return sendFile(request, reply, real, info, files);
    if (!request.url.split('?')[0]!.endsWith('/'))
      return reply.redirect(`${request.url.split('?')[0]}/`, 301);
    // An index.html that is missing, or a link leading out, is not served: the folder is listed instead.
    let index: string | null = null;
    try {
      index = jail.existingSync(path.posix.join(virtual, 'index.html'));
    } catch {}
    if (index) {
      const indexInfo = statSync(index, { bigint: true });
      if (indexInfo.isFile()) return sendFile(request, reply, index, indexInfo, files);
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
 */
function sendFile(
  request: FastifyRequest,
  reply: FastifyReply,
  file: string,
  stats: BigIntStats,
  files: SmallFiles,
) {
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  reply.header('content-security-policy', USER_CONTENT_POLICY);
  const held = stats.isFile() ? files.get(file, stats) : null;
  if (held) return sendBytesRanged(request, reply, held.bytes, held.stats.mtime, type);
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
