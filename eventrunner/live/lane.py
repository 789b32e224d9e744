"""The live lane: a lean socket.io endpoint for the crowd that only listens.

Participants' pages and overlays never send commands, and there can be tens of thousands
of them. python-socketio spends an asyncio task per recipient on every broadcast and
several tasks per connection (reader, writer, pinger); that is what made a segment change
take over a second to reach 10,000 phones. This lane speaks the same wire protocol
(Engine.IO 4 over websocket, Socket.IO 5 packets) for the read-only namespaces, and keeps a
connection down to a small object and its socket:

- aiohttp answers the upgrade, then lets go of the socket: the connection becomes the
  socket's protocol and reads the client's frames itself, so no request, handler task or
  websocket reader stays behind for each of 10,000 sockets (16 KB each, 4 KB now);
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
from aiohttp import hdrs, web

from eventrunner.access.budget import Budget
from eventrunner.access.connections import ConnectionLimits
from eventrunner.access.offenders import OffenderLog
from eventrunner.live.wsframe import (
    CLOSE_INVALID_TEXT,
    CLOSE_NORMAL,
    CLOSE_PROTOCOL_ERROR,
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_TEXT,
    FrameError,
    accept_key,
    close_frame,
    pong_frame,
    read_frame,
    text_frame,
)

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
    """The bytes queued to send on every connection, as each was last seen (bytes, not
    memory: uvloop shares one broadcast frame among the queues that hold it).

    A buffer drains without telling anyone, so the total can run high until the next
    write or heartbeat sweep measures it again: it errs on the side of shedding."""

    __slots__ = ("budget", "total")

    def __init__(self, budget: int = SERVER_SEND_BUDGET) -> None:
        self.budget = budget
        self.total = 0

    @property
    def limit(self) -> int:
        """How much one connection may have waiting now."""
        return MAX_SEND_BUFFER if self.total <= self.budget else SHED_SEND_BUFFER


class LaneConnection(asyncio.Protocol):
    """One client: its state in the lane, and the protocol its socket talks to once the
    lane has taken the socket over from aiohttp (see LiveLane._take_over)."""

    __slots__ = (
        "address",
        "budget",
        "buffered",
        "buffers",
        "fragments",
        "lane",
        "namespaces",
        "next_ping",
        "pinged_at",
        "previous",
        "received",
        "sid",
        "transport",
    )

    def __init__(self, lane: LiveLane, transport: asyncio.Transport, next_ping: float, address: str) -> None:
        self.lane = lane
        self.address = address  # the client's (behind --behind-proxy, the forwarded one)
        self.buffers = lane.send_buffers
        self.buffered = 0  # this connection's share of buffers.total
        self.sid = secrets.token_urlsafe(12)
        self.transport = transport
        # The protocol the socket had before the lane's: it still has to hear the close.
        self.previous: asyncio.BaseProtocol | None = None
        self.received: bytes | bytearray = b""  # the start of a frame still arriving
        self.fragments: bytearray | None = None  # a text message sent in several frames
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

    def remeasure_buffer(self) -> None:
        """Count what is waiting now: a buffer that drained must stop counting."""
        waiting = 0 if self.transport.is_closing() else self.transport.get_write_buffer_size()
        self.buffers.total += waiting - self.buffered
        self.buffered = waiting

    def send(self, text: str | bytes) -> bool:
        return self.write(text_frame(text.encode() if isinstance(text, str) else text))

    # --- the socket ----------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self.received:
            self.received += data
            data = self.received
        transport = self.transport
        position = 0
        try:
            while not transport.is_closing():
                limit = MAX_CLIENT_MESSAGE - (len(self.fragments) if self.fragments is not None else 0)
                frame = read_frame(data, position, limit)
                if frame is None:
                    break
                opcode, final, payload, position = frame
                self._on_frame(opcode, final, payload)
        except FrameError as error:
            self.lane._drop(self, str(error), error.code)
        if position == len(data) or transport.is_closing():
            self.received = b""
        elif data is self.received:
            del self.received[:position]
        else:
            self.received = bytearray(memoryview(data)[position:])

    def _on_frame(self, opcode: int, final: bool, payload: bytes) -> None:
        if opcode in (OP_TEXT, OP_CONTINUATION):
            if opcode == OP_TEXT and self.fragments is not None:
                raise FrameError(CLOSE_PROTOCOL_ERROR, "sent a message inside another")
            if opcode == OP_CONTINUATION and self.fragments is None:
                raise FrameError(CLOSE_PROTOCOL_ERROR, "sent a continuation of no message")
            if not final:
                if self.fragments is None:
                    self.fragments = bytearray()
                self.fragments += payload
                return
            if self.fragments is not None:
                self.fragments += payload
                payload, self.fragments = bytes(self.fragments), None
            try:
                text = payload.decode()
            except UnicodeDecodeError:
                raise FrameError(CLOSE_INVALID_TEXT, "sent text that is not UTF-8") from None
            if not self.budget.spend(time.monotonic()):
                self.lane._drop(self, "sent more than its budget")
                return
            self.lane._on_message(self, text)
        elif opcode == OP_BINARY:
            # Binary frames are not part of this lane's protocol.
            self.lane._drop(self, "sent a binary frame")
        elif opcode == OP_CLOSE:
            self.write(close_frame(CLOSE_NORMAL))
            self.transport.close()
        elif opcode == OP_PING:
            self.write(pong_frame(payload))
        # A pong answers nothing the lane asked.

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            self.lane._forget(self)
        finally:
            previous, self.previous = self.previous, None
            if previous is not None:
                previous.connection_lost(exc)

    # aiohttp's parser interface, used once: while the lane takes the socket over.

    def feed_data(self, data: bytes) -> tuple[bool, bytes]:
        """What the client sent right behind its upgrade request."""
        self.data_received(data)
        return False, b""

    def feed_eof(self) -> None:
        """aiohttp letting go of the socket: it stays open, with the lane."""


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
        if not web.WebSocketResponse().can_prepare(request).ok:
            raise web.HTTPBadRequest(text="expected a websocket upgrade")
        address = request.remote or "unknown"
        refusal = self.limits.admit(address)
        if refusal is not None:
            self.offenders.note("live lane: refused a socket: %s", refusal)
            raise web.HTTPServiceUnavailable(
                text=f"too many sockets: {refusal}", headers={"Retry-After": "30"}
            )
        try:
            answer = web.StreamResponse(
                status=101,
                headers={
                    hdrs.UPGRADE: "websocket",
                    hdrs.CONNECTION: "upgrade",
                    hdrs.SEC_WEBSOCKET_ACCEPT: accept_key(request.headers[hdrs.SEC_WEBSOCKET_KEY]),
                },
            )
            answer.force_close()  # no HTTP request follows on this connection
            await answer.prepare(request)
        except BaseException:
            self.limits.release(address)
            raise
        transport = request.transport
        if transport is None or transport.is_closing():  # the client left during the handshake
            self.limits.release(address)
        else:
            self._adopt(request, transport, address)
        # aiohttp sends nothing more: the answer is out, and to aiohttp the socket is gone.
        return answer

    def _adopt(self, request: web.Request, transport: asyncio.Transport, address: str) -> None:
        """The lane takes the socket, and the place it was admitted to: _forget gives it back."""
        connection = LaneConnection(self, transport, time.monotonic() + self.ping_interval_s, address)
        self._connections[connection] = None
        try:
            connection.send(b"0" + orjson.dumps({"sid": connection.sid, **self._handshake}))
            self._take_over(request, transport, connection)
        except BaseException:
            self._forget(connection)
            transport.abort()
            raise

    @staticmethod
    def _take_over(request: web.Request, transport: asyncio.Transport, connection: LaneConnection) -> None:
        """From here on the socket talks to `connection` alone, and aiohttp frees what it
        held for the request (its parser, the request, the handler's task): most of what
        a connection cost."""
        handler = request.protocol
        previous = transport.get_protocol()
        # A protocol around aiohttp's (the listener's cap) must still hear the close.
        connection.previous = None if previous is handler else previous
        handler.keep_alive(False)  # as aiohttp's own websockets do
        # Bytes that came right behind the upgrade request are the client's first frames.
        handler.set_parser(connection)  # type: ignore[arg-type]
        transport.set_protocol(connection)
        # To aiohttp, the connection is gone; without its transport, it leaves it open.
        handler.transport = None
        handler.connection_lost(None)

    def _drop(self, connection: LaneConnection, why: str, close_code: int | None = None) -> None:
        """Drop a client that broke the rules; one that broke the framing is told how."""
        self.offenders.note("live lane: dropped %s (%s): %s", connection.sid, connection.address, why)
        transport = connection.transport
        if close_code is None:
            transport.abort()
        else:
            transport.write(close_frame(close_code))
            transport.close()

    def _forget(self, connection: LaneConnection) -> None:
        if connection not in self._connections:
            return
        del self._connections[connection]
        self.limits.release(connection.address)
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
            connection.remeasure_buffer()  # the server-wide total, fresh every sweep
            if connection.pinged_at is not None:
                if now - connection.pinged_at > self.ping_timeout_s:
                    connection.transport.abort()  # silent too long: gone
            elif now >= connection.next_ping:
                connection.pinged_at = now
                connection.next_ping = now + self.ping_interval_s
                connection.write(PING_FRAME)
