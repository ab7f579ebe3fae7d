/**
 * A room state: (event type, state key) → the state event in force. Spec: rooms/v2 state
 * resolution "Definitions" (state maps keyed by (event_type, state_key)).
 */
import { type RoomEvent, stateKeyOf } from '../events/types.js';

export type StateMap = ReadonlyMap<string, RoomEvent>;

export function stateGet(state: StateMap, type: string, stateKey: string): RoomEvent | undefined {
  return state.get(stateKeyOf(type, stateKey));
}

/** A state map from a list of state events (the last one for a key wins). */
export function stateFromEvents(events: Iterable<RoomEvent>): Map<string, RoomEvent> {
  const map = new Map<string, RoomEvent>();
  for (const ev of events)
    if (typeof ev.state_key === 'string') map.set(stateKeyOf(ev.type, ev.state_key), ev);
  return map;
}

/** The state after `event`, given the state before it (a message event leaves it as it was). */
export function applyEvent(before: StateMap, event: RoomEvent): StateMap {
  if (typeof event.state_key !== 'string') return before;
  const after = new Map(before);
  after.set(stateKeyOf(event.type, event.state_key), event);
  return after;
}
