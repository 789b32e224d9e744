"""The live lane: a lean socket.io endpoint for the crowd that only listens.

Participants' pages and overlays never send commands, and there can be tens of thousands
of them. python-socketio spends an asyncio task per recipient on every broadcast and
several tasks per connection (reader, writer, pinger); that is what made a segment change
take over a second to reach 10,000 phones. This lane speaks the same wire protocol
(Engine.IO 4 over websocket, Socket.IO 5 packets) for the read-only namespaces, and keeps a
connection down to a small object and the aiohttp websocket that carries it:

- a broadcast encodes its packet and websocket frame once and writes those bytes to every
  member's transport in one loop: no task, no queue, no per-client encode;
- one sweep pings every connection on the Engine.IO heartbeat and drops the silent ones;
- a client that cannot keep up (its send buffer grows past a limit, a lower one when all
  connections together hold too much) is dropped; it reconnects and gets a fresh
  snapshot, which is how every client recovers anyway.

Clients connect with `io("/public", {path: "/live/", transports: ["websocket"]})`.
The full python-socketio server stays at `/socket.io/` for producers, for polling and for
anything this lane does not speak. See docs/PROTOCOL.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from eventrunner.access.budget import Budget
from eventrunner.access.connections import ConnectionLimits
from eventrunner.access.offenders import OffenderLog
from eventrunner.live.wsframe import text_frame

log = logging.getLogger(__name__)

PATH = "/live/"
MAX_CLIENT_MESSAGE = 16 * 1024
MAX_SEND_BUFFER = 512 * 1024
# What all connections together may hold in send buffers before slow readers are shed
# at SHED_SEND_BUFFER instead: thousands of sockets from one place could otherwise each
# hold MAX_SEND_BUFFER.
SERVER_SEND_BUDGET = 256 * 1024 * 1024
SHED_SEND_BUFFER = 64 * 1024
BROADCAST_CHUNK = 100
MESSAGE_BURST = 20
MESSAGES_PER_SECOND = 5.0
PING_FRAME = text_frame(b"2")

# Engine.IO packet types (first character of a websocket message).
EIO_CLOSE, EIO_PING, EIO_PONG, EIO_MESSAGE = "1", "2", "3", "4"
# Socket.IO packet types (first character inside an Engine.IO message).
SIO_CONNECT, SIO_DISCONNECT, SIO_EVENT, SIO_ACK, SIO_CONNECT_ERROR = "0", "1", "2", "3", "4"


def event_message(namespace: str, event: str, data_json: bytes) -> bytes:
    """An Engine.IO message carrying a Socket.IO event: 42/public,["patch",{...}]."""
    return b"42" + namespace.encode() + b',["' + event.encode() + b'",' + data_json + b"]"


class SendBuffers:
    """The bytes waiting in every connection's send buffer, as each was last seen.

    A buffer drains without telling anyone, so the total can run high until the next
    write to that connection measures it again: it errs on the side of shedding."""

    __slots__ = ("budget", "total")

    def __init__(self, budget: int = SERVER_SEND_BUDGET) -> None:
        self.budget = budget
        self.total = 0

    @property
    def limit(self) -> int:
        """How much one connection may have waiting now."""
        return MAX_SEND_BUFFER if self.total <= self.budget else SHED_SEND_BUFFER


class LaneConnection:
    __slots__ = (
        "address",
        "budget",
        "buffered",
        "buffers",
        "namespaces",
        "next_ping",
        "pinged_at",
        "sid",
        "transport",
        "ws",
    )

    def __init__(
        self,
        ws: web.WebSocketResponse,
        transport: asyncio.Transport,
        next_ping: float,
        address: str,
        buffers: SendBuffers,
    ) -> None:
        self.address = address  # the client's (behind --behind-proxy, the forwarded one)
        self.buffers = buffers
        self.buffered = 0  # this connection's share of buffers.total
        self.sid = secrets.token_urlsafe(12)
        self.ws = ws
        self.transport = transport
        # namespace -> the topics this connection follows there
        self.namespaces: dict[str, tuple[str, ...]] = {}
        self.next_ping = next_ping
        self.pinged_at: float | None = None
        # Every message it sends spends it: a page sends a handful a minute; a script
        # sending thousands a second is dropped once its burst is spent.
        self.budget = Budget(MESSAGE_BURST, MESSAGES_PER_SECOND, time.monotonic())

    def write(self, frame: bytes) -> bool:
        """Write a frame; False when the client is gone or too far behind (then dropped)."""
        transport = self.transport
        if transport.is_closing():
            self.forget_buffer()
            return False
        if transport.get_write_buffer_size() > self.buffers.limit:
            self.forget_buffer()
            transport.abort()
            return False
        transport.write(frame)
        waiting = transport.get_write_buffer_size()
        self.buffers.total += waiting - self.buffered
        self.buffered = waiting
        return True

    def forget_buffer(self) -> None:
        self.buffers.total -= self.buffered
        self.buffered = 0

    def send(self, text: str | bytes) -> bool:
        return self.write(text_frame(text.encode() if isinstance(text, str) else text))


EventHandler = Callable[[str, Any], Any]
# (namespace, the handshake's auth data) -> the topics it follows and their snapshots
ConnectHandler = Callable[[str, Any], tuple[tuple[str, ...], list[bytes]]]


class LiveLane:
    """Serves read-only socket.io namespaces; `handlers` answer events that want an ack."""

    def __init__(
        self,
        namespaces: tuple[str, ...],
        on_connect: ConnectHandler,
        handlers: dict[str, EventHandler],
        limits: ConnectionLimits,
        ping_interval_s: float = 25.0,
        ping_timeout_s: float = 20.0,
        send_budget: int = SERVER_SEND_BUDGET,
    ) -> None:
        self.namespaces = namespaces
        self.send_buffers = SendBuffers(send_budget)
        # Insertion-ordered member "sets" per (namespace, topic); broadcast iterates these.
        self.members: dict[tuple[str, str], dict[LaneConnection, None]] = {}
        self.on_connect = on_connect
        self.limits = limits
        self.handlers = handlers
        self.ping_interval_s = ping_interval_s
        self.ping_timeout_s = ping_timeout_s
        self._handshake = {
            "upgrades": [],
            "pingInterval": int(ping_interval_s * 1000),
            "pingTimeout": int(ping_timeout_s * 1000),
            "maxPayload": MAX_CLIENT_MESSAGE,
        }
        self._connections: dict[LaneConnection, None] = {}
        self._sweeper: asyncio.Task[None] | None = None
        self.offenders = OffenderLog(log)

    @property
    def connection_count(self) -> int:
        return len(self._connections)

    # --- lifecycle ---------------------------------------------------------------------

    def attach(self, app: web.Application) -> None:
        app.router.add_get(PATH, self.handle)
        app.on_startup.append(self._start)
        app.on_shutdown.append(self._stop)

    async def _start(self, _: web.Application) -> None:
        self._sweeper = asyncio.create_task(self._heartbeat(), name="live-lane-heartbeat")

    async def _stop(self, _: web.Application) -> None:
        if self._sweeper:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        for connection in list(self._connections):
            connection.transport.abort()

    # --- one connection ----------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if request.query.get("EIO") != "4" or request.query.get("transport") != "websocket":
            raise web.HTTPBadRequest(text="the live lane speaks Engine.IO 4 over websocket only")
        ws = web.WebSocketResponse(compress=False, max_msg_size=MAX_CLIENT_MESSAGE, autoping=True)
        if not ws.can_prepare(request).ok:
            raise web.HTTPBadRequest(text="expected a websocket upgrade")
        address = request.remote or "unknown"
        refusal = self.limits.admit(address)
        if refusal is not None:
            self.offenders.note("live lane: refused a socket: %s", refusal)
            raise web.HTTPServiceUnavailable(
                text=f"too many sockets: {refusal}", headers={"Retry-After": "30"}
            )
        try:
            return await self._serve(request, ws)
        finally:
            self.limits.release(address)

    async def _serve(self, request: web.Request, ws: web.WebSocketResponse) -> web.WebSocketResponse:
        await ws.prepare(request)
        transport = request.transport
        if transport is None:  # the client left during the handshake
            return ws
        next_ping = time.monotonic() + self.ping_interval_s
        connection = LaneConnection(ws, transport, next_ping, request.remote or "unknown", self.send_buffers)
        self._connections[connection] = None
        connection.send(b"0" + orjson.dumps({"sid": connection.sid, **self._handshake}))
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    # Binary frames are not part of this lane's protocol; an oversized
                    # message arrives as an error.
                    self._drop(connection, f"sent a {message.type.name.lower()} frame")
                    break
                if not connection.budget.spend(time.monotonic()):
                    self._drop(connection, "sent more than its budget")
                    break
                self._on_message(connection, message.data)
        finally:
            self._forget(connection)
        return ws

    def _drop(self, connection: LaneConnection, why: str) -> None:
        self.offenders.note("live lane: dropped %s (%s): %s", connection.sid, connection.address, why)
        connection.transport.abort()

    def _forget(self, connection: LaneConnection) -> None:
        self._connections.pop(connection, None)
        connection.forget_buffer()
        for namespace in list(connection.namespaces):
            self._leave(connection, namespace)

    def _leave(self, connection: LaneConnection, namespace: str) -> None:
        for topic in connection.namespaces.pop(namespace, ()):
            self.members.get((namespace, topic), {}).pop(connection, None)

    def _on_message(self, connection: LaneConnection, text: str) -> None:
        kind = text[:1]
        if kind == EIO_PONG:
            connection.pinged_at = None
        elif kind == EIO_MESSAGE:
            try:
                self._on_socketio(connection, text[1:])
            except Exception as error:  # whatever a client's packet breaks, it is dropped
                self._drop(connection, f"sent a packet this lane cannot take ({type(error).__name__})")
        elif kind == EIO_CLOSE:
            connection.transport.close()
        # Engine.IO noops, client pings (an older protocol) and anything else: ignored.

    def _on_socketio(self, connection: LaneConnection, packet: str) -> None:
        kind, rest = packet[:1], packet[1:]
        namespace = "/"
        if rest.startswith("/"):
            namespace, _, rest = rest.partition(",")
        digits = 0
        while digits < len(rest) and digits < 12 and rest[digits].isdigit():
            digits += 1
        ack_id, body = rest[:digits], rest[digits:]
        scope = namespace + "," if namespace != "/" else ""
        if kind == SIO_CONNECT:
            if namespace not in self.namespaces:
                refusal = {"message": f"this endpoint serves {', '.join(self.namespaces)} only"}
                connection.send(f"4{SIO_CONNECT_ERROR}{scope}".encode() + orjson.dumps(refusal))
                return
            auth = orjson.loads(rest) if rest else None
            topics, snapshots = self.on_connect(namespace, auth)
            self._leave(connection, namespace)  # a second connect replaces the first
            connection.namespaces[namespace] = topics
            for topic in topics:
                self.members.setdefault((namespace, topic), {})[connection] = None
            connection.send(f"4{SIO_CONNECT}{scope}".encode() + orjson.dumps({"sid": connection.sid}))
            for snapshot in snapshots:
                connection.send(snapshot)
        elif kind == SIO_DISCONNECT:
            self._leave(connection, namespace)
        elif kind == SIO_EVENT and namespace in connection.namespaces:
            arguments = orjson.loads(body) if body else None
            if not isinstance(arguments, list) or not arguments or not isinstance(arguments[0], str):
                return
            handler = self.handlers.get(arguments[0])
            if handler is None or not ack_id:
                return  # like python-socketio: events nobody handles are dropped
            reply = handler(namespace, arguments[1] if len(arguments) > 1 else None)
            connection.send(f"4{SIO_ACK}{scope}{ack_id}".encode() + orjson.dumps([reply]))

    # --- many connections ---------------------------------------------------------------

    async def broadcast(self, namespace: str, topic: str, message: bytes) -> int:
        """Write one encoded message to every member of `namespace` that follows `topic`;
        returns how many.

        The loop yields to the event loop every BROADCAST_CHUNK writes, so the producers'
        sockets flush early and pings, commands and page loads are not held up by a
        crowd. One delivery task calls this, one change at a time, so order holds.
        """
        frame = text_frame(message)
        sent = 0
        for count, connection in enumerate(list(self.members.get((namespace, topic), ())), start=1):
            if connection.write(frame):
                sent += 1
            if count % BROADCAST_CHUNK == 0:
                await asyncio.sleep(0)
        return sent

    async def _heartbeat(self) -> None:
        # One sweep for all connections, instead of a sleeping task per socket.
        period = min(1.0, self.ping_interval_s / 4)
        while True:
            await asyncio.sleep(period)
            try:
                self._sweep(time.monotonic())
            except Exception:  # a bad sweep must not stop the pings for everyone
                log.exception("live lane heartbeat sweep failed")

    def _sweep(self, now: float) -> None:
        for connection in list(self._connections):
            if connection.pinged_at is not None:
                if now - connection.pinged_at > self.ping_timeout_s:
                    connection.transport.abort()  # silent too long: gone
            elif now >= connection.next_ping:
                connection.pinged_at = now
                connection.next_ping = now + self.ping_interval_s
                connection.write(PING_FRAME)
