"""A small Bitcoin node written with python-bitcoinlib (bitcoin.messages, bitcoin.net): it connects to
HOST PORT, does the version/verack handshake, sends getheaders from the regtest genesis and prints the
headers it receives as JSON (ids, and whether each one's proof of work checks).

One message is parsed by hand: python-bitcoinlib 0.11's msg_headers reads 80-byte entries, but Bitcoin
Core (and portlab) send each header followed by its transaction count, always 0 (81 bytes).
"""
import io
import json
import socket
import struct
import sys

import bitcoin
from bitcoin.core import CBlockHeader, CheckBlockHeader, b2lx, lx
from bitcoin.core.serialize import Hash, VarIntSerializer
from bitcoin.messages import MsgSerializable, msg_getheaders, msg_pong, msg_verack, msg_version
from bitcoin.net import CBlockLocator

bitcoin.SelectParams('regtest')
host, port = sys.argv[1], int(sys.argv[2])
sock = socket.create_connection((host, port), timeout=10)
stream = sock.makefile('rb')
seen = []


def read_message():
    """One framed message: magic, command, length, checksum (checked here), payload."""
    head = stream.read(24)
    magic, command, length, checksum = struct.unpack('<4s12sI4s', head)
    if magic != bitcoin.params.MESSAGE_START:
        raise ValueError('wrong magic %s' % magic.hex())
    payload = stream.read(length)
    if Hash(payload)[:4] != checksum:
        raise ValueError('bad checksum')
    return command.rstrip(b'\0'), head + payload, payload


version = msg_version()
version.addrTo.ip, version.addrTo.port = host, port
version.strSubVer = b'/python-bitcoinlib:0.11/'
sock.sendall(version.to_bytes())
while True:
    command, raw, payload = read_message()
    seen.append(command.decode())
    if command == b'version':
        theirs = MsgSerializable.from_bytes(raw)
        sock.sendall(msg_verack().to_bytes())
    elif command == b'ping':
        sock.sendall(msg_pong(nonce=MsgSerializable.from_bytes(raw).nonce).to_bytes())
    elif command == b'verack':
        get = msg_getheaders()
        get.locator = CBlockLocator()
        get.locator.vHave = [lx('0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206')]
        sock.sendall(get.to_bytes())
    elif command == b'headers':
        f = io.BytesIO(payload)
        headers = []
        for _ in range(VarIntSerializer.stream_deserialize(f)):
            headers.append(CBlockHeader.stream_deserialize(f))
            VarIntSerializer.stream_deserialize(f)  # the transaction count, 0
        pow_ok = True
        for h in headers:
            try:
                CheckBlockHeader(h)
            except Exception:
                pow_ok = False
        print(json.dumps({
            'seen': seen,
            'user_agent': theirs.strSubVer.decode(),
            'their_height': theirs.nStartingHeight,
            'ids': [b2lx(h.GetHash()) for h in headers],
            'pow_ok': pow_ok,
        }))
        break
sock.close()
