import {
  ClientEvent,
  createClient,
  type MatrixClient,
  type MatrixEvent,
  RoomEvent,
  SyncState,
} from 'matrix-js-sdk';
import { logger } from 'matrix-js-sdk/lib/logger.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChatLab, startChat } from './chat-lab.js';

// matrix-js-sdk 37.5.0 (the last release for Node 20), as Element uses it: a real client of its own.
let chat: ChatLab;
const clients: MatrixClient[] = [];

beforeAll(async () => {
  // The SDK's logger is a loglevel logger; its debug lines would bury the test's output.
  (logger as unknown as { setLevel(level: string): void }).setLevel('warn');
  chat = await startChat();
});
afterAll(async () => {
  for (const c of clients) c.stopClient();
  await chat.stop();
});

async function started(user: string, password: string): Promise<MatrixClient> {
  const session = await createClient({ baseUrl: chat.base }).loginRequest({
    type: 'm.login.password',
    identifier: { type: 'm.id.user', user },
    password,
  });
  const client = createClient({
    baseUrl: chat.base,
    accessToken: session.access_token,
    userId: session.user_id,
    deviceId: session.device_id,
  });
  clients.push(client);
  // startClient asks /versions, /pushrules/, /capabilities, POST /filter, then /sync: PREPARED
  // means the whole start went through.
  const prepared = new Promise<void>((resolve, reject) => {
    client.on(ClientEvent.Sync, (state, _prev, data) => {
      if (state === SyncState.Prepared) resolve();
      if (state === SyncState.Error) reject(data?.error ?? new Error('sync error'));
    });
  });
  await client.startClient({ initialSyncLimit: 10 });
  await prepared;
  return client;
}

/** Resolves when the client's own view of the room satisfies `check` (after each sync). */
function until(client: MatrixClient, check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const test = () => {
      if (check()) {
        client.off(ClientEvent.Sync, test);
        resolve();
      }
    };
    client.on(ClientEvent.Sync, test);
    test();
  });
}

describe('matrix-js-sdk 37.5.0', () => {
  it('starts (PREPARED), creates a room, invites, joins, sends and receives', async () => {
    const alice = await started('alice', 'wonderland');
    const bob = await started('bob', 'builder');
    const { room_id } = await alice.createRoom({ name: 'js-sdk', invite: [bob.getUserId()!] });
    await until(bob, () => bob.getRoom(room_id)?.getMyMembership() === 'invite');
    await bob.joinRoom(room_id);
    const received = new Promise<string>((resolve) => {
      bob.on(RoomEvent.Timeline, (event: MatrixEvent) => {
        if (event.getRoomId() === room_id && event.getType() === 'm.room.message') {
          resolve(event.getContent().body as string);
        }
      });
    });
    const { event_id } = await alice.sendTextMessage(room_id, 'hello from matrix-js-sdk');
    expect(await received).toBe('hello from matrix-js-sdk');
    // Alice's own copy is the server's event, matched to her local echo by its transaction id.
    await until(alice, () => alice.getRoom(room_id)?.findEventById(event_id) !== undefined);
    expect(alice.getRoom(room_id)?.name).toBe('js-sdk');
    // And bob answers: both ways.
    const back = new Promise<string>((resolve) => {
      alice.on(RoomEvent.Timeline, (event: MatrixEvent) => {
        if (event.getRoomId() === room_id && event.getSender() === bob.getUserId()) {
          if (event.getType() === 'm.room.message') resolve(event.getContent().body as string);
        }
      });
    });
    await bob.sendTextMessage(room_id, 'hello alice');
    expect(await back).toBe('hello alice');
  });
});
