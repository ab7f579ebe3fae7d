// Room version 10 authorization rules (spec: rooms/v10 "Authorisation rules"), through makeEvent
// (the check before sending) and authorizeByAuthEvents (the check on receipt), and the simplified
// state resolution of a fork.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  applyRedaction,
  authorizeByAuthEvents,
  authorizeEvent,
  buildEvent,
  ForbiddenError,
  makeEvent,
  mayRedact,
  type RoomEvent,
  RoomStore,
  resolveStates,
  type StateMap,
  selectAuthEvents,
  stateGet,
  stateKeyOf,
} from '../src/index.js';
import { alice, bob, carol, createRoom, SERVER, send, server, tempDir } from './helpers.js';

const srv = server();
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

const member = (roomId: string, sender: string, target: string, membership: string) =>
  send(store, srv, { roomId, sender, type: 'm.room.member', stateKey: target, content: { membership } });
const say = (roomId: string, sender: string, body: string) =>
  send(store, srv, { roomId, sender, type: 'm.room.message', content: { msgtype: 'm.text', body } });
const setPowerLevels = (roomId: string, sender: string, content: Record<string, unknown>) =>
  send(store, srv, { roomId, sender, type: 'm.room.power_levels', stateKey: '', content });

async function refused(p: Promise<unknown>, reason: RegExp): Promise<void> {
  await expect(p).rejects.toThrow(ForbiddenError);
  await expect(p).rejects.toThrow(reason);
}

describe('membership', () => {
  it('a non-member cannot send a message; nothing is stored', async () => {
    const room = await createRoom(store, srv);
    const before = store.position;
    await refused(say(room, bob, 'let me in'), /not in the room/);
    expect(store.position).toBe(before);
  });

  it('joining an invite-only room needs an invite', async () => {
    const room = await createRoom(store, srv, { joinRule: 'invite' });
    await refused(member(room, bob, bob, 'join'), /invite-only/);
    await member(room, alice, bob, 'invite');
    await member(room, bob, bob, 'join');
    await say(room, bob, 'hello');
    expect(
      stateGet(store.room(room)?.currentState() ?? new Map(), 'm.room.member', bob)?.content.membership,
    ).toBe('join');
  });

  it('anyone may join a public room, but only for themselves', async () => {
    const room = await createRoom(store, srv, { joinRule: 'public' });
    await refused(member(room, bob, carol, 'join'), /only join for oneself/);
    await member(room, bob, bob, 'join');
  });

  it('a non-member cannot invite; a banned user cannot join nor be invited', async () => {
    const room = await createRoom(store, srv, { joinRule: 'public' });
    await refused(member(room, bob, carol, 'invite'), /not in the room/);
    await member(room, bob, bob, 'join');
    await member(room, alice, bob, 'ban');
    await refused(member(room, bob, bob, 'join'), /banned/);
    await refused(member(room, alice, bob, 'invite'), /banned/);
    await refused(say(room, bob, 'still here?'), /not in the room/);
  });

  it('kicking needs the kick level and a higher level than the target', async () => {
    const room = await createRoom(store, srv, { joinRule: 'public' });
    await member(room, bob, bob, 'join');
    await member(room, carol, carol, 'join');
    await refused(member(room, bob, carol, 'leave'), /kicking needs power level 50/);
    await refused(member(room, bob, alice, 'ban'), /banning needs/);
    await member(room, alice, carol, 'leave');
    await member(room, bob, bob, 'leave'); // leaving oneself is always allowed when joined
    await refused(member(room, bob, bob, 'leave'), /not in the room/);
  });

  it('an unknown membership is refused', async () => {
    const room = await createRoom(store, srv);
    await refused(member(room, alice, alice, 'dance'), /unknown membership/);
  });
});

