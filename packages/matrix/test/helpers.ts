// A room made of real signed events for the tests: create, creator's join, power levels,
// join rules, as a client's createRoom would make them.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateSigningKey,
  makeEvent,
  type NewEventFields,
  type RoomEvent,
  type RoomStore,
} from '../src/index.js';

export const SERVER = 'hs1.test:8448';
export const alice = `@alice:${SERVER}`;
export const bob = `@bob:${SERVER}`;
export const carol = `@carol:${SERVER}`;

export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'portlab-matrix-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function server(origin = SERVER) {
  return { origin, key: generateSigningKey() };
}

/** Sends an event the way the chat app will: make (auth-checked) then append (fsync'd). */
export async function send(
  store: RoomStore,
  srv: ReturnType<typeof server>,
  fields: Omit<NewEventFields, 'roomId'> & { roomId: string },
): Promise<RoomEvent> {
  const ev = makeEvent(store.room(fields.roomId), fields, srv);
  await store.append(ev);
  return ev;
}

export async function createRoom(
  store: RoomStore,
  srv: ReturnType<typeof server>,
  opts: { roomId?: string; joinRule?: 'public' | 'invite'; users?: Record<string, number> } = {},
): Promise<string> {
  const roomId = opts.roomId ?? `!r${Math.random().toString(36).slice(2, 10)}:${srv.origin}`;
  const alice = `@alice:${srv.origin}`;
  await send(store, srv, {
    roomId,
    sender: alice,
    type: 'm.room.create',
    stateKey: '',
    content: { creator: alice, room_version: '10' },
  });
  await send(store, srv, {
    roomId,
    sender: alice,
    type: 'm.room.member',
    stateKey: alice,
    content: { membership: 'join' },
  });
  await send(store, srv, {
    roomId,
    sender: alice,
    type: 'm.room.power_levels',
    stateKey: '',
    content: {
      users: { [alice]: 100, ...(opts.users ?? {}) },
      users_default: 0,
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
    },
  });
  await send(store, srv, {
    roomId,
    sender: alice,
    type: 'm.room.join_rules',
    stateKey: '',
    content: { join_rule: opts.joinRule ?? 'invite' },
  });
  return roomId;
}
