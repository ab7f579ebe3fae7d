import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from '@portlab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, type ChatLab, login, startChat } from './chat-lab.js';

const run = promisify(execFile);
const PLUGIN = '/usr/share/weechat/python/matrix.py';

async function has(command: string): Promise<boolean> {
  try {
    await run('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

const ready = (await has('weechat')) && (await has('tmux')) && existsSync(PLUGIN);
if (!ready)
  console.warn('weechat.test: skipped, needs weechat-matrix and tmux (apt-get install weechat-matrix tmux)');

/**
 * weechat-matrix, the terminal client students can use, driven in tmux as a student types into it.
 * It speaks TLS only: it connects to 8448 and trusts the lab certificate through SSL_CERT_FILE (the
 * certificate check stays on).
 */
describe.skipIf(!ready)('weechat-matrix in tmux, over TLS on 8448', () => {
  let chat: ChatLab;
  const session = `portlab-weechat-${process.pid}`;
  const tmux = (...args: string[]) => run('tmux', args);
  const screen = async () => (await tmux('capture-pane', '-p', '-t', session)).stdout;
  const type = async (text: string) => {
    await tmux('send-keys', '-t', session, '-l', text);
    await tmux('send-keys', '-t', session, 'Enter');
  };

  beforeAll(async () => {
    chat = await startChat();
  });
  afterAll(async () => {
    // /quit, as a student leaves it; the session ends with weechat (killed if it does not).
    await type('/quit').catch(() => {});
    await waitFor(
      () =>
        tmux('has-session', '-t', session).then(
          () => false,
          () => true,
        ),
      {
        what: 'weechat to quit',
        timeoutMs: 5000,
      },
    ).catch(() => tmux('kill-session', '-t', session).catch(() => {}));
    await chat.stop();
  });

  it('logs in, joins a room, sends, and shows what another user says', async () => {
    const bob = await login(chat.base, 'bob', 'builder');
    const created = await api(chat.base, 'POST', '/_matrix/client/v3/createRoom', {
      token: bob,
      body: { name: 'weechat', preset: 'public_chat', room_alias_name: 'weechat' },
    });
    const roomId = created.body.room_id as string;
    const home = path.join(chat.lab.dir, 'weechat');
    mkdirSync(path.join(home, 'python', 'autoload'), { recursive: true });
    symlinkSync(PLUGIN, path.join(home, 'python', 'autoload', 'matrix.py'));
    const port = chat.lab.ports['matrix-tls'];
    const commands = [
      `/matrix server add lab 127.0.0.1:${port}`,
      '/set matrix.server.lab.username alice',
      '/set matrix.server.lab.password wonderland',
      '/matrix connect lab',
    ].join(';');
    const cert = path.join(chat.lab.dataDir, 'tls', 'cert.pem');
    await tmux(
      'new-session',
      '-d',
      '-s',
      session,
      '-x',
      '200',
      '-y',
      '50',
      `SSL_CERT_FILE='${cert}' weechat --dir '${home}' -r '${commands}'`,
    );
    await waitFor(async () => (await screen()).includes(`Logged in as @alice:${chat.serverName}`), {
      what: 'weechat-matrix to log in over TLS',
    });
    // The join is typed in the server's buffer (merged with weechat's core buffer).
    await type(`/command -buffer python.server.lab * /join #weechat:${chat.serverName}`);
    const members = async () =>
      (await api(chat.base, 'GET', `/_matrix/client/v3/rooms/${roomId}/joined_members`, { token: bob })).body
        .joined as Record<string, unknown>;
    await waitFor(async () => `@alice:${chat.serverName}` in (await members()), { what: 'alice to join' });
    // The room becomes weechat's buffer 2 once its sync brought it (the buffer list shows it); what
    // is typed there is sent to the room.
    await waitFor(async () => /2\.\s+#weechat/.test(await screen()), {
      what: "the room's buffer in weechat",
    });
    await type('/buffer 2');
    await waitFor(async () => (await screen()).includes('2:weechat'), {
      what: "weechat to show the room's buffer",
    });
    await type('hello from weechat');
    const bodies = async () =>
      (
        (
          await api(chat.base, 'GET', `/_matrix/client/v3/rooms/${roomId}/messages?dir=b&limit=5`, {
            token: bob,
          })
        ).body.chunk as { sender: string; content: { body?: string } }[]
      ).map((e) => `${e.sender} ${e.content.body}`);
    await waitFor(async () => (await bodies()).includes(`@alice:${chat.serverName} hello from weechat`), {
      what: "alice's message to be stored",
    });
    await api(chat.base, 'PUT', `/_matrix/client/v3/rooms/${roomId}/send/m.room.message/w1`, {
      token: bob,
      body: { msgtype: 'm.text', body: 'bob answers weechat' },
    });
    await waitFor(async () => (await screen()).includes('bob answers weechat'), {
      what: "bob's message on weechat's screen",
    });
    expect(await screen()).toContain('hello from weechat');
  });
});
