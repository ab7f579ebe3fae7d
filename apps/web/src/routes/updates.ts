/**
 * /updates/: what the lab publishes for download by HTTP, the demo "software update" above all
 * (apps/peer/src/update.ts writes $DATA/updates/portlab-update-1.0.tar and its .torrent). The .tar
 * URL is the torrent's web seed (BEP 19 `url-list`): BitTorrent clients fetch its pieces here by
 * Range requests (range.ts), as from a seed that never leaves.
 *
 * Only plain file names of that one folder are served: no subfolder, no dot file, no link out.
 */
import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { LabConfig } from '@portlab/config';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { sendFileRanged } from '../range.js';

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

const TYPES: Record<string, string> = {
  '.tar': 'application/x-tar',
  '.torrent': 'application/x-bittorrent',
  '.txt': 'text/plain; charset=utf-8',
};

export function updatesRoutes(app: FastifyInstance, config: LabConfig): void {
  const folder = config.paths.updates;
  app.get<{ Params: { file: string } }>('/updates/:file', async (request, reply) => {
    const { file } = request.params;
    if (!NAME.test(file)) return notFound(reply);
    const full = path.join(folder, file);
    // A link leading out of the folder is not followed: the real path must still be in it.
    const real = await realpath(full).catch(() => null);
    const root = await realpath(folder).catch(() => null);
    if (!real || !root || path.dirname(real) !== root) return notFound(reply);
    if (!(await stat(real)).isFile()) return notFound(reply);
    const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
    return sendFileRanged(request, reply, real, type);
  });
}

function notFound(reply: FastifyReply) {
  return reply.code(404).type('text/plain; charset=utf-8').send('404 Not Found\n');
}
