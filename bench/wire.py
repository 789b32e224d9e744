"""Just enough WebSocket (RFC 6455), Engine.IO 4 and Socket.IO 5 for the benchmark.

Shared by the load generator and the floor server. Everything here works on bytes and
avoids per-message allocations where it can: the load generator must stay much cheaper
than the servers it measures.
"""

from __future__ import annotations

import base64
import os

from eventrunner.live.wsframe import (  # noqa: F401  (the bench's modules take the opcodes from here)
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    read_frame,
)
from eventrunner.live.wsframe import accept_key as server_accept_key

# Engine.IO packet types as the first byte of a text frame.
EIO_OPEN = ord("0")
EIO_CLOSE = ord("1")
EIO_PING = ord("2")
EIO_PONG = b"3"
EIO_MESSAGE = ord("4")


def websocket_key() -> str:
    return base64.b64encode(os.urandom(16)).decode()


def accept_key(key: bytes) -> bytes:
    return server_accept_key(key.decode()).encode()


def upgrade_request(port: int, path: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\n"
        f"Host: 127.0.0.1:{port}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {websocket_key()}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "\r\n"
    ).encode()


def _length_header(first: int, mask_bit: int, length: int) -> bytes:
    if length < 126:
        return bytes((first, mask_bit | length))
    if length < 1 << 16:
        return bytes((first, mask_bit | 126)) + length.to_bytes(2, "big")
    return bytes((first, mask_bit | 127)) + length.to_bytes(8, "big")


def xor_mask(payload: bytes, mask: bytes) -> bytes:
    """Mask or unmask (the same operation) with one big-integer XOR instead of a byte loop."""
    if not payload:
        return b""
    n = len(payload)
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


def client_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """A masked frame, as RFC 6455 requires of clients; a fresh mask key for every frame."""
    mask = os.urandom(4)
    return _length_header(0x80 | opcode, 0x80, len(payload)) + mask + xor_mask(payload, mask)


def server_frame(payload: bytes, opcode: int = OP_TEXT) -> bytes:
    """An unmasked frame, as servers send them."""
    return _length_header(0x80 | opcode, 0, len(payload)) + payload


def parse_frame(buf: bytes | bytearray, pos: int) -> tuple[int, bytes, int] | None:
    """One complete frame at `pos`: (FIN/opcode byte, payload, next pos), or None.
    The server's own parser (it unmasks what clients send, the floor server's input)."""
    frame = read_frame(buf, pos, limit=1 << 62)
    if frame is None:
        return None
    opcode, fin, payload, end = frame
    return (0x80 if fin else 0) | opcode, payload, end


def namespace_connect(namespace: str, auth: bytes = b"") -> bytes:
    """Socket.IO CONNECT packet for a namespace (with its auth object), in an Engine.IO MESSAGE."""
    return f"40{namespace},".encode() + auth


def event_prefix(namespace: str, event: str) -> bytes:
    """How an Engine.IO message carrying Socket.IO event `event` on `namespace` starts."""
    return f'42{namespace},["{event}",'.encode()


def parse_leading_int(payload: bytes, start: int) -> int:
    """The decimal integer at `start` (for `{"version":123,...`); -1 if there is none."""
    end = start
    while end < len(payload) and 48 <= payload[end] <= 57:
        end += 1
    return int(payload[start:end]) if end > start else -1


VERSION_KEY = b'{"version":'
