"""The python-socketio endpoint at `/socket.io/`: every namespace, with polling fallback.

A client joins one room per topic it follows (`topic:<name>`), so a topic's change goes
to exactly the sockets that asked for it.
"""

from __future__ import annotations

from typing import Any

import orjson
import socketio

from eventrunner.access.auth import ProducerAuth
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
from eventrunner.live.topics import LiveHub


def topic_room(topic: str) -> str:
    return f"topic:{topic}"


class OrjsonModule:
    """The json-module shape python-socketio expects, backed by orjson."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(text: str | bytes, *args: Any, **kwargs: Any) -> Any:
        return orjson.loads(text)


class TopicNamespace(socketio.AsyncNamespace):
    """What every client may do: follow topics, ask for a snapshot, sync its clock."""

    def __init__(self, namespace: str, hub: LiveHub) -> None:
        super().__init__(namespace)
        self.hub = hub
        self.audience = NAMESPACES[namespace]

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        for topic in requested_topics(auth, self.hub):
            await self.enter_room(sid, topic_room(topic))
            await self.emit(topic, snapshot_payload(self.hub, topic, self.audience), to=sid)

    async def on_snapshot(self, sid: str, data: Any = None) -> dict[str, Any]:
        return snapshot_reply(self.hub, data, self.audience)

    async def on_sync(self, sid: str, data: Any = None) -> dict[str, Any]:
        return sync_reply(data, self.hub.clock())

    async def on_command(self, sid: str, data: Any = None) -> dict[str, Any]:
        return {"ok": False, "error": READ_ONLY_REFUSAL}


class ProducerNamespace(TopicNamespace):
    def __init__(self, hub: LiveHub, dispatcher: Dispatcher, auth: ProducerAuth) -> None:
        super().__init__("/producer", hub)
        self.dispatcher = dispatcher
        self.auth = auth

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if not self.auth.socket_is_producer(environ, auth):
            raise socketio.exceptions.ConnectionRefusedError("sign in at /producer first")
        await super().on_connect(sid, environ, auth)

    async def on_command(self, sid: str, data: Any = None) -> dict[str, Any]:
        try:
            version = await self.dispatcher.dispatch_payload(data, source=f"console:{sid[:6]}")
        except VersionConflict as error:
            return {"ok": False, "error": str(error), "conflict": True, "version": error.current}
        except (BadCommand, CommandRejected) as error:
            return {"ok": False, "error": str(error)}
        return {"ok": True, "version": version}


def socketio_server(hub: LiveHub, dispatcher: Dispatcher, auth: ProducerAuth) -> socketio.AsyncServer:
    sio = socketio.AsyncServer(
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
