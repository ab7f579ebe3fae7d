// The room store: NDJSON log per room, fsync'd appends, indexes rebuilt at open, a torn last line
// cut, stream positions for /sync and /messages.
import { appendFile, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  buildEvent,
  eventIdOf,
  formatStreamToken,
  makeEvent,
  NdjsonAppender,
  parseStreamToken,
  type RoomEvent,
  RoomStore,
  readNdjson,
  roomFileName,
  stateGet,
  TornFileError,
} from '../src/index.js';
import { alice, bob, createRoom, SERVER, send, server, tempDir } from './helpers.js';

const srv = server();
let dir: string;
let cleanup: () => Promise<void>;
const open: RoomStore[] = [];

async function openStore() {
  const r = await RoomStore.open(dir);
  open.push(r.store);
  return r;
}

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  await cleanup();
});

const say = (store: RoomStore, roomId: string, body: string) =>
  send(store, srv, { roomId, sender: alice, type: 'm.room.message', content: { msgtype: 'm.text', body } });

describe('room log files', () => {
  it('one readable NDJSON line per event, named after the room', async () => {
    const { store } = await openStore();
    const room = await createRoom(store, srv);
    const ev = await say(store, room, 'bonjour');
    expect(await readdir(dir)).toEqual([roomFileName(room)]);
    expect(roomFileName(room)).toBe(`${room.slice(1)}.ndjson`);
    const lines = (await readFile(join(dir, roomFileName(room)), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    const last = JSON.parse(lines.at(-1) as string);
    expect(last).toMatchObject({ stream: 5, event_id: ev.event_id, pdu: { content: { body: 'bonjour' } } });
    // The line holds the federation PDU: its ID can be recomputed from it.
    expect(eventIdOf(last.pdu)).toBe(ev.event_id);
    expect((await stat(join(dir, roomFileName(room)))).mode & 0o777).toBe(0o600);
  });

  it('escapes what a file name should not hold, and shortens what is too long for one', () => {
    expect(roomFileName('!a/b:x')).toBe('a%2fb:x.ndjson');
    expect(roomFileName('!..:x')).toBe('%2e.:x.ndjson');
    const long = roomFileName(`!${'é'.repeat(120)}:x`); // 120 × "%c3%a9": far over 255 bytes
    expect(Buffer.byteLength(long)).toBeLessThan(255);
    expect(long).not.toBe(roomFileName(`!${'é'.repeat(121)}:x`));
  });

  it('the appender never leaves an append waiting, whatever the order of appends and truncates', async () => {
    const file = join(dir, 'race.ndjson');
    const a = new NdjsonAppender(file);
    for (let i = 0; i < 60; i++) {
      // each append issued right as the previous drain ends: the moment a waiting append was lost
      await a.append({ i });
      if (i % 10 === 9) await a.truncate();
    }
    await Promise.all([a.append({ i: 100 }), a.truncate(), a.append({ i: 101 })]);
    await a.close();
    const { records } = await readNdjson(file);
    expect(records).toEqual([{ i: 101 }]);
  });
});

describe('restart', () => {
  it('rebuilds every index from the logs', async () => {
    const first = (await openStore()).store;
    const room = await createRoom(first, srv, { joinRule: 'public' });
    await send(first, srv, {
      roomId: room,
      sender: bob,
      type: 'm.room.member',
      stateKey: bob,
      content: { membership: 'join' },
    });
    const msgs: RoomEvent[] = [];
    for (let i = 0; i < 5; i++) msgs.push(await say(first, room, `m${i}`));
    const before = {
      pos: first.position,
      ext: first.room(room)?.forwardExtremities(),
      depth: first.room(room)?.maxDepth,
    };
    await first.close();

    const { store, report } = await openStore();
    expect(report).toEqual({ rooms: 1, events: 10, tornBytes: 0 });
    const log = store.room(room);
    expect(store.position).toBe(before.pos);
    expect(log?.forwardExtremities()).toEqual(before.ext);
    expect(log?.maxDepth).toBe(before.depth);
    expect(log?.get(msgs[2]?.event_id ?? '')?.event.content.body).toBe('m2');
    expect(stateGet(log?.currentState() ?? new Map(), 'm.room.member', bob)?.content.membership).toBe('join');
    // And it carries on where it stopped: the next event follows the last one.
    const next = await say(store, room, 'after restart');
    expect(next.prev_events).toEqual([msgs[4]?.event_id]);
    expect(store.position).toBe((before.pos ?? 0) + 1);
  });

  it('cuts a torn last line (half an event written when the power went)', async () => {
    const first = (await openStore()).store;
    const room = await createRoom(first, srv);
    const kept = await say(first, room, 'kept');
    await first.close();
    const file = join(dir, roomFileName(room));
    const sizeBefore = (await stat(file)).size;
    const half = '{"stream":6,"event_id":"$torn","pdu":{"type":"m.room.mes';
    await appendFile(file, half);

    const { store, report } = await openStore();
    expect(report.tornBytes).toBe(half.length);
    expect((await stat(file)).size).toBe(sizeBefore);
    expect(store.room(room)?.forwardExtremities()).toEqual([kept.event_id]);
    const next = await say(store, room, 'after the crash');
    // The new line starts on a line of its own: the file parses whole.
    const lines = (await readFile(file, 'utf8'))
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.event_id).slice(-2)).toEqual([kept.event_id, next.event_id]);
  });

  it('also cuts a complete-looking last line that is not JSON, but refuses damage in the middle', async () => {
    const first = (await openStore()).store;
    const room = await createRoom(first, srv);
    await first.close();
    const file = join(dir, roomFileName(room));
    const good = await readFile(file, 'utf8');
    await writeFile(file, `${good}{"stream":5,"eve\n`);
    expect((await openStore()).report.tornBytes).toBe('{"stream":5,"eve\n'.length);
    await writeFile(file, `not json\n${good}`);
    await expect(RoomStore.open(dir)).rejects.toThrow(TornFileError);
  });
});

