"""The python-socketio endpoint at `/socket.io/`: every namespace, with polling fallback.

A client joins one room per topic it follows (`topic:<name>`), so a topic's change goes
to exactly the sockets that asked for it. Broadcasts skip python-socketio's emit, which
encodes the packet and starts a task for every recipient at once: here the packet is
encoded once and handed to each socket's send queue, a chunk at a time, so a command
arriving meanwhile is served between two chunks instead of after the whole crowd.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import socketio
from engineio.exceptions import EngineIOError

from eventrunner.access.auth import ProducerAuth
from eventrunner.access.connections import ConnectionLimits
from eventrunner.access.roles import Role, command_refusal, may_run
from eventrunner.access.sessions import session_key
from eventrunner.control.commands import BadCommand
from eventrunner.control.dispatcher import Dispatcher, VersionConflict
from eventrunner.core.show import CommandRejected
from eventrunner.live.protocol import (
    NAMESPACES,
    READ_ONLY_REFUSAL,
    requested_topics,
    snapshot_payload,
    snapshot_reply,
    sync_reply,
)
from eventrunner.live.sioguard import MAX_QUEUED_PACKETS, GuardedServer
from eventrunner.topics.hub import LiveHub

BROADCAST_CHUNK = 100


def topic_room(topic: str) -> str:
    return f"topic:{topic}"


async def broadcast(sio: GuardedServer, namespace: str, room: str, packet: bytes) -> int:
    """Send one Engine.IO message (`4` and a Socket.IO packet of `namespace`, as the lane
    writes it) to every socket of `room`; returns how many it was handed to."""
    encoded = packet[1:].decode()  # engine.io adds the message type itself
    sent = 0
    for count, (_, eio_sid) in enumerate(sio.manager.get_participants(namespace, room), start=1):
        if sio.queued(eio_sid) >= MAX_QUEUED_PACKETS:
            await sio.drop(eio_sid, "does not read what it is sent")
        else:
            try:
                await sio.eio.send(eio_sid, encoded)
                sent += 1
            except EngineIOError:  # it closed meanwhile; it will get snapshots when it is back
                pass
        if count % BROADCAST_CHUNK == 0:
            await asyncio.sleep(0)
    return sent


class OrjsonModule:
    """The json-module shape python-socketio expects, backed by orjson."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(text: str | bytes, *args: Any, **kwargs: Any) -> Any:
        return orjson.loads(text)


class TopicNamespace(socketio.AsyncNamespace):
    """What every client may do: follow topics, ask for a snapshot, sync its clock.

    Every event handler takes (and ignores) extra arguments: python-socketio calls it with
    whatever the client sent, and a surplus must not end in a TypeError in a task."""

    def __init__(self, namespace: str, hub: LiveHub) -> None:
        super().__init__(namespace)
        self.hub = hub

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        for topic in requested_topics(auth, self.hub):
            await self.enter_room(sid, topic_room(topic))
            await self.emit(topic, snapshot_payload(self.hub, topic, self.namespace), to=sid)

    async def on_snapshot(self, sid: str, data: Any = None, *_extra: Any) -> dict[str, Any]:
        return snapshot_reply(self.hub, data, self.namespace)

    async def on_sync(self, sid: str, data: Any = None, *_extra: Any) -> dict[str, Any]:
        return sync_reply(data, self.hub.clock())

    async def on_command(self, sid: str, data: Any = None, *_extra: Any) -> dict[str, Any]:
        return {"ok": False, "error": READ_ONLY_REFUSAL}


class ProducerNamespace(TopicNamespace):
    """Signed-in consoles, of every role: each reads the producers' view, and runs only
    the commands its role may (roles.py). A console's socket belongs to the session it
    signed in with and is closed when that session signs out."""

    def __init__(self, hub: LiveHub, dispatcher: Dispatcher, auth: ProducerAuth) -> None:
        super().__init__("/producer", hub)
        self.dispatcher = dispatcher
        self.auth = auth
        # sid -> the session it signed in with (API-token sockets have none)
        self._sessions: dict[str, str] = {}
        # sid -> the role it signed in as (an API-token socket is a producer's)
        self._roles: dict[str, Role] = {}
        auth.on_sign_out(self._close_session)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        check = await self.auth.check_socket(environ, auth)
        if not check.signed_in:
            raise socketio.exceptions.ConnectionRefusedError("sign in at /producer first")
        if check.session is not None:
            self._sessions[sid] = check.session
        self._roles[sid] = check.role
        try:
            await super().on_connect(sid, environ, auth)
        except BaseException:
            self._sessions.pop(sid, None)
            self._roles.pop(sid, None)
            raise
        # Signed out while it was joining: a disconnect cannot reach a socket mid-connect.
        if check.session is not None and sid not in self._sessions:
            raise socketio.exceptions.ConnectionRefusedError("sign in at /producer first")

    async def on_disconnect(self, sid: str, reason: Any = None) -> None:
        self._sessions.pop(sid, None)
        self._roles.pop(sid, None)

    async def _close_session(self, key: str) -> None:
        for sid in [sid for sid, owner in self._sessions.items() if session_key(owner) == key]:
            del self._sessions[sid]
            self._roles.pop(sid, None)
            await self.disconnect(sid)

    async def on_command(self, sid: str, data: Any = None, *_extra: Any) -> dict[str, Any]:
        session = self._sessions.get(sid)
        if session is not None and not await self.auth.sessions.is_live(session):
            # Signed out where this process did not hear of it (a missed announcement).
            await self._close_session(session_key(session))
            return {"ok": False, "error": "this console's session has ended: sign in again"}
        role = self._roles.get(sid, "none")
        name = data.get("command") if isinstance(data, dict) else None
        if not may_run(role, name):
            # As the HTTP API's 403: the role, and what it may do.
            return {"ok": False, "error": command_refusal(role, name), "role": role}
        try:
            version = await self.dispatcher.dispatch_payload(data, source=f"{role}:{sid[:6]}")
        except VersionConflict as error:
            return {"ok": False, "error": str(error), "conflict": True, "version": error.current}
        except (BadCommand, CommandRejected) as error:
            return {"ok": False, "error": str(error)}
        return {"ok": True, "version": version}


def socketio_server(
    hub: LiveHub, dispatcher: Dispatcher, auth: ProducerAuth, limits: ConnectionLimits
) -> GuardedServer:
    sio = GuardedServer(
        limits=limits,
        async_mode="aiohttp",
        json=OrjsonModule,
        ping_interval=25,
        ping_timeout=20,
        max_http_buffer_size=64 * 1024,
    )
    for namespace in NAMESPACES:
        if namespace == "/producer":
            sio.register_namespace(ProducerNamespace(hub, dispatcher, auth))
        else:
            sio.register_namespace(TopicNamespace(namespace, hub))
    return sio
