// Receiving PDUs from another server (spec: server-server "Checks performed on receipt of a PDU"):
// hs2's user joins a room of hs1 and talks; forged, tampered, unauthorized and out-of-order events.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildEvent,
  checkIncomingPdu,
  type KeyLookup,
  type RoomEvent,
  RoomStore,
  selectAuthEvents,
  toClientEvent,
  toFederationPdu,
} from '../src/index.js';
import { alice, createRoom, server, tempDir } from './helpers.js';

const hs1 = server('hs1.test:8448');
const hs2 = server('hs2.test:8448');
const dave = '@dave:hs2.test:8448';
const erin = '@erin:hs2.test:8448';
const keys: KeyLookup = (name, keyId) =>
  [hs1, hs2].find((s) => s.origin === name && s.key.keyId === keyId)?.key.publicKeyBase64;

let store: RoomStore;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  ({ store } = await RoomStore.open(t.dir));
});
afterEach(async () => {
  await store.close();
  await cleanup();
});

/** An event made on hs2 against hs1's view of the room (as make_join / a synced hs2 would). */
function fromHs2(
  roomId: string,
  sender: string,
  type: string,
  content: Record<string, unknown>,
  stateKey?: string,
): RoomEvent {
  const log = store.room(roomId);
  if (!log) throw new Error('no room');
  return buildEvent(
    {
      roomId,
      sender,
      type,
      ...(stateKey === undefined ? {} : { stateKey }),
      content,
      prevEvents: log.forwardExtremities(),
      authEvents: selectAuthEvents(type, stateKey, sender, content, log.currentState()),
      depth: log.maxDepth + 1,
      originServerTs: Date.now(),
      origin: hs2.origin,
    },
    hs2.key,
  );
}

async function receive(ev: unknown, roomId: string) {
  const log = store.room(roomId);
  if (!log) throw new Error('no room');
  return checkIncomingPdu(log, ev, keys);
}

describe('checkIncomingPdu', () => {
  it("accepts hs2's join and message, and the event reads as a client event", async () => {
    const room = await createRoom(store, hs1, { joinRule: 'public' });
    const join = fromHs2(room, dave, 'm.room.member', { membership: 'join' }, dave);
    const v1 = await receive(toFederationPdu(join), room);
    expect(v1).toMatchObject({ action: 'accept', redacted: false });
    await store.append(join);
    const msg = fromHs2(room, dave, 'm.room.message', { msgtype: 'm.text', body: 'salut' });
    expect(await receive(toFederationPdu(msg), room)).toMatchObject({ action: 'accept' });
    await store.append(msg);
    expect(await receive(toFederationPdu(msg), room)).toEqual({ action: 'known', eventId: msg.event_id });
    const client = toClientEvent(msg, { now: msg.origin_server_ts + 5 });
    expect(client).toEqual({
      content: { msgtype: 'm.text', body: 'salut' },
      event_id: msg.event_id,
      origin_server_ts: msg.origin_server_ts,
      room_id: room,
      sender: dave,
      type: 'm.room.message',
      unsigned: { age: 5 },
    });
  });

  it('rejects a message from a user of hs2 who never joined', async () => {
    const room = await createRoom(store, hs1, { joinRule: 'public' });
    const msg = fromHs2(room, erin, 'm.room.message', { body: 'spam' });
    expect(await receive(toFederationPdu(msg), room)).toMatchObject({
      action: 'reject',
      reason: /not in the room/,
    });
  });

  it('rejects a join to an invite-only room', async () => {
    const room = await createRoom(store, hs1, { joinRule: 'invite' });
    const join = fromHs2(room, dave, 'm.room.member', { membership: 'join' }, dave);
    expect(await receive(toFederationPdu(join), room)).toMatchObject({
      action: 'reject',
      reason: /invite-only/,
    });
  });

  it('drops a forged event (hs2 claiming to speak for hs1) and a tampered one (or keeps its redacted copy, as the spec does)', async () => {
    const room = await createRoom(store, hs1, { joinRule: 'public' });
    const forged = fromHs2(room, alice, 'm.room.message', { body: 'I am alice' });
    expect(await receive(toFederationPdu(forged), room)).toMatchObject({
      action: 'drop',
      reason: /signature/,
    });
    const join = fromHs2(room, dave, 'm.room.member', { membership: 'join' }, dave);
    await store.append(join);
    const msg = toFederationPdu(fromHs2(room, dave, 'm.room.message', { body: 'original' }));
    const tampered = { ...msg, content: { body: 'changed in transit' } };
    expect(await receive(tampered, room)).toMatchObject({ action: 'drop', reason: /hash/ });
    const log = store.room(room);
    if (!log) throw new Error('no room');
    const v = await checkIncomingPdu(log, tampered, keys, { keepRedacted: true });
    expect(v).toMatchObject({ action: 'accept', redacted: true, event: { content: {} } });
  });

  it('asks for the missing prev_events of an event that arrived out of order', async () => {
    const room = await createRoom(store, hs1, { joinRule: 'public' });
    const join = fromHs2(room, dave, 'm.room.member', { membership: 'join' }, dave);
    await store.append(join);
    const m1 = fromHs2(room, dave, 'm.room.message', { body: '1' });
    // m2 built on m1, which hs1 has not received yet
    const m2 = buildEvent(
      {
        roomId: room,
        sender: dave,
        type: 'm.room.message',
        content: { body: '2' },
        prevEvents: [m1.event_id],
        authEvents: m1.auth_events,
        depth: m1.depth + 1,
        originServerTs: Date.now(),
        origin: hs2.origin,
      },
      hs2.key,
    );
    expect(await receive(toFederationPdu(m2), room)).toMatchObject({
      action: 'missing',
      prevEvents: [m1.event_id],
      authEvents: [],
    });
    await store.append(m1);
    expect(await receive(toFederationPdu(m2), room)).toMatchObject({ action: 'accept' });
  });

  it('drops an event for another room', async () => {
    const room = await createRoom(store, hs1, { joinRule: 'public' });
    const other = await createRoom(store, hs1, { joinRule: 'public' });
    const join = fromHs2(room, dave, 'm.room.member', { membership: 'join' }, dave);
    expect(await receive(toFederationPdu(join), other)).toMatchObject({
      action: 'drop',
      reason: /another room/,
    });
  });
});
