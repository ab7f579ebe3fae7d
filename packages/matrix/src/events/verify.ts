/**
 * Checking a received PDU. Spec: server-server "Checks performed on receipt of a PDU" steps 1-3,
 * and "Validating hashes and signatures on received events".
 *
 * 1. format (required keys and types) and size, else dropped;
 * 2. the signature of the sender's server over the redacted event, else dropped;
 * 3. the content hash, else the event must be replaced by its redacted copy.
 * Steps 4-6 (authorization) are in ../auth.
 */
import { decodeBase64 } from '../base64.js';
import { isObject, type JsonObject, type KeyLookup, verifySignedBy } from '../signing.js';
import { contentHash, eventIdOf } from './hashes.js';
import { checkEventSize, EventFormatError } from './limits.js';
import { redactEvent } from './redaction.js';
import { domainOf, type Pdu } from './types.js';

export type VerifyResult =
  | { ok: true; eventId: string; pdu: Pdu }
  /** Signed but the content was changed: keep `redacted` instead, if at all (spec step 3). */
  | { ok: false; reason: 'hash'; eventId: string; redacted: Pdu; message: string }
  | { ok: false; reason: 'format' | 'size' | 'signature'; message: string };

/** Step 1: the fields of the v10 event format with the right types. Throws EventFormatError. */
export function checkEventFormat(ev: unknown): asserts ev is Pdu {
  if (!isObject(ev)) throw new EventFormatError('an event is a JSON object');
  const str = (k: string) => {
    if (typeof ev[k] !== 'string') throw new EventFormatError(`${k} must be a string`);
  };
  const int = (k: string) => {
    if (!Number.isSafeInteger(ev[k])) throw new EventFormatError(`${k} must be an integer`);
  };
  const ids = (k: string) => {
    const v = ev[k];
    if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && x.startsWith('$'))) {
      throw new EventFormatError(`${k} must be a list of event IDs`);
    }
  };
  str('room_id');
  str('sender');
  str('type');
  int('origin_server_ts');
  int('depth');
  ids('prev_events');
  ids('auth_events');
  if (ev.state_key !== undefined) str('state_key');
  if (!isObject(ev.content)) throw new EventFormatError('content must be an object');
  if (!isObject(ev.hashes) || typeof ev.hashes.sha256 !== 'string')
    throw new EventFormatError('hashes.sha256 missing');
  if (!isObject(ev.signatures)) throw new EventFormatError('signatures missing');
  if (!(ev.sender as string).startsWith('@') || !domainOf(ev.sender as string))
    throw new EventFormatError('bad sender');
  if (!(ev.room_id as string).startsWith('!') || !domainOf(ev.room_id as string))
    throw new EventFormatError('bad room_id');
  if ((ev.depth as number) < 0 || (ev.depth as number) > 2 ** 53 - 1) throw new EventFormatError('bad depth');
}

/**
 * Verifies a PDU received from another server (an `event_id` key, if present, is ignored: the ID
 * is recomputed). Only the signature of the sender's server is required (rooms v3+).
 */
export async function verifyEvent(received: unknown, keyLookup: KeyLookup): Promise<VerifyResult> {
  let pdu: Pdu;
  try {
    const { event_id: _id, ...rest } = received as JsonObject;
    checkEventFormat(rest);
    checkEventSize(rest);
    pdu = rest;
  } catch (err) {
    const e = err as EventFormatError;
    return { ok: false, reason: e.errcode === 'M_TOO_LARGE' ? 'size' : 'format', message: e.message };
  }
  const server = domainOf(pdu.sender);
  const redacted = redactEvent(pdu) as Pdu;
  let signed = false;
  try {
    signed = await verifySignedBy(redacted, server, keyLookup);
  } catch {
    signed = false;
  }
  if (!signed) return { ok: false, reason: 'signature', message: `no valid signature from ${server}` };
  const eventId = eventIdOf(pdu);
  let claimed: Buffer | undefined;
  try {
    claimed = decodeBase64(pdu.hashes.sha256);
  } catch {
    claimed = undefined;
  }
  if (!claimed?.equals(contentHash(pdu))) {
    return { ok: false, reason: 'hash', eventId, redacted, message: 'content hash does not match' };
  }
  return { ok: true, eventId, pdu };
}
