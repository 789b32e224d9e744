"""python-socketio with the limits the live lane has.

python-socketio queues every answer and every broadcast for a socket without limit, and
logs a traceback for every malformed packet: one client that floods `snapshot` requests
and never reads made the server grow by gigabytes. Here every connection has an inbound
budget and a bounded send queue; a client past either, or one that sends a packet that
is not socket.io, is disconnected, logged once (rate-limited), without a traceback.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import socketio

from eventrunner.access.auth import handshake_client
from eventrunner.access.budget import Budget
from eventrunner.access.connections import ConnectionLimits
from eventrunner.access.offenders import OffenderLog

log = logging.getLogger(__name__)

# Every message counts (events, acks, namespace joins): a page sends a handful a minute,
# a console a few a second at most.
INBOUND_BURST = 50
INBOUND_PER_SECOND = 10.0
# Packets waiting for a socket that does not read: a live page holds none for long.
MAX_QUEUED_PACKETS = 64
# Socket.IO packet types 5 and 6: events and acks with binary attachments to follow.
BINARY_PACKETS = ("5", "6")


class GuardedServer(socketio.AsyncServer):
    def __init__(self, *args: Any, limits: ConnectionLimits, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits
        self._budgets: dict[str, Budget] = {}
        self._addresses: dict[str, str] = {}
        self._websockets: dict[str, Any] = {}  # eio sid -> the request its websocket came in
        self.offenders = OffenderLog(log)

    def queued(self, eio_sid: str) -> int:
        """Packets waiting to be written to this connection."""
        socket = self.eio.sockets.get(eio_sid)
        return socket.queue.qsize() if socket is not None else 0

    async def drop(self, eio_sid: str, why: str) -> None:
        environ = self.environ.get(eio_sid, {})
        self.offenders.note("socket.io: dropped %s (%s): %s", eio_sid, handshake_client(environ), why)
        self._budgets.pop(eio_sid, None)
        # Taken before the close below, whose disconnect handler forgets it.
        request = self._websockets.pop(eio_sid, None)
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None:
            # Not a polite close: that waits for the client to read its queue first.
            await socket.close(wait=False, abort=True)
        # A websocket that does not read has a writer stuck on it: cut its connection. A
        # polling client's connection may be carrying its other requests: leave it be.
        if request is not None and request.transport is not None:
            request.transport.abort()

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        # engine.io's aiohttp driver puts 127.0.0.1 in REMOTE_ADDR for everyone.
        address = handshake_client(environ)
        refusal = self.limits.admit(address)
        if refusal is not None:
            self.offenders.note("socket.io: refused a socket: %s", refusal)
            return False  # engine.io refuses the connection
        self._addresses[eio_sid] = address
        self._budgets[eio_sid] = Budget(INBOUND_BURST, INBOUND_PER_SECOND, time.monotonic())
        socket = self.eio.sockets.get(eio_sid)
        if socket is not None:
            self._guard_engineio(eio_sid, socket)
        return await super()._handle_eio_connect(eio_sid, environ)

    def _guard_engineio(self, eio_sid: str, socket: Any) -> None:
        """Every Engine.IO packet spends the budget, not only Socket.IO messages: upgrade
        probes and pings are answered below python-socketio, each reply queued."""
        receive = socket.receive

        async def guarded_receive(pkt: Any) -> None:
            budget = self._budgets.get(eio_sid)
            if budget is None:
                return  # dropped already
            if not budget.spend(time.monotonic()):
                await self.drop(eio_sid, "sent more than its budget")
            elif socket.queue.qsize() >= MAX_QUEUED_PACKETS:
                await self.drop(eio_sid, "does not read what it is sent")
            else:
                await receive(pkt)

        socket.receive = guarded_receive
        # The websocket (at connect, or upgraded from polling later) is the connection a
        # drop must cut: keep its request.
        upgrade = socket._upgrade_websocket

        async def recording_upgrade(environ: dict[str, Any]) -> Any:
            self._websockets[eio_sid] = environ.get("aiohttp.request")
            return await upgrade(environ)

        socket._upgrade_websocket = recording_upgrade

    async def _handle_eio_disconnect(self, eio_sid: str, reason: Any = None) -> None:
        self._budgets.pop(eio_sid, None)
        self._websockets.pop(eio_sid, None)
        address = self._addresses.pop(eio_sid, None)
        if address is not None:
            self.limits.release(address)
        await super()._handle_eio_disconnect(eio_sid, reason)

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        if eio_sid not in self._budgets:
            return  # dropped already (the Engine.IO guard spends its budget first)
        # No handler takes binary data: an attachment would only be parked in memory.
        if isinstance(data, bytes) or data[:1] in BINARY_PACKETS:
            await self.drop(eio_sid, "sent binary data, which nothing here takes")
            return
        try:
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
            await self.drop(eio_sid, f"sent a packet that is not socket.io ({type(error).__name__})")

    async def _trigger_event(self, event: str, namespace: str, *args: Any) -> Any:
        """A handler that fails on what a client sent is one line in the log, not a
        traceback in a task; a failed connect is a refusal, never an accidental yes."""
        try:
            return await super()._trigger_event(event, namespace, *args)
        except socketio.exceptions.ConnectionRefusedError:
            raise
        except Exception as error:
            self.offenders.note("socket.io: %s on %s failed: %s", event[:32], namespace, type(error).__name__)
            return False if event == "connect" else None

    async def _send_packet(self, eio_sid: str, pkt: Any) -> None:
        if self.queued(eio_sid) >= MAX_QUEUED_PACKETS:
            await self.drop(eio_sid, "does not read what it is sent")
            return
        await super()._send_packet(eio_sid, pkt)
