"""socket.io namespaces: snapshots on connect, patches on change, commands for producers.

The protocol is documented in docs/PROTOCOL.md. Patches go to producers first, then
overlays, then the public, so what is on air never waits behind the crowd.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import orjson
import socketio

from .auth import ProducerAuth
from .commands import BadCommand, Change, Dispatcher
from .document import Audience
from .show import CommandRejected

log = logging.getLogger(__name__)

# Namespace -> which view of the show it gets, in the order patches are sent.
NAMESPACES: dict[str, Audience] = {
    "/producer": "producer",
    "/overlay": "public",
    "/public": "public",
}
READ_ONLY_REFUSAL = "commands are for producers: sign in and use the /producer namespace"


class OrjsonModule:
    """The json-module shape python-socketio expects, backed by orjson."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(text: str | bytes, *args: Any, **kwargs: Any) -> Any:
        return orjson.loads(text)


class ShowNamespace(socketio.AsyncNamespace):
    """What every client may do: get the show, keep it fresh, sync its clock."""

    def __init__(self, namespace: str, dispatcher: Dispatcher) -> None:
        super().__init__(namespace)
        self.dispatcher = dispatcher
        self.audience = NAMESPACES[namespace]

    def snapshot(self) -> dict[str, Any]:
        return {**self.dispatcher.views[self.audience], "server_time": self.dispatcher.clock()}

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        await self.emit("show", self.snapshot(), to=sid)

    async def on_snapshot(self, sid: str, data: Any = None) -> dict[str, Any]:
        return self.snapshot()

    async def on_sync(self, sid: str, data: Any = None) -> dict[str, Any]:
        sent = data.get("t") if isinstance(data, dict) else None
        reply: dict[str, Any] = {"server_time": self.dispatcher.clock()}
        if isinstance(sent, int | float) and not isinstance(sent, bool) and math.isfinite(sent):
            reply["t"] = sent
        return reply

    async def on_command(self, sid: str, data: Any = None) -> dict[str, Any]:
        return {"ok": False, "error": READ_ONLY_REFUSAL}


class ProducerNamespace(ShowNamespace):
    def __init__(self, dispatcher: Dispatcher, auth: ProducerAuth) -> None:
        super().__init__("/producer", dispatcher)
        self.auth = auth

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if not self.auth.socket_is_producer(environ, auth):
            raise socketio.exceptions.ConnectionRefusedError("sign in at /producer first")
        await super().on_connect(sid, environ, auth)

    async def on_command(self, sid: str, data: Any = None) -> dict[str, Any]:
        try:
            version = await self.dispatcher.dispatch_payload(data, source=f"console:{sid[:6]}")
        except (BadCommand, CommandRejected) as error:
            return {"ok": False, "error": str(error)}
        return {"ok": True, "version": version}


class Realtime:
    def __init__(self, dispatcher: Dispatcher, auth: ProducerAuth) -> None:
        self.dispatcher = dispatcher
        self.sio = socketio.AsyncServer(
            async_mode="aiohttp",
            json=OrjsonModule,
            ping_interval=25,
            ping_timeout=20,
            max_http_buffer_size=64 * 1024,
        )
        self.sio.register_namespace(ProducerNamespace(dispatcher, auth))
        for namespace in ("/overlay", "/public"):
            self.sio.register_namespace(ShowNamespace(namespace, dispatcher))
        dispatcher.subscribe(self.broadcast)

    def attach(self, app: Any) -> None:
        self.sio.attach(app)

    async def broadcast(self, change: Change) -> None:
        now = self.dispatcher.clock()
        for namespace, audience in NAMESPACES.items():
            payload = {
                "version": change.version,
                "patch": change.patches[audience],
                "server_time": now,
            }
            await self.sio.emit("patch", payload, namespace=namespace)
