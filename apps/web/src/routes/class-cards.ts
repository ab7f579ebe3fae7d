import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { LabConfig } from '@portlab/config';
import type { FastifyInstance } from 'fastify';
import type { SignIns } from '../sign-ins.js';
import { viewerOf } from '../viewer.js';

/**
 * GET /lab/class/cards: the class's credential cards, $DATA/class/cards.html as `portlab class
 * create` wrote it, for the teacher to print. It holds every student's password in clear, so only
 * the teacher gets it (viewer.ts: a browser on the lab machine when web.loopbackIsTeacher, or signed
 * in as `teacher`), never because of a source address; and no cache keeps a copy (RFC 9111 §5.2.2.5).
 */
export function classCardsRoutes(app: FastifyInstance, config: LabConfig, signIns: SignIns): void {
  const file = path.join(config.paths.class, 'cards.html');
  app.get('/lab/class/cards', async (request, reply) => {
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    const text = (code: number, message: string) =>
      reply.code(code).type('text/plain; charset=utf-8').send(`${code} ${message}\n`);
    if (!viewerOf(request, config, signIns).teacher) {
      return text(
        403,
        'Forbidden: the credential cards hold every student’s password; only the teacher may open them ' +
          '(on the lab machine, or signed in as teacher on /lab).\n' +
          'Interdit : les cartes contiennent les mots de passe de tous les élèves ; seul le professeur peut ' +
          'les ouvrir (sur la machine du TP, ou connecté en tant que teacher sur /lab).',
      );
    }
    let html: string;
    try {
      html = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      return text(
        404,
        "Not Found: no class yet. Make one with 'npx portlab class create --students 30'.\n" +
          "Pas encore de classe : créez-la avec 'npx portlab class create --students 30'.",
      );
    }
    // The page has no script and loads nothing: its inline style is all it may use.
    return reply
      .type('text/html; charset=utf-8')
      .header(
        'content-security-policy',
        "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'",
      )
      .send(html);
  });
}
