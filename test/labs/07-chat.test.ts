// Lab 7, a decentralised social network: the demo (`portlab lab 07`, which starts the lab itself)
// and the check, per account, against the sheet's curl dialogue done over real HTTP.
import path from 'node:path';
import { type TempLab, tempLab } from '@portlab/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { addAccounts, portlab, startLab } from './helpers.js';

const labs: TempLab[] = [];
afterAll(() => {
  for (const lab of labs) lab.cleanup();
});

/** The sheet's dialogue: login, createRoom, send; returns the room. */
async function chat(lab: TempLab, user: string, password: string, body: string): Promise<string> {
  const api = `http://127.0.0.1:${lab.ports.matrix}/_matrix/client/v3`;
  const login = (await (
    await fetch(`${api}/login`, {
      method: 'POST',
      body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user }, password }),
    })
  ).json()) as { access_token: string };
  const auth = { authorization: `Bearer ${login.access_token}` };
  const room = (await (
    await fetch(`${api}/createRoom`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'tp7' }) })
  ).json()) as { room_id: string };
  const sent = await fetch(`${api}/rooms/${encodeURIComponent(room.room_id)}/send/m.room.message/t1`, {
    method: 'PUT',
    headers: auth,
    body: JSON.stringify({ msgtype: 'm.text', body }),
  });
  expect(sent.status).toBe(200);
  return room.room_id;
}

describe.concurrent('lab 07: a decentralised social network', () => {
  it('demo: login, createRoom, send, sync, and the event’s hash and signature verified', async () => {
    const lab = await tempLab();
    labs.push(lab);
    const demo = await portlab(lab, ['lab', '07', '--lang', 'en']);
    expect(demo.code, demo.out).toBe(0);
    expect(demo.out).toMatch(/\$ curl -s -d '\{"type":"m\.login\.password".*\/_matrix\/client\/v3\/login/);
    expect(demo.out).toMatch(/room_id: !\S+:127\.0\.0\.1:\d+/);
    expect(demo.out).toMatch(/alice: invited to !/);
    expect(demo.out).toContain('bob: ["Hello!"]');
    expect(demo.out).toMatch(/hashes\.sha256\s+\S{43}/);
    expect(demo.out).toMatch(
      /✔ signature of 127\.0\.0\.1:\d+ \(ed25519:\w+\) and content SHA-256 verified; the ID is the event's hash: the same/,
    );
    // A tampered copy fails its content hash.
    expect(demo.out).toMatch(/one "!" added to the message: ✘ content hash does not match/);
    // Federation: the neighbour's server at 127.0.0.2 joins, a message crosses, it is stopped,
    // restarted, and catches up; both copies identical and verified.
    expect(demo.out).toMatch(
      /\$ PORTLAB_HOST=127\.0\.0\.2 PORTLAB_DATA_DIR=\S+ node apps\/chat\/dist\/main\.js &/,
    );
    expect(demo.out).toContain('✔ "Hello from next door!" reached 127.0.0.1:');
    expect(demo.out).toContain("✔ back, the neighbour's server caught up on the missed message");
    // Both copies hold both messages said after the join, each ✔ in each copy.
    for (const body of ['Hello from next door!', 'Are you there? (while you were away)'])
      expect(demo.out).toMatch(
        new RegExp(`✔ +✔ +m\\.room\\.message @bob:\\S+ "${body.replace(/[?()]/g, '\\$&')}"`),
      );
    expect(demo.out).not.toMatch(/✘ (?!content hash)/);
    // The demo acts as bob: alice's exercise is left alone.
    const check = await portlab(lab, ['check', '07', '--lang', 'en']);
    expect(check.code).toBe(1);
    expect(check.out).toMatch(/@alice:127\.0\.0\.1:\d+ has not sent a message yet/);
    // bob did it all, on two servers: both items ✔ (the room has a member of 127.0.0.2).
    const bob = await portlab(lab, ['check', '07', '--user', 'bob', '--lang', 'en']);
    expect(bob.out).toMatch(/✔ one of your rooms also lives on a neighbour's server/);
    expect(bob.code, bob.out).toBe(0);
    // The neighbour's side (B in the sheet): its bob joined a room created on the first server and
    // spoke there. The first server's members reached B's copy in the join's state (outliers): the
    // room lives on two servers for B too, and B's check says so.
    const neighbour = await portlab(
      {
        ...lab,
        env: {
          ...lab.env,
          PORTLAB_HOST: '127.0.0.2',
          PORTLAB_PUBLIC_ADDRESS: '127.0.0.2',
          PORTLAB_DATA_DIR: path.join(lab.dataDir, 'labs', '07', 'neighbour'),
        },
      },
      ['check', '07', '--user', 'bob', '--lang', 'en'],
    );
    expect(neighbour.out).toMatch(/✔ a room created or joined, and a message sent there/);
    expect(neighbour.out).toMatch(/✔ one of your rooms also lives on a neighbour's server/);
    expect(neighbour.code, neighbour.out).toBe(0);
  });

  it('check 07 counts each account’s own room and message, never another account’s', async () => {
    const lab = await tempLab();
    labs.push(lab);
    await addAccounts(lab, { e07: 'pw-e07-secret', e08: 'pw-e08-secret' });
    const running = await startLab(lab);
    try {
      const before = await portlab(lab, ['check', '07', '--user', 'e07', '--lang', 'en']);
      expect(before.code).toBe(1);
      expect(before.out).toMatch(/@e07:\S+ has not sent a message yet/);
      await chat(lab, 'e07', 'pw-e07-secret', 'bonjour de e07');
      const e07 = await portlab(lab, ['check', '07', '--user', 'e07', '--lang', 'en']);
      expect(e07.out).toMatch(/✔ a room created or joined, and a message sent there/);
      // One server only: the room does not live on a neighbour's server yet.
      expect(e07.out).toMatch(/none of your rooms has a member of another server yet/);
      expect(e07.code).toBe(1);
      // Another student's account: e07's room and message do not count for e08.
      const e08 = await portlab(lab, ['check', '07', '--user', 'e08', '--lang', 'en']);
      expect(e08.code).toBe(1);
      expect(e08.out).toMatch(/@e08:\S+ has not sent a message yet/);
      // A malformed account name is refused, not matched as a pattern.
      const bad = await portlab(lab, ['check', '07', '--user', '../e07', '--lang', 'en']);
      expect(bad.code).toBe(1);
      expect(bad.out).toMatch(/is not an account name/);
    } finally {
      await running.stop();
    }
  });
});
