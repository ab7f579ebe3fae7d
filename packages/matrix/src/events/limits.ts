/**
 * Size limits. Spec: client-server "Size limits": the complete event, in the federation format,
 * with its signatures, as canonical JSON, MUST NOT be larger than 65536 bytes; `type` and
 * `state_key` at most 255 bytes; user IDs and room IDs at most 255 bytes (appendices, identifiers).
 */
import { CanonicalJsonError, canonicalJsonBytes } from '../canonical-json.js';
import type { JsonObject } from '../signing.js';

export const MAX_EVENT_BYTES = 65_536;
export const MAX_KEY_BYTES = 255;

/** An event the spec forbids; `errcode` is the client-server error code to answer with. */
export class EventFormatError extends Error {
  override name = 'EventFormatError';
  constructor(
    message: string,
    readonly errcode: 'M_TOO_LARGE' | 'M_BAD_JSON' = 'M_BAD_JSON',
  ) {
    super(message);
  }
}

/** Throws EventFormatError (M_TOO_LARGE) if the event or one of its keys is over its limit. */
export function checkEventSize(event: JsonObject): void {
  const { event_id: _id, ...pdu } = event; // the federation format has no event_id
  for (const key of ['type', 'state_key', 'sender', 'room_id'] as const) {
    const v = pdu[key];
    if (typeof v === 'string' && Buffer.byteLength(v) > MAX_KEY_BYTES) {
      throw new EventFormatError(`${key} is over ${MAX_KEY_BYTES} bytes`, 'M_TOO_LARGE');
    }
  }
  let size: number;
  try {
    size = canonicalJsonBytes(pdu).length;
  } catch (err) {
    // A float, a lone surrogate…: not an event any server could hash the same way.
    if (err instanceof CanonicalJsonError) throw new EventFormatError(err.message, 'M_BAD_JSON');
    throw err;
  }
  if (size > MAX_EVENT_BYTES) {
    throw new EventFormatError(
      `event is ${size} bytes, over the ${MAX_EVENT_BYTES}-byte limit`,
      'M_TOO_LARGE',
    );
  }
}
