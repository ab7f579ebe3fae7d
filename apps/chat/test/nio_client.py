"""Two matrix-nio clients (Debian's python3-matrix-nio) talking through the lab's chat server.

Usage: /usr/bin/python3 nio_client.py BASE_URL
alice logs in, creates a room and invites bob; bob syncs, sees the invite, joins; alice sends;
bob syncs and receives. Prints one JSON object with what each step saw (the test checks it).
"""

import asyncio
import json
import sys

from nio import AsyncClient, InviteMemberEvent, JoinResponse, LoginResponse, RoomCreateResponse, RoomMessageText, RoomSendResponse


async def main(base):
    result = {}
    alice = AsyncClient(base, "alice")
    bob = AsyncClient(base, "bob")
    try:
        for name, client, password in (("alice", alice, "wonderland"), ("bob", bob, "builder")):
            resp = await client.login(password)
            if not isinstance(resp, LoginResponse):
                raise SystemExit(f"{name} login: {resp}")
            result[f"{name}_user_id"] = resp.user_id
        await bob.sync(timeout=0)
        created = await alice.room_create(name="nio room", invite=[bob.user_id])
        if not isinstance(created, RoomCreateResponse):
            raise SystemExit(f"room_create: {created}")
        room_id = created.room_id
        result["room_id"] = room_id
        # bob's long poll returns with the invite.
        synced = await bob.sync(timeout=10000, since=bob.next_batch)
        invite = synced.rooms.invite.get(room_id)
        result["invited"] = invite is not None and any(
            isinstance(e, InviteMemberEvent) and e.membership == "invite" for e in invite.invite_state
        )
        joined = await bob.join(room_id)
        result["joined"] = isinstance(joined, JoinResponse)
        await bob.sync(timeout=0, since=bob.next_batch)
        sent = await alice.room_send(room_id, "m.room.message", {"msgtype": "m.text", "body": "bonjour from nio"})
        if not isinstance(sent, RoomSendResponse):
            raise SystemExit(f"room_send: {sent}")
        result["event_id"] = sent.event_id
        synced = await bob.sync(timeout=10000, since=bob.next_batch)
        room = synced.rooms.join.get(room_id)
        result["received"] = [
            e.body for e in (room.timeline.events if room else []) if isinstance(e, RoomMessageText)
        ]
        result["members"] = sorted(bob.rooms[room_id].users) if room_id in bob.rooms else []
    finally:
        await alice.close()
        await bob.close()
    print(json.dumps(result))


asyncio.run(main(sys.argv[1]))
