import type { LabConfig } from '@portlab/config';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BoardChange, ClassBoard } from '../class/board.js';
import { escapeMarkup } from '../escape.js';
import type { SignIns } from '../sign-ins.js';
import { openEventStream } from '../sse.js';
import { type Viewer, viewerOf } from '../viewer.js';
import { sendPage } from './lab.js';

/** As on /api/events: a comment line now and then keeps proxies and browsers from closing the stream. */
const HEARTBEAT_MS = 15_000;
const RETRY_MS = 1_000;
/** A browser that does not read its stream is cut past this (it comes back and gets a snapshot). */
const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

/** Why a browser may not open the board, in both languages (it says nothing of any student). */
function refusal(viewer: Viewer): { fr: string; en: string } {
  const who = viewer.account
    ? {
        fr: `Ce navigateur est connecté en tant que ${viewer.account}.`,
        en: `This browser is signed in as ${viewer.account}.`,
      }
    : { fr: "Ce navigateur n'est connecté à aucun compte.", en: 'This browser is not signed in.' };
  return {
    fr: `Le tableau de la classe est réservé à l'enseignant : ouvrez-le sur la machine du TP, ou connectez-vous avec le compte teacher sur le tableau de bord (/lab). ${who.fr}`,
    en: `The class board is the teacher's only: open it on the lab machine, or sign in as teacher on the dashboard (/lab). ${who.en}`,
  };
}

function refusalPage(viewer: Viewer): string {
  const { fr, en } = refusal(viewer);
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>403 — portlab class board</title></head>
<body style="font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem">
<h1>403 — réservé à l'enseignant · teacher only</h1>
<p lang="fr">${escapeMarkup(fr)}</p>
<p lang="en">${escapeMarkup(en)}</p>
<p><a href="/lab">/lab</a> · <a href="/">portlab</a></p>
</body>
</html>
`;
}

/**
 * The teacher's board (ISSUE 13, "The teacher's board"), for the teacher only: the lab machine's own
 * browser when `web.loopbackIsTeacher`, or a browser signed in as `teacher` (viewer.ts). Anybody else
 * gets 403 and nothing of any student, whatever their address.
 *  - GET /lab/class: the page (public/class.html; `?projector=1` for the projector);
 *  - GET /api/class: the board as JSON (see ClassSnapshot);
 *  - GET /api/class/events: the board live (Server-Sent Events): a `class` event with the whole
 *    board, then a `student` event for each student who changed, and `class` again when students
 *    are added or removed.
 */
export function classRoutes(
  app: FastifyInstance,
  config: LabConfig,
  board: ClassBoard,
  signIns: SignIns,
): void {
  const teacherOnly = (request: FastifyRequest, reply: FastifyReply, html: boolean): boolean => {
    const viewer = viewerOf(request, config, signIns);
    if (viewer.teacher) return true;
    if (html) void reply.code(403).type('text/html; charset=utf-8').send(refusalPage(viewer));
    else void reply.code(403).send({ error: refusal(viewer).en, text: refusal(viewer) });
    return false;
  };

  app.get('/lab/class', async (request, reply) => {
    if (!teacherOnly(request, reply, true)) return reply;
    return sendPage(reply, 'class.html');
  });

  app.get('/api/class', async (request, reply) => {
    if (!teacherOnly(request, reply, false)) return reply;
    await board.start();
    return reply.header('cache-control', 'no-store').send(board.snapshot());
  });

  app.get('/api/class/events', async (request, reply) => {
    if (!teacherOnly(request, reply, false)) return reply;
    await board.start();
    // The first round of checks can take a while: a browser may have gone meanwhile.
    if (request.raw.socket.destroyed) return reply;
    const res = openEventStream(reply, {
      name: 'portlab class board',
      retryMs: RETRY_MS,
      cacheControl: 'no-store',
    });
    const send = (text: string) => {
      if (res.destroyed) return;
      // Asked again before each event: a teacher who signs out stops getting the board at once.
      if (!viewerOf(request, config, signIns).teacher || res.writableLength > MAX_BUFFERED_BYTES) {
        res.destroy();
      } else {
        res.write(text);
      }
    };
    const sendChange = (change: BoardChange) => {
      if (change.type === 'class') send(`event: class\ndata: ${JSON.stringify(board.snapshot())}\n\n`);
      else
        send(
          `event: student\ndata: ${JSON.stringify({ student: change.student, updatedAt: change.updatedAt })}\n\n`,
        );
    };
    sendChange({ type: 'class' });
    const unsubscribe = board.subscribe(sendChange);
    const heartbeat = setInterval(() => send(': keep-alive\n\n'), HEARTBEAT_MS);
    request.raw.socket.once('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
    return reply;
  });
}
