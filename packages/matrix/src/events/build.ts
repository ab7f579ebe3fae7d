/**
 * Building an outgoing event: fill the PDU, hash it, sign the redacted form, derive the event ID.
 * Spec: server-server "Adding hashes and signatures to outgoing events"; rooms/v10 "Event format".
 */
import { createHash } from 'node:crypto';
import { encodeBase64, encodeBase64Url } from '../base64.js';
import { CanonicalJsonError, canonicalJsonBytes } from '../canonical-json.js';
import { type SigningKey, signBytes } from '../keys.js';
import { contentHashBase64 } from './hashes.js';
import { checkEventSize, EventFormatError } from './limits.js';
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
  let sha256: string;
  try {
    sha256 = contentHashBase64(pdu);
  } catch (err) {
    // A float, a lone surrogate…: no server could hash it the same way.
    if (err instanceof CanonicalJsonError) throw new EventFormatError(err.message, 'M_BAD_JSON');
    throw err;
  }
  const hashed = { ...pdu, hashes: { sha256 } };
  // The bytes signed (the redacted event, canonical) are exactly the bytes the reference hash
  // covers: one encoding gives both the signature and the event ID.
  const essential = canonicalJsonBytes(redactEvent(hashed));
  const signed = {
    ...hashed,
    signatures: { [fields.origin]: { [key.keyId]: encodeBase64(signBytes(key, essential)) } },
  } as Pdu;
  checkEventSize(signed);
  return { ...signed, event_id: `$${encodeBase64Url(createHash('sha256').update(essential).digest())}` };
}

/** The PDU as sent over federation: without `event_id` (and without local `unsigned` data). */
export function toFederationPdu(event: RoomEvent | Pdu): Pdu {
  const { event_id: _id, unsigned: _u, ...pdu } = event as RoomEvent;
  return pdu as Pdu;
}
