import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatLab, startChat } from './chat-lab.js';

const run = promisify(execFile);
// Debian's interpreter: python3-matrix-nio is installed for it, not for a pyenv python3 on PATH.
const PYTHON = '/usr/bin/python3';
const script = fileURLToPath(new URL('./nio_client.py', import.meta.url));

async function hasNio(): Promise<boolean> {
  if (!existsSync(PYTHON)) return false;
  try {
    await run(PYTHON, ['-c', 'import nio']);
    return true;
  } catch {
    return false;
  }
}

const nio = await hasNio();
if (!nio)
  console.warn('nio.test: skipped, python3-matrix-nio is not installed (apt-get install python3-matrix-nio)');

describe.skipIf(!nio)('python3-matrix-nio', () => {
  let chat: ChatLab;
  beforeAll(async () => {
    chat = await startChat();
  });
  afterAll(() => chat.stop());

  it('logs in two users who create, invite, join, send and sync', async () => {
    const { stdout } = await run(PYTHON, [script, chat.base], { timeout: 40_000 });
    const result = JSON.parse(stdout.trim().split('\n').at(-1)!);
    expect(result.alice_user_id).toBe(`@alice:${chat.serverName}`);
    expect(result.room_id).toMatch(/^!/);
    expect(result.invited).toBe(true);
    expect(result.joined).toBe(true);
    expect(result.event_id).toMatch(/^\$/);
    expect(result.received).toEqual(['bonjour from nio']);
    expect(result.members).toEqual([`@alice:${chat.serverName}`, `@bob:${chat.serverName}`]);
  });
});
