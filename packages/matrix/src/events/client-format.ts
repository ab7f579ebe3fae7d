/**
 * Events as clients see them. Spec: client-server "Room Event Format" (ClientEvent): the
 * federation keys (auth_events, prev_events, depth, hashes, signatures, origin) are left out,
 * `unsigned.age` is how old the event is now.
 */
import type { RoomEvent } from './types.js';

export interface ClientEvent {
  content: Record<string, unknown>;
  event_id: string;
  origin_server_ts: number;
  room_id: string;
  sender: string;
  type: string;
  state_key?: string;
  redacts?: string;
  unsigned?: Record<string, unknown>;
}

export function toClientEvent(
  ev: RoomEvent,
  opts: { now?: number; transactionId?: string; prevContent?: Record<string, unknown> } = {},
): ClientEvent {
  const out: ClientEvent = {
    content: ev.content,
    event_id: ev.event_id,
    origin_server_ts: ev.origin_server_ts,
    room_id: ev.room_id,
    sender: ev.sender,
    type: ev.type,
  };
  if (typeof ev.state_key === 'string') out.state_key = ev.state_key;
  if (typeof ev.redacts === 'string') out.redacts = ev.redacts;
  const unsigned: Record<string, unknown> = {
    age: Math.max(0, (opts.now ?? Date.now()) - ev.origin_server_ts),
  };
  if (opts.transactionId !== undefined) unsigned.transaction_id = opts.transactionId;
  if (opts.prevContent !== undefined) unsigned.prev_content = opts.prevContent;
  out.unsigned = unsigned;
  return out;
}
