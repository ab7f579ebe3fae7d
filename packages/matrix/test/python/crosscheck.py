"""Cross-checks @portlab/matrix against Synapse's own libraries (Debian python3-signedjson, which
brings python3-canonicaljson and python3-nacl). Reads a JSON job on stdin, prints a JSON answer.

Only the v10 redaction below is written here (signedjson has none): it follows the spec's list
(rooms/v10 "Redactions"), independently of the TypeScript code under test."""
import base64
import hashlib
import json
import sys

import canonicaljson
from signedjson.key import decode_signing_key_base64, decode_verify_key_base64
from signedjson.sign import SignatureVerifyException, sign_json, verify_signed_json
from unpaddedbase64 import decode_base64, encode_base64

KEPT = {"event_id", "type", "room_id", "sender", "state_key", "content", "hashes", "signatures",
        "depth", "prev_events", "prev_state", "auth_events", "origin", "origin_server_ts", "membership"}
CONTENT = {
    "m.room.member": ["membership", "join_authorised_via_users_server"],
    "m.room.create": ["creator"],
    "m.room.join_rules": ["join_rule", "allow"],
    "m.room.power_levels": ["ban", "events", "events_default", "kick", "redact", "state_default", "users", "users_default"],
    "m.room.history_visibility": ["history_visibility"],
}


def redact(ev):
    out = {k: v for k, v in ev.items() if k in KEPT}
    out["content"] = {k: v for k, v in ev.get("content", {}).items() if k in CONTENT.get(ev.get("type"), [])}
    return out


def verifies(obj, server, key_id, key_b64):
    try:
        verify_signed_json(obj, server, decode_verify_key_base64("ed25519", key_id.split(":", 1)[1], key_b64))
        return True
    except SignatureVerifyException:
        return False


job = json.load(sys.stdin)
server, key_id, key_b64 = job["server"], job["keyId"], job["publicKey"]
answer = {
    # canonical JSON of each value, as Synapse writes it
    "canonical": [canonicaljson.encode_canonical_json(v).decode("utf-8") for v in job["values"]],
    # our signed JSON objects, checked by signedjson
    "signedOk": [verifies(o, server, key_id, key_b64) for o in job["signed"]],
    "events": [],
}
for ev in job["events"]:
    pdu = {k: v for k, v in ev.items() if k not in ("event_id", "unsigned")}
    unhashed = {k: v for k, v in pdu.items() if k not in ("signatures", "hashes")}
    content_hash = encode_base64(hashlib.sha256(canonicaljson.encode_canonical_json(unhashed)).digest())
    redacted = redact(pdu)
    ref = {k: v for k, v in redacted.items() if k not in ("signatures", "unsigned")}
    event_id = "$" + base64.urlsafe_b64encode(hashlib.sha256(canonicaljson.encode_canonical_json(ref)).digest()).decode().rstrip("=")
    answer["events"].append({
        "contentHash": content_hash,
        "eventId": event_id,
        "signatureOk": verifies(redacted, server, key_id, key_b64),
    })
# And the other way: signedjson signs with the same seed, for us to verify.
signing_key = decode_signing_key_base64("ed25519", key_id.split(":", 1)[1], job["seed"])
answer["pythonSigned"] = sign_json({"from": "synapse's signedjson", "n": 1}, server, signing_key)
print(json.dumps(answer))
