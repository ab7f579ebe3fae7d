import { type RoomEvent, type RoomLog, stateGet } from '@portlab/matrix';

/** Readers of a room's current state (packages/matrix RoomLog), as the client API asks them. */

export function stateEvent(log: RoomLog, type: string, stateKey: string): RoomEvent | undefined {
  return stateGet(log.currentState(), type, stateKey);
}

export function membership(log: RoomLog, userId: string): string | undefined {
  return stateEvent(log, 'm.room.member', userId)?.content.membership as string | undefined;
}

/** The users whose membership is `which` now. */
export function members(log: RoomLog, which = 'join'): string[] {
  const out: string[] = [];
  for (const ev of log.currentState().values()) {
    if (ev.type === 'm.room.member' && ev.content.membership === which) out.push(ev.state_key!);
  }
  return out;
}

/** The state events in force now. */
export function stateEvents(log: RoomLog): RoomEvent[] {
  return [...log.currentState().values()];
}