describe('power levels (integers only in v10)', () => {
  it('state events need state_default (50); messages need events_default (0)', async () => {
    const room = await createRoom(store, srv, { joinRule: 'public' });
    await member(room, bob, bob, 'join');
    await say(room, bob, 'hi');
    await refused(
      send(store, srv, {
        roomId: room,
        sender: bob,
        type: 'm.room.name',
        stateKey: '',
        content: { name: 'mine' },
      }),
      /m.room.name needs power level 50/,
    );
    await send(store, srv, {
      roomId: room,
      sender: alice,
      type: 'm.room.name',
      stateKey: '',
      content: { name: 'Lab' },
    });
  });

  it('nobody raises themselves above their level, nor touches a peer or a superior', async () => {
    const room = await createRoom(store, srv, { joinRule: 'public' });
    await member(room, bob, bob, 'join');
    const base = {
      users_default: 0,
      events_default: 0,
      state_default: 50,
      ban: 50,
      kick: 50,
      redact: 50,
      invite: 0,
    };
    // bob (0) needs 50 to send power levels at all
    await refused(
      setPowerLevels(room, bob, { ...base, users: { [alice]: 100, [bob]: 100 } }),
      /needs power level 50/,
    );
    await setPowerLevels(room, alice, { ...base, users: { [alice]: 100, [bob]: 50 } });
    await refused(
      setPowerLevels(room, bob, { ...base, users: { [alice]: 100, [bob]: 100 } }),
      /more than one's own level/,
    );
    await refused(
      setPowerLevels(room, bob, { ...base, users: { [alice]: 0, [bob]: 50 } }),
      /not below the sender/,
    );
    await refused(
      setPowerLevels(room, bob, { ...base, kick: 75, users: { [alice]: 100, [bob]: 50 } }),
      /above one's own level/,
    );
  });

  it('refuses power levels written as strings, floats, or keyed by non-user IDs', async () => {
    const room = await createRoom(store, srv);
    await refused(
      setPowerLevels(room, alice, { users: { [alice]: 100 }, ban: '50' }),
      /ban must be an integer/,
    );
    await refused(
      setPowerLevels(room, alice, { users: { [alice]: 100 }, events: { 'm.room.name': '50' } }),
      /events must map to integers/,
    );
    // A float cannot even be written in canonical JSON: refused before any rule.
    await expect(setPowerLevels(room, alice, { users: { [alice]: 100 }, kick: 50.5 })).rejects.toMatchObject({
      errcode: 'M_BAD_JSON',
    });
    await refused(setPowerLevels(room, alice, { users: { [alice]: '100' } }), /users must map user IDs/);
    await refused(setPowerLevels(room, alice, { users: { alice: 100 } }), /users must map user IDs/);
  });

  it("a state key naming a user is that user's alone", async () => {
    const room = await createRoom(store, srv);
    await refused(
      send(store, srv, {
        roomId: room,
        sender: alice,
        type: 'org.example.status',
        stateKey: bob,
        content: {},
      }),
      /state key that is their user ID/,
    );
    await send(store, srv, {
      roomId: room,
      sender: alice,
      type: 'org.example.status',
      stateKey: alice,
      content: {},
    });
  });
});

describe('create events and auth_events', () => {
  it('refuses a create event with prev_events or from another domain', () => {
    const base = {
      type: 'm.room.create',
      stateKey: '',
      content: { creator: alice },
      authEvents: [],
      depth: 1,
      originServerTs: 1,
      origin: SERVER,
    };
    const withPrev = buildEvent(
      { ...base, roomId: `!a:${SERVER}`, sender: alice, prevEvents: ['$x'] },
      srv.key,
    );
    expect(authorizeEvent(withPrev, new Map())).toMatchObject({ allowed: false, reason: /no prev_events/ });
    const foreign = buildEvent({ ...base, roomId: '!a:other.test', sender: alice, prevEvents: [] }, srv.key);
    expect(authorizeEvent(foreign, new Map())).toMatchObject({ allowed: false, reason: /domains differ/ });
  });

  it('selects create, power levels, the sender, the target and join rules for a join', async () => {
    const room = await createRoom(store, srv, { joinRule: 'public' });
    const state = store.room(room)?.currentState() ?? new Map();
    const ids = selectAuthEvents('m.room.member', bob, bob, { membership: 'join' }, state);
    const types = ids.map((id) => store.room(room)?.get(id)?.event.type).sort();
    // bob has no member event yet: create, power levels, join rules (alice's member is not his)
    expect(types).toEqual(['m.room.create', 'm.room.join_rules', 'm.room.power_levels']);
    const msg = selectAuthEvents('m.room.message', undefined, alice, {}, state);
    expect(msg.map((id) => store.room(room)?.get(id)?.event.type).sort()).toEqual([
      'm.room.create',
      'm.room.member',
      'm.room.power_levels',
    ]);
  });

  it('on receipt: checks an event against its own auth_events (rule 2)', async () => {
    const room = await createRoom(store, srv);
    const ev = await say(room, alice, 'hi');
    const log = store.room(room);
    const authOf = (e: RoomEvent) => e.auth_events.map((id) => log?.get(id)?.event as RoomEvent);
    expect(authorizeByAuthEvents(ev, authOf(ev))).toEqual({ allowed: true });
    const withoutCreate = authOf(ev).filter((e) => e.type !== 'm.room.create');
    expect(authorizeByAuthEvents(ev, withoutCreate)).toMatchObject({
      allowed: false,
      reason: /no m.room.create/,
    });
    const joinRules = log?.currentState().get(stateKeyOf('m.room.join_rules', '')) as RoomEvent;
    expect(authorizeByAuthEvents(ev, [...authOf(ev), joinRules])).toMatchObject({
      allowed: false,
      reason: /not an auth event/,
    });
    const dup = authOf(ev)[0] as RoomEvent;
    expect(authorizeByAuthEvents(ev, [...authOf(ev), dup])).toMatchObject({
      allowed: false,
      reason: /two auth events/,
    });
  });
});

