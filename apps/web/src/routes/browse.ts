import { readdirSync } from 'node:fs';
import { isLoopback, type LabConfig, USER_NAME, UserStore } from '@portlab/config';
import { plainAddress } from '@portlab/transcript';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { viewPath } from '../browse/files.js';
import { BrowseError, userRoot } from '../browse/jail.js';
import { folderDir, listFolders, listMessages, readMessage } from '../browse/maildir.js';

/**
 * Read-only JSON views of the users' mailboxes ($DATA/mail/<user>/, Maildir++) and FTP homes
 * ($DATA/files/<user>/), for the /lab dashboard. They read the standard on-disk layouts, not the mail
 * or FTP servers' code: what `ls` shows is what the page shows.
 *
 * They hold every user's mail, so they answer only a browser on the lab machine itself (loopback),
 * even when the lab binds a classroom address: the teacher projects them, students cannot read them.
 */
export function browseRoutes(app: FastifyInstance, config: LabConfig): void {
  const users = new UserStore(config.paths.users);
  /** The accounts, and any other user folder already on disk (made before an account was removed). */
  const usersOf = (base: string) => {
    let names: string[] = [];
    try {
      names = users.list().map((u) => u.name);
    } catch {
      // No users.json yet (the web app run alone): the folders on disk only.
    }
    try {
      names.push(...readdirSync(base).filter((n) => USER_NAME.test(n)));
    } catch {
      // Nothing delivered or uploaded yet.
    }
    return { users: [...new Set(names)].sort() };
  };

  app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      const from = plainAddress(request.socket.remoteAddress);
      if (!isLoopback(from)) {
        return reply.code(403).send({
          error:
            'mailboxes and files are shown only to a browser on the lab machine (they hold every user’s mail)',
        });
      }
    });

    scope.get('/api/mail', async () => usersOf(config.paths.mail));

    scope.get<{ Params: { user: string } }>('/api/mail/:user', (request, reply) =>
      answer(reply, async () => ({
        folders: await listFolders(userRoot(config.paths.mail, request.params.user)),
      })),
    );

    scope.get<{ Params: { user: string; folder: string } }>('/api/mail/:user/:folder', (request, reply) =>
      answer(reply, async () => {
        const root = userRoot(config.paths.mail, request.params.user);
        return { messages: listMessages(await folderDir(root, request.params.folder)) };
      }),
    );

    scope.get<{ Params: { user: string; folder: string; id: string } }>(
      '/api/mail/:user/:folder/:id',
      (request, reply) =>
        answer(reply, async () => {
          const root = userRoot(config.paths.mail, request.params.user);
          return readMessage(await folderDir(root, request.params.folder), request.params.id);
        }),
    );

    scope.get('/api/files', async () => usersOf(config.paths.files));

    /** `?path=/public_html/index.html`: a folder gives its entries, a file its text. */
    scope.get<{ Params: { user: string }; Querystring: { path?: string } }>(
      '/api/files/:user',
      (request, reply) =>
        answer(reply, () =>
          viewPath(userRoot(config.paths.files, request.params.user), request.query.path ?? '/'),
        ),
    );
  });
}

/** Sends what `view` returns, or the refusal it threw with its status and message. */
async function answer(reply: FastifyReply, view: () => unknown): Promise<unknown> {
  try {
    return await view();
  } catch (err) {
    if (err instanceof BrowseError) return reply.code(err.status).send({ error: err.message });
    throw err;
  }
}
