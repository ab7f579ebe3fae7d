import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** apps/web/public: the dashboard's HTML, CSS and ES modules, served as they are (no build step). */
export const PUBLIC_DIR = fileURLToPath(new URL('../../public/', import.meta.url));

/**
 * The browser modules the page imports by bare name (`import { h } from 'preact'`); the import map
 * in index.html points each name at /lab/vendor/<file>, served from the installed package itself.
 */
const VENDOR: Record<string, string> = {
  'preact.mjs': fileURLToPath(import.meta.resolve('preact')),
  'hooks.mjs': fileURLToPath(import.meta.resolve('preact/hooks')),
  'htm.mjs': fileURLToPath(import.meta.resolve('htm')),
};

/**
 * Content-Security-Policy of the page: scripts from this server only, plus the one inline script
 * the page has, its import map (index.html and class.html alike), allowed by its hash (CSP Level 3 §2.3.1 "hash-source"). Mail bodies
 * are shown as text anyway; this is the second lock on the door.
 */
export function contentSecurityPolicy(html: string): string {
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  const hash = createHash('sha256').update(importMap).digest('base64');
  return [
    "default-src 'self'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/**
 * Sends a page of public/ (index.html, class.html) with its Content-Security-Policy. Read on each
 * request: a teacher who edits the file sees it on reload.
 */
export function sendPage(reply: FastifyReply, file: string): FastifyReply {
  const html = readFileSync(path.join(PUBLIC_DIR, file), 'utf8');
  return reply
    .type('text/html; charset=utf-8')
    .header('content-security-policy', contentSecurityPolicy(html))
    .header('cache-control', 'no-cache')
    .send(html);
}

/** The /lab dashboard: the page, its modules and styles, and the preact/htm modules it imports. */
export async function labRoutes(app: FastifyInstance): Promise<void> {
  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/lab/', index: false });

  const page = async (_request: unknown, reply: FastifyReply) => sendPage(reply, 'index.html');
  app.get('/lab', page);
  app.get('/lab/', page);

  app.get<{ Params: { file: string } }>('/lab/vendor/:file', (request, reply) => {
    const file = VENDOR[request.params.file];
    if (!file) return reply.code(404).send({ error: `no vendor module '${request.params.file}'` });
    return reply.type('text/javascript; charset=utf-8').sendFile(path.basename(file), path.dirname(file));
  });
}