describe('history visibility (client-server "History visibility")', () => {
  it('shared by default, joined hides what came before, world_readable shows all; another user reads nothing else', async () => {
    const room = await createRoom(store, srv);
    const log = store.room(room);
    if (!log) throw new Error('no room');
    const setVisibility = (v: string) =>
      send(store, srv, {
        roomId: room,
        sender: alice,
        type: 'm.room.history_visibility',
        stateKey: '',
        content: { history_visibility: v },
      });
    const before = await say(room, alice, 'before (shared)');
    const hidden = await setVisibility('joined');
    const secret = await say(room, alice, 'secret (joined)');
    const invite = await member(room, alice, bob, 'invite');
    const join = await member(room, bob, bob, 'join');
    const after = await say(room, alice, 'after bob joined');
    const seen = (user: string, evs: RoomEvent[]) => evs.map((e) => log.visibleTo(user, e.event_id));

    // bob joined later: "shared" history yes, "joined" history no; his invite neither (invite is not
    // join, and "joined" is not "invited": /sync's invite section shows it), his own join yes.
    expect(seen(bob, [before, hidden, secret, invite, join, after])).toEqual([
      true,
      true,
      false,
      false,
      true,
      true,
    ]);
    // carol never joined: nothing (the change to "joined" itself neither: shared → joined).
    expect(seen(carol, [before, hidden, secret, invite, join, after])).toEqual([
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    await setVisibility('world_readable');
    const open = await say(room, alice, 'public');
    expect(seen(carol, [secret, open])).toEqual([false, true]);
    expect(seen(alice, [before, secret, after, open])).toEqual([true, true, true, true]);
  });
});

describe('redactions (rooms/v10 "Handling redactions")', () => {
  it('apply when the redacter has the redact level or shares the sender server, not otherwise', async () => {
    const room = await createRoom(store, srv, { joinRule: 'public' });
    const log = store.room(room);
    if (!log) throw new Error('no room');
    await member(room, bob, bob, 'join');
    const msg = await say(room, bob, 'oops');
    const redaction = (sender: string) =>
      buildEvent(
        {
          roomId: room,
          sender,
          type: 'm.room.redaction',
          content: {},
          redacts: msg.event_id,
          prevEvents: [],
          authEvents: [],
          depth: 9,
          originServerTs: 2,
          origin: 'x',
        },
        srv.key,
      );
    const state = log.currentState();
    expect(mayRedact(state, redaction(alice), msg)).toBe(true); // power 100 ≥ redact 50
    expect(mayRedact(state, redaction(carol), msg)).toBe(true); // same server as bob
    expect(mayRedact(state, redaction('@eve:elsewhere.test'), msg)).toBe(false); // neither
    const shown = applyRedaction(msg, redaction(alice));
    expect(shown.content).toEqual({});
    expect(shown.event_id).toBe(msg.event_id);
    expect(shown.unsigned?.redacted_because).toMatchObject({ type: 'm.room.redaction' });
  });
});

describe('state resolution of a fork (simplified v2)', () => {
  it('two servers change state at once: power events first, then the rest is re-checked', async () => {
    const room = await createRoom(store, srv, { joinRule: 'public', users: { [bob]: 50 } });
    await member(room, bob, bob, 'join');
    const log = store.room(room);
    if (!log) throw new Error('no room');
    // Both made against the same state, with the same prev_events: a fork.
    const demote = makeEvent(
      log,
      {
        roomId: room,
        sender: alice,
        type: 'm.room.power_levels',
        stateKey: '',
        content: { users: { [alice]: 100 }, state_default: 50 },
      },
      srv,
    );
    const topic = makeEvent(
      log,
      { roomId: room, sender: bob, type: 'm.room.topic', stateKey: '', content: { topic: 'bob was here' } },
      srv,
    );
    // Appended in either order, the resolved state is the same.
    await store.append(topic);
    await store.append(demote);
    expect(log.forwardExtremities().sort()).toEqual([demote.event_id, topic.event_id].sort());
    const state = log.currentState();
    expect(stateGet(state, 'm.room.power_levels', '')?.event_id).toBe(demote.event_id);
    // bob's topic lost: once demoted he has 0 < 50.
    expect(stateGet(state, 'm.room.topic', '')).toBeUndefined();
    // The same whichever state comes first.
    const [sa, sb] = [log.stateAfter(topic.event_id), log.stateAfter(demote.event_id)] as StateMap[];
    const ids = (s: StateMap) => [...s.values()].map((e) => e.event_id).sort();
    expect(ids(resolveStates([sb as StateMap, sa as StateMap]))).toEqual(
      ids(resolveStates([sa as StateMap, sb as StateMap])),
    );
    // The next event merges the fork.
    const merged = await say(room, alice, 'merged');
    expect(merged.prev_events.sort()).toEqual([demote.event_id, topic.event_id].sort());
    expect(log.forwardExtremities()).toEqual([merged.event_id]);
  });
});
