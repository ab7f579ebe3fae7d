// Two servers holding one room, at the protocol level (the HTTP is apps/chat's): a user of hs2
// joins hs1's room (make_join, send_join), both talk, hs1 misses events while "down" and catches up
// with get_missing_events, a fork is resolved the same on both sides, and in the end both copies
// hold the same event IDs, every one of them verifying.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  acceptSendJoinResponse,
  addEventSignature,
  buildEvent,
  buildEventFromTemplate,
  checkIncomingPdu,
  ForbiddenError,
  type KeyLookup,
  makeEvent,
  makeMembershipTemplate,
  type RoomEvent,
  RoomStore,
  redactEvent,
  selectAuthEvents,
  sendJoinResponse,
  serversInRoom,
  stateGet,
  toFederationPdu,
  verifyEvent,
  verifySignedBy,
} from '../src/index.js';
import { createRoom, server, tempDir } from './helpers.js';

const hs1 = server('hs1.test:8448');
const hs2 = server('hs2.test:8448');
const alice = '@alice:hs1.test:8448';
const bob = '@bob:hs2.test:8448';
const keys: KeyLookup = (name, keyId) =>
  [hs1, hs2].find((s) => s.origin === name && s.key.keyId === keyId)?.key.publicKeyBase64;
const wire = <T>(x: T): T => JSON.parse(JSON.stringify(x)); // what crosses the network

let s1: RoomStore;
let s2: RoomStore;
const cleanups: (() => Promise<void>)[] = [];
beforeEach(async () => {
  const a = await tempDir();
  const b = await tempDir();
  cleanups.push(a.cleanup, b.cleanup);
  s1 = (await RoomStore.open(a.dir)).store;
  s2 = (await RoomStore.open(b.dir)).store;
});
afterEach(async () => {
  await s1.close();
  await s2.close();
  for (const c of cleanups.splice(0)) await c();
});

/** `to` receives `ev` from `from`, fetching what it misses from `from` (get_missing_events). */
async function deliver(from: RoomStore, to: RoomStore, ev: RoomEvent): Promise<void> {
  const target = to.room(ev.room_id);
  const source = from.room(ev.room_id);
  if (!target || !source) throw new Error('room missing');
  let v = await checkIncomingPdu(target, wire(toFederationPdu(ev)), keys);
  if (v.action === 'missing') {
    const gap = source.missingEvents(target.forwardExtremities(), [ev.event_id], 50);
    for (const m of gap) await deliver(from, to, m);
    v = await checkIncomingPdu(target, wire(toFederationPdu(ev)), keys);
  }
  if (v.action === 'accept') await to.append(v.event);
  else if (v.action !== 'known') throw new Error(`${ev.event_id}: ${JSON.stringify(v)}`);
}

async function joinFromHs2(roomId: string, user: string): Promise<RoomEvent> {
  const log1 = s1.room(roomId);
  if (!log1) throw new Error('no room');
  const template = wire(makeMembershipTemplate(log1, user)); // GET make_join
  expect(template.room_version).toBe('10');
  const join = buildEventFromTemplate(template.event, hs2.origin, hs2.key); // hs2 signs
  const v = await checkIncomingPdu(log1, wire(toFederationPdu(join)), keys); // PUT send_join at hs1
  if (v.action !== 'accept') throw new Error(JSON.stringify(v));
  await s1.append(v.event);
  const response = wire(sendJoinResponse(log1, join.event_id, hs1.origin));
  expect(response.servers_in_room).toEqual([hs1.origin, hs2.origin]);
  await acceptSendJoinResponse(s2, join, response, keys);
  return join;
}

const say = (store: RoomStore, srv: typeof hs1, roomId: string, sender: string, body: string) => {
  const ev = makeEvent(
    store.room(roomId),
    { roomId, sender, type: 'm.room.message', content: { msgtype: 'm.text', body } },
    srv,
  );
  return store.append(ev).then(() => ev);
};

const timeline = (store: RoomStore, roomId: string) =>
  (store.room(roomId)?.timelineBetween(0) ?? []).map((e) => e.event.event_id);

