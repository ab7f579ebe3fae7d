import { readdirSync } from 'node:fs';
import { type LabConfig, USER_NAME, type UserStore } from '@portlab/config';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { viewPath } from '../browse/files.js';
import { BrowseError, userRoot } from '../browse/jail.js';
import { folderDir, listFolders, listMessages, readMessage } from '../browse/maildir.js';
import type { SignIns } from '../sign-ins.js';
import { mayBrowse, viewerOf } from '../viewer.js';

/**
 * Read-only JSON views of the users' mailboxes ($DATA/mail/<user>/, Maildir++) and FTP homes
 * ($DATA/files/<user>/), for the /lab dashboard. They read the standard on-disk layouts, not the mail
 * or FTP servers' code: what `ls` shows is what the page shows.
 *
 * They hold every user's mail, so each browser sees what its viewer may (viewer.ts): the teacher
 * (the lab machine's own browser, or signed in as `teacher`) every user's; a browser signed in as a
 * student that student's only; a browser not signed in nothing. The teacher projects them, a
 * student reads their own, nobody reads another's.
 */
export function browseRoutes(
  app: FastifyInstance,
  config: LabConfig,
  users: UserStore,
  signIns: SignIns,
): void {
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

  /** The users a viewer may see, of those `usersOf` lists. */
  const visibleUsers = (request: FastifyRequest, base: string) => {
    const viewer = viewerOf(request, config, signIns);
    return { users: usersOf(base).users.filter((user) => mayBrowse(viewer, user)) };
  };

  app.register(async (scope) => {
    scope.addHook('onRequest', async (request, reply) => {
      const viewer = viewerOf(request, config, signIns);
      if (!viewer.teacher && viewer.account === null) {
        return reply.code(403).send({
          error:
            'mailboxes and files are shown only to a browser on the lab machine (the teacher’s) and to their owner signed in: sign in on /lab (POST /api/session) to see yours',
        });
      }
      const user = (request.params as { user?: string }).user;
      if (user !== undefined && !mayBrowse(viewer, user)) {
        return reply.code(403).send({
          error: `you are signed in as ${viewer.account}: the mail and files of ${user} are shown only to ${user} and to the teacher`,
        });
      }
    });

    scope.get('/api/mail', async (request) => visibleUsers(request, config.paths.mail));

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

    scope.get('/api/files', async (request) => visibleUsers(request, config.paths.files));

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
