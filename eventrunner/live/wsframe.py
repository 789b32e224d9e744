"""Websocket frames (RFC 6455): the server's, built once and written to many sockets, and
the clients', read without a parser object per connection."""

from __future__ import annotations

import base64
import hashlib
import struct

OP_CONTINUATION = 0x0
OP_TEXT = 0x1
OP_BINARY = 0x2
OP_CLOSE = 0x8
OP_PING = 0x9
OP_PONG = 0xA
_OPCODES = frozenset((OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG))
_FIN = 0x80
_RESERVED = 0x70
_CONTROL = 0x8  # opcodes from here on are control frames
_MAX_CONTROL_PAYLOAD = 125

CLOSE_NORMAL = 1000
CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_TEXT = 1007
CLOSE_TOO_BIG = 1009

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455, section 1.3


class FrameError(Exception):
    """A client broke the framing; `code` is the close code to answer with."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code


def accept_key(key: str) -> str:
    """Sec-WebSocket-Accept for a handshake's Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()


def _frame(first: int, payload: bytes) -> bytes:
    size = len(payload)
    if size < 126:
        header = struct.pack("!BB", first, size)
    elif size < 65_536:
        header = struct.pack("!BBH", first, 126, size)
    else:
        header = struct.pack("!BBQ", first, 127, size)
    return header + payload


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final text frame carrying `payload` (UTF-8 bytes)."""
    return _frame(_FIN | OP_TEXT, payload)


def pong_frame(payload: bytes) -> bytes:
    return _frame(_FIN | OP_PONG, payload)


def close_frame(code: int) -> bytes:
    return _frame(_FIN | OP_CLOSE, code.to_bytes(2, "big"))


def _unmask(payload: bytes, mask: bytes) -> bytes:
    # One big-integer XOR instead of a loop over the bytes.
    size = len(payload)
    key = (mask * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")).to_bytes(size, "little")


def read_frame(data: bytes | bytearray, start: int, limit: int) -> tuple[int, bool, bytes, int] | None:
    """The client frame at `start`: (its opcode, whether it ends its message, its unmasked
    payload, where the next frame starts), or None until all of it has arrived.

    A data frame longer than `limit` is refused from its header, before its payload is
    held. Unmasked frames are taken, as aiohttp takes them."""
    available = len(data) - start
    if available < 2:
        return None
    first, second = data[start], data[start + 1]
    opcode = first & 0x0F
    if first & _RESERVED:
        raise FrameError(CLOSE_PROTOCOL_ERROR, "sent a frame with reserved bits set")
    if opcode not in _OPCODES:
        raise FrameError(CLOSE_PROTOCOL_ERROR, f"sent a frame with opcode {opcode}")
    size = second & 0x7F
    head = 2
    if size == 126:
        head = 4
        if available < head:
            return None
        size = int.from_bytes(data[start + 2 : start + 4], "big")
    elif size == 127:
        head = 10
        if available < head:
            return None
        size = int.from_bytes(data[start + 2 : start + 10], "big")
    if opcode >= _CONTROL:
        if not first & _FIN or size > _MAX_CONTROL_PAYLOAD:
            raise FrameError(CLOSE_PROTOCOL_ERROR, "sent a fragmented or oversized control frame")
    elif size > limit:
        raise FrameError(CLOSE_TOO_BIG, "sent a message over the size limit")
    masked = second & 0x80
    if masked:
        head += 4
    end = start + head + size
    if len(data) < end:
        return None
    payload = bytes(data[start + head : end])
    if masked and size:
        payload = _unmask(payload, bytes(data[start + head - 4 : start + head]))
    return opcode, bool(first & _FIN), payload, end