describe('two servers, one room', () => {
  it('join, talk both ways, catch up after missing events, resolve a fork: identical signed copies', async () => {
    const room = await createRoom(s1, hs1, { joinRule: 'public' });
    const join = await joinFromHs2(room, bob);
    const log1 = s1.room(room);
    const log2 = s2.room(room);
    if (!log1 || !log2) throw new Error('no room');
    expect(stateGet(log2.currentState(), 'm.room.member', bob)?.event_id).toBe(join.event_id);
    expect(log2.forwardExtremities()).toEqual([join.event_id]);
    expect(serversInRoom(log1.currentState())).toEqual([hs1.origin, hs2.origin]);
    // hs1 sent something while bob was joining, on the same prev event as the join: hs2 holds that
    // prev event only as an outlier, yet knows the state after it from send_join, and accepts.
    const concurrent = buildEvent(
      {
        roomId: room,
        sender: alice,
        type: 'm.room.message',
        content: { body: 'pendant ton arrivée' },
        prevEvents: join.prev_events,
        authEvents: selectAuthEvents(
          'm.room.message',
          undefined,
          alice,
          {},
          log1.stateBefore(join.prev_events),
        ),
        depth: join.depth,
        originServerTs: Date.now(),
        origin: hs1.origin,
      },
      hs1.key,
    );
    await s1.append(concurrent);
    await deliver(s1, s2, concurrent);
    expect(log2.forwardExtremities().sort()).toEqual([join.event_id, concurrent.event_id].sort());
    expect(serversInRoom(log2.currentState())).toEqual([hs1.origin, hs2.origin]);

    // Both ways.
    await deliver(s1, s2, await say(s1, hs1, room, alice, 'bonjour bob'));
    await deliver(s2, s1, await say(s2, hs2, room, bob, 'bonjour alice'));

    // hs1 is down: bob goes on talking; then hs1 gets only the last one, and asks for the rest.
    const missed: RoomEvent[] = [];
    for (let i = 0; i < 5; i++) missed.push(await say(s2, hs2, room, bob, `pendant la panne ${i}`));
    const last = missed.at(-1) as RoomEvent;
    expect(await checkIncomingPdu(log1, toFederationPdu(last), keys)).toMatchObject({
      action: 'missing',
      prevEvents: [missed[3]?.event_id],
    });
    await deliver(s2, s1, last);
    for (const m of missed) expect(log1.get(m.event_id)).toBeDefined();

    // A fork: both send at the same time, then exchange.
    const a = await say(s1, hs1, room, alice, 'en même temps');
    const b = await say(s2, hs2, room, bob, 'at the same time');
    await deliver(s1, s2, a);
    await deliver(s2, s1, b);
    expect(log1.forwardExtremities().sort()).toEqual(log2.forwardExtremities().sort());
    expect([...log1.currentState().values()].map((e) => e.event_id).sort()).toEqual(
      [...log2.currentState().values()].map((e) => e.event_id).sort(),
    );
    const merge = await say(s1, hs1, room, alice, 'merged');
    expect(merge.prev_events).toHaveLength(2);
    await deliver(s1, s2, merge);

    // Same events on both servers (hs2 holds the pre-join state as outliers, not in its timeline).
    const ids1 = timeline(s1, room);
    const ids2 = timeline(s2, room);
    expect(ids1.slice(ids1.indexOf(join.event_id)).sort()).toEqual([...ids2].sort());
    for (const id of ids1) {
      const ev = log1.get(id)?.event as RoomEvent;
      expect(await verifyEvent(toFederationPdu(ev), keys)).toMatchObject({ ok: true, eventId: id });
      expect(log2.get(id)?.event.hashes.sha256 ?? ev.hashes.sha256).toBe(ev.hashes.sha256);
    }

    // Federation reads: state before the join, backfill newest first.
    const stateIds = log1.stateIds(join.event_id);
    expect(stateIds?.pduIds).toHaveLength(4);
    expect(stateIds?.pduIds).not.toContain(join.event_id);
    const back = log1.backfill([merge.event_id], 3).map((e) => e.event_id);
    expect(back[0]).toBe(merge.event_id);
    expect(back).toHaveLength(3);
  });

  it('make_join refuses a user the rules would refuse', async () => {
    const room = await createRoom(s1, hs1, { joinRule: 'invite' });
    const log1 = s1.room(room);
    if (!log1) throw new Error('no room');
    expect(() => makeMembershipTemplate(log1, bob)).toThrow(ForbiddenError);
  });

  it("send_join's answer with a forged state event is refused by the joiner", async () => {
    const room = await createRoom(s1, hs1, { joinRule: 'public' });
    const log1 = s1.room(room);
    if (!log1) throw new Error('no room');
    const join = buildEventFromTemplate(makeMembershipTemplate(log1, bob).event, hs2.origin, hs2.key);
    await s1.append(join);
    const response = wire(sendJoinResponse(log1, join.event_id, hs1.origin));
    // A man in the middle swaps the create event's signature: the joiner finds no valid create.
    for (const ev of [...response.state, ...response.auth_chain]) {
      if (ev.type === 'm.room.create') ev.signatures = { [hs1.origin]: { [hs1.key.keyId]: 'A'.repeat(86) } };
    }
    await expect(acceptSendJoinResponse(s2, join, response, keys)).rejects.toThrow(/no valid create/);
  });

  it('an invite carries the signatures of both servers (invite v2)', async () => {
    const room = await createRoom(s1, hs1, { joinRule: 'invite' });
    const invite = makeEvent(
      s1.room(room),
      {
        roomId: room,
        sender: alice,
        type: 'm.room.member',
        stateKey: bob,
        content: { membership: 'invite' },
      },
      hs1,
    );
    const countersigned = addEventSignature(wire(invite), hs2.origin, hs2.key); // hs2's answer to PUT /v2/invite
    expect(Object.keys(countersigned.signatures).sort()).toEqual([hs1.origin, hs2.origin]);
    expect(await verifySignedBy(redactEvent(toFederationPdu(countersigned)), hs2.origin, keys)).toBe(true);
    expect(await verifyEvent(toFederationPdu(countersigned), keys)).toMatchObject({
      ok: true,
      eventId: invite.event_id,
    });
  });
});
