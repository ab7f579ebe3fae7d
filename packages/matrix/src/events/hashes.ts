/**
 * Content hash, reference hash and event ID.
 * Spec: server-server "Calculating the content hash for an event", "Calculating the reference hash
 * for an event"; rooms/v10 "Event IDs" (v4+: "$" + URL-safe unpadded base64 of the reference hash).
 */
import { createHash } from 'node:crypto';
import { encodeBase64, encodeBase64Url } from '../base64.js';
import { canonicalJsonBytes } from '../canonical-json.js';
import type { JsonObject } from '../signing.js';
import { redactEvent } from './redaction.js';

/** SHA-256 of the canonical JSON without `unsigned`, `signatures`, `hashes`: covers the full content. */
export function contentHash(event: JsonObject): Buffer {
  const { unsigned: _u, signatures: _s, hashes: _h, ...rest } = event;
  return createHash('sha256').update(canonicalJsonBytes(rest)).digest();
}

/** The content hash as it is written in `hashes.sha256` (unpadded base64). */
export function contentHashBase64(event: JsonObject): string {
  return encodeBase64(contentHash(event));
}

/** SHA-256 of the redacted event without `signatures` and `unsigned`: covers only essential keys. */
export function referenceHash(event: JsonObject): Buffer {
  const { signatures: _s, unsigned: _u, ...rest } = redactEvent(event);
  return createHash('sha256').update(canonicalJsonBytes(rest)).digest();
}

/**
 * The event ID of a v4+ event. `event_id` itself, if present (the store adds it), is removed first:
 * it is derived from the event, never part of it on the wire.
 */
export function eventIdOf(event: JsonObject): string {
  const { event_id: _id, ...pdu } = event;
  return `$${encodeBase64Url(referenceHash(pdu))}`;
}
