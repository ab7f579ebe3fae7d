/**
 * State resolution when the room's graph forks: two servers sent events at the same time, so an
 * event may have several prev_events whose states differ.
 *
 * A documented SIMPLIFICATION of the spec's state resolution v2 (rooms/v10 "State resolution",
 * fragment v2-state-res), enough for two servers of a lab, and deterministic so both servers reach
 * the same state from the same events:
 *   1. the unconflicted state map: every (type, state_key) that all states agree on (as in v2);
 *   2. the conflicted events, sorted: power events first (power levels, join rules, kicks and bans,
 *      as v2 defines them), then the others, each group by (depth, origin_server_ts, event_id);
 *   3. "iterative auth checks" as in v2: starting from the unconflicted state, each conflicted event,
 *      in that order, replaces its key's entry if the auth rules allow it against the state built
 *      so far.
 * What v2 does and this does not: the auth difference (events in some auth chains only), the
 * reverse topological power ordering, the mainline ordering of non-power events. With two servers
 * that trust each other these rarely matter; a malicious server could exploit the difference.
 */
import { authorizeEvent } from '../auth/rules.js';
import { type RoomEvent, stateKeyOf } from '../events/types.js';
import type { StateMap } from './state-map.js';

/** A power event, as state resolution v2 defines it. */
export function isPowerEvent(ev: RoomEvent): boolean {
  if (ev.type === 'm.room.power_levels' || ev.type === 'm.room.join_rules') return ev.state_key === '';
  if (ev.type === 'm.room.create') return true;
  const m = ev.content.membership;
  return ev.type === 'm.room.member' && (m === 'leave' || m === 'ban') && ev.sender !== ev.state_key;
}

function compareEvents(a: RoomEvent, b: RoomEvent): number {
  const pa = isPowerEvent(a) ? 0 : 1;
  const pb = isPowerEvent(b) ? 0 : 1;
  if (pa !== pb) return pa - pb;
  if (a.depth !== b.depth) return a.depth - b.depth;
  if (a.origin_server_ts !== b.origin_server_ts) return a.origin_server_ts - b.origin_server_ts;
  return a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;
}

/** One state from several (see the header for the algorithm). */
export function resolveStates(input: readonly StateMap[]): StateMap {
  // Messages share their state map with the event before them: after a fork of messages only,
  // the states are often the very same object, and there is nothing to resolve.
  const states = [...new Set(input)];
  if (states.length === 0) return new Map();
  if (states.length === 1) return states[0] as StateMap;
  const keys = new Set<string>();
  for (const s of states) for (const k of s.keys()) keys.add(k);
  const resolved = new Map<string, RoomEvent>();
  const conflicted: RoomEvent[] = [];
  for (const key of keys) {
    const candidates = new Map<string, RoomEvent>();
    let missing = false;
    for (const s of states) {
      const ev = s.get(key);
      if (ev) candidates.set(ev.event_id, ev);
      else missing = true;
    }
    if (candidates.size === 1 && !missing) resolved.set(key, [...candidates.values()][0] as RoomEvent);
    else conflicted.push(...candidates.values());
  }
  conflicted.sort(compareEvents);
  for (const ev of conflicted) {
    if (authorizeEvent(ev, resolved).allowed) resolved.set(stateKeyOf(ev.type, ev.state_key ?? ''), ev);
  }
  return resolved;
}
