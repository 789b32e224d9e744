"""The floor: the least a server can do to fan a message out over websockets in Python.

A bare asyncio server on uvloop. It accepts the websocket upgrade, plays just enough of
the Engine.IO / Socket.IO handshake for the load generator (OPEN, namespace CONNECT,
a `show` snapshot), and on `POST /api/show/commands` encodes the `patch` event once and
hands the same frame to every socket with `transport.write`. No pings, no rooms, no
per-client queues: whatever our server spends beyond this is the price of its stack.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import orjson
import wire
from limits import run_reference_server

OPEN_PACKET = orjson.dumps(
    {"sid": "floor", "upgrades": [], "pingInterval": 25000, "pingTimeout": 20000, "maxPayload": 1000000}
)
NAMESPACE = "/public"
JSON_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: "


class Show:
    """What the floor broadcasts: the captured snapshot and patch, with a growing version."""

    def __init__(self, snapshot: dict[str, Any], patch: dict[str, Any]) -> None:
        self.snapshot = snapshot
        self.patch = patch
        self.version = 0
        self.sockets: set[asyncio.Transport] = set()
        self._show_frame: tuple[int, bytes] | None = None

    def show_frame(self) -> bytes:
        # Encoded once per version, like the broadcast: connects must not cost more than needed.
        if self._show_frame is None or self._show_frame[0] != self.version:
            body = {**self.snapshot, "version": self.version, "server_time": time.time_ns() // 1_000_000}
            event = wire.event_prefix(NAMESPACE, "show") + orjson.dumps(body) + b"]"
            self._show_frame = (self.version, wire.server_frame(event))
        return self._show_frame[1]

    def broadcast(self) -> int:
        self.version += 1
        body = {"version": self.version, "patch": self.patch, "server_time": time.time_ns() // 1_000_000}
        frame = wire.server_frame(wire.event_prefix(NAMESPACE, "patch") + orjson.dumps(body) + b"]")
        for transport in self.sockets:
            transport.write(frame)
        return self.version


class Conn(asyncio.Protocol):
    """An HTTP request: either a websocket upgrade or the trigger."""

    def __init__(self, show: Show) -> None:
        self.show = show
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.websocket = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.show.sockets.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        if self.websocket:
            self.read_frames()
        else:
            self.read_request()

    def read_request(self) -> None:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in head[1:])}
        body_length = int(headers.get("content-length", "0"))
        if len(self.buf) < end + 4 + body_length:
            return
        del self.buf[: end + 4 + body_length]
        method, path = head[0].split(" ")[:2]
        assert self.transport is not None
        if path.startswith("/socket.io/") and "sec-websocket-key" in headers:
            self.upgrade(headers["sec-websocket-key"].encode())
        elif method == "POST" and path == "/api/show/commands":
            body = orjson.dumps({"ok": True, "version": self.show.broadcast()})
            self.transport.write(JSON_OK + str(len(body)).encode() + b"\r\n\r\n" + body)
            self.transport.close()
        else:
            self.transport.write(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()

    def upgrade(self, key: bytes) -> None:
        assert self.transport is not None
        self.transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: "
            + wire.accept_key(key)
            + b"\r\n\r\n"
            + wire.server_frame(b"0" + OPEN_PACKET)
        )
        self.websocket = True
        self.read_frames()

    def read_frames(self) -> None:
        assert self.transport is not None
        pos = 0
        while (frame := wire.parse_frame(self.buf, pos)) is not None:
            first, payload, pos = frame
            if first & 0x0F == wire.OP_CLOSE:
                self.transport.close()
            elif payload.startswith(wire.namespace_connect(NAMESPACE)):
                connected = f'40{NAMESPACE},{{"sid":"floor"}}'.encode()
                self.transport.write(wire.server_frame(connected) + self.show.show_frame())
                self.show.sockets.add(self.transport)
        del self.buf[:pos]


async def serve(port: int, show: Show) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Conn(show), "127.0.0.1", port, backlog=4096, reuse_address=True)
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    run_reference_server("floor", lambda port, show, patch: serve(port, Show(show, patch)))
