/**
 * A PDU (persistent data unit) in the federation format of room versions 4 to 10.
 * Spec: rooms/v10 "Event format" (the v6 format): no `event_id` on the wire, it is derived from the
 * reference hash. The store and the client API add `event_id` next to it (see RoomEvent).
 */
import type { Signatures } from '../signing.js';

export interface Pdu {
  room_id: string;
  sender: string;
  origin?: string;
  origin_server_ts: number;
  type: string;
  state_key?: string;
  content: Record<string, unknown>;
  prev_events: string[];
  auth_events: string[];
  depth: number;
  hashes: { sha256: string };
  signatures: Signatures;
  redacts?: string;
  unsigned?: Record<string, unknown>;
  [key: string]: unknown;
}

/** A PDU with its event ID, as the store and clients see it. */
export type RoomEvent = Pdu & { event_id: string };

export const ROOM_VERSION = '10';

/** "(type, state_key)" → one string, the key of a state map. */
export function stateKeyOf(type: string, stateKey: string): string {
  return `${type}\u0000${stateKey}`;
}

export function isStateEvent(ev: { state_key?: unknown }): boolean {
  return typeof ev.state_key === 'string';
}

/** The server part of a user ID or room ID ("@a:host:8448" → "host:8448"; "" if none). */
export function domainOf(id: string): string {
  const i = id.indexOf(':');
  return i < 0 ? '' : id.slice(i + 1);
}