describe('stream positions', () => {
  it('/messages pages backwards and forwards through the timeline', async () => {
    const { store } = await openStore();
    const room = await createRoom(store, srv);
    for (let i = 0; i < 6; i++) await say(store, room, `m${i}`);
    const log = store.room(room);
    if (!log) throw new Error('no room');
    const bodies = (evs: { event: RoomEvent }[]) => evs.map((e) => e.event.content.body ?? e.event.type);
    const page1 = log.messages(store.position, 'b', 4);
    expect(bodies(page1.events)).toEqual(['m5', 'm4', 'm3', 'm2']);
    const page2 = log.messages(page1.end ?? -1, 'b', 4);
    expect(bodies(page2.events)).toEqual(['m1', 'm0', 'm.room.join_rules', 'm.room.power_levels']);
    const page3 = log.messages(page2.end ?? -1, 'b', 4);
    expect(bodies(page3.events)).toEqual(['m.room.member', 'm.room.create']);
    expect(page3.end).toBeUndefined();
    const fwd = log.messages(page1.end ?? -1, 'f', 10);
    expect(bodies(fwd.events)).toEqual(['m2', 'm3', 'm4', 'm5']);
  });

  it('state at a stream position, a window of the timeline, and an auth chain', async () => {
    const { store } = await openStore();
    const room = await createRoom(store, srv);
    const log = store.room(room);
    if (!log) throw new Error('no room');
    const beforeName = store.position;
    const named = await send(store, srv, {
      roomId: room,
      sender: alice,
      type: 'm.room.name',
      stateKey: '',
      content: { name: 'Salle 1' },
    });
    await say(store, room, 'hello');
    const renamed = await send(store, srv, {
      roomId: room,
      sender: alice,
      type: 'm.room.name',
      stateKey: '',
      content: { name: 'Salle 2' },
    });
    const nameAt = (pos: number) => stateGet(log.stateAt(pos), 'm.room.name', '')?.content.name;
    expect(nameAt(beforeName)).toBeUndefined();
    expect(nameAt(beforeName + 1)).toBe('Salle 1');
    expect(nameAt(beforeName + 2)).toBe('Salle 1');
    expect(nameAt(store.position)).toBe('Salle 2');
    expect(log.stateAt(0).size).toBe(0);
    expect(log.timelineBetween(beforeName, beforeName + 2).map((e) => e.event.event_id)).toEqual([
      named.event_id,
      expect.any(String),
    ]);
    // The auth chain of the rename: create, alice's join, power levels (and their own auth events).
    const chain = log
      .authChain([renamed.event_id])
      .map((e) => e.type)
      .sort();
    expect(chain).toEqual(['m.room.create', 'm.room.member', 'm.room.power_levels']);
  });

  it('stream tokens round-trip and malformed ones are refused', () => {
    expect(parseStreamToken(formatStreamToken(42))).toBe(42);
    for (const bad of ['42', 's', 's-1', 's1.5', 'sABC', undefined, 's9999999999999999']) {
      expect(parseStreamToken(bad)).toBeUndefined();
    }
  });

  it('a long poll wakes on the next event, across rooms, and times out otherwise', async () => {
    const { store } = await openStore();
    const r1 = await createRoom(store, srv);
    const r2 = await createRoom(store, srv);
    const since = store.position;
    expect(await store.waitFor(since, 10)).toBe(false);
    const waiting = store.waitFor(since, 30_000);
    const ev = await say(store, r2, 'wake up');
    expect(await waiting).toBe(true);
    expect(store.eventsSince(since).map((s) => s.event.event_id)).toEqual([ev.event_id]);
    expect(store.room(r1)?.timelineBetween(since)).toEqual([]);
    const ctl = new AbortController();
    const aborted = store.waitFor(store.position, 30_000, ctl.signal);
    ctl.abort();
    expect(await aborted).toBe(false);
  });

  it('many concurrent appends are all stored, in order, each durable when it resolves', async () => {
    const { store } = await openStore();
    const room = await createRoom(store, srv);
    const log = store.room(room);
    const events = Array.from({ length: 200 }, (_, i) =>
      makeEvent(
        log,
        { roomId: room, sender: alice, type: 'm.room.message', content: { body: `c${i}` } },
        srv,
      ),
    );
    // All made against the same extremity: a 200-way fork, which the next event merges (≤ 10 prevs).
    await Promise.all(events.map((e) => store.append(e)));
    const lines = (await readFile(join(dir, roomFileName(room)), 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(204);
    expect(log?.forwardExtremities()).toHaveLength(200);
    const merge = await say(store, room, 'merge');
    expect(merge.prev_events).toHaveLength(10);
  });

  it('the same event appended twice is stored once', async () => {
    const { store } = await openStore();
    const room = await createRoom(store, srv);
    const ev = makeEvent(
      store.room(room),
      { roomId: room, sender: alice, type: 'm.room.message', content: { body: 'twice' } },
      srv,
    );
    const [a, b] = await Promise.all([store.append(ev), store.append(ev)]);
    expect(a?.stream).toBe(b?.stream);
    const c = await store.append(ev);
    expect(c.stream).toBe(a?.stream);
    expect((await readFile(join(dir, roomFileName(room)), 'utf8')).trimEnd().split('\n')).toHaveLength(5);
  });
});

describe('a remote join', () => {
  it('keeps the handed-over state as outliers and the join on top of it, across a restart', async () => {
    const remote = server('hs2.test:8448');
    const { dir: remoteDir, cleanup: rc } = await tempDir();
    try {
      const { store: theirs } = await RoomStore.open(remoteDir);
      const room = await createRoom(
        theirs,
        { ...remote, origin: 'hs2.test:8448' },
        { roomId: '!x:hs2.test:8448', joinRule: 'public' },
      );
      const state = [...(theirs.room(room)?.currentState().values() ?? [])];
      const prev = theirs.room(room)?.forwardExtremities() ?? [];
      await theirs.close();

      const { store } = await openStore();
      for (const ev of state) await store.append(ev, { outlier: true });
      // (a real join comes from make_join/send_join; the store only needs the state handed over)
      const join = buildEvent(
        {
          roomId: room,
          sender: bob,
          type: 'm.room.member',
          stateKey: bob,
          content: { membership: 'join' },
          prevEvents: prev,
          authEvents: state.filter((e) => e.type !== 'm.room.member').map((e) => e.event_id),
          depth: 5,
          originServerTs: Date.now(),
          origin: SERVER,
        },
        srv.key,
      );
      await store.append(join, { stateBefore: state });
      const log = store.room(room);
      expect(log?.timelineBetween(0).map((e) => e.event.type)).toEqual(['m.room.member']);
      expect(log?.currentState().size).toBe(state.length + 1);
      await store.close();
      open.length = 0;
      const again = (await openStore()).store.room(room);
      expect(again?.currentState().size).toBe(state.length + 1);
    } finally {
      await rc();
    }
  });
});
