/**
 * Building an outgoing event: fill the PDU, hash it, sign the redacted form, derive the event ID.
 * Spec: server-server "Adding hashes and signatures to outgoing events"; rooms/v10 "Event format".
 */
import type { SigningKey } from '../keys.js';
import { signJson } from '../signing.js';
import { contentHashBase64, eventIdOf } from './hashes.js';
import { checkEventSize } from './limits.js';
import { redactEvent } from './redaction.js';
import type { Pdu, RoomEvent } from './types.js';

export interface EventFields {
  roomId: string;
  sender: string;
  type: string;
  /** Present for state events (the empty string is a valid state key). */
  stateKey?: string;
  content: Record<string, unknown>;
  prevEvents: string[];
  authEvents: string[];
  depth: number;
  originServerTs: number;
  /** This server's name (the sender's domain). */
  origin: string;
  /** m.room.redaction: the event redacted (a top-level key in v10). */
  redacts?: string;
}

/**
 * A hashed and signed PDU with its event ID. Throws EventFormatError (M_TOO_LARGE) for an event
 * over 65,536 bytes (M_BAD_JSON for a float or a
 * lone surrogate), before anything is stored or sent.
 */
export function buildEvent(fields: EventFields, key: SigningKey): RoomEvent {
  const pdu: Omit<Pdu, 'hashes' | 'signatures'> & Record<string, unknown> = {
    auth_events: [...fields.authEvents],
    content: fields.content,
    depth: fields.depth,
    origin: fields.origin,
    origin_server_ts: fields.originServerTs,
    prev_events: [...fields.prevEvents],
    room_id: fields.roomId,
    sender: fields.sender,
    type: fields.type,
  };
  if (fields.stateKey !== undefined) pdu.state_key = fields.stateKey;
  if (fields.redacts !== undefined) pdu.redacts = fields.redacts;
  checkEventSize(pdu); // before hashing: refuses floats and the like with EventFormatError
  const hashed = { ...pdu, hashes: { sha256: contentHashBase64(pdu) } };
  const signed = {
    ...hashed,
    signatures: signJson(redactEvent(hashed), fields.origin, key).signatures,
  } as Pdu;
  checkEventSize(signed);
  return { ...signed, event_id: eventIdOf(signed) };
}

/** The PDU as sent over federation: without `event_id` (and without local `unsigned` data). */
export function toFederationPdu(event: RoomEvent | Pdu): Pdu {
  const { event_id: _id, unsigned: _u, ...pdu } = event as RoomEvent;
  return pdu as Pdu;
}
