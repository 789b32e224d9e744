"""socket.io for everyone: snapshots on connect, patches on change, commands for producers.

Two endpoints speak the same protocol (docs/PROTOCOL.md). python-socketio at `/socket.io/`
serves all three namespaces (with polling fallback); the live lane at `/live/` serves the
read-only crowd (`/overlay`, `/public`) on a lean broadcast path. Patches go to producers
first, then overlays, then the public, so what is on air never waits behind the crowd.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import orjson
import socketio
from aiohttp import web

from eventrunner.access.auth import ProducerAuth
from eventrunner.control.commands import BadCommand, Change, Dispatcher
from eventrunner.core.show import CommandRejected
from eventrunner.core.views import Audience
from eventrunner.live.lane import LiveLane, event_message

log = logging.getLogger(__name__)

# Namespace -> which view of the show it gets, in the order patches are sent.
NAMESPACES: dict[str, Audience] = {"/producer": "producer", "/overlay": "public", "/public": "public"}
LANE_NAMESPACES = ("/overlay", "/public")
READ_ONLY_REFUSAL = "commands are for producers: sign in and use the /producer namespace"


class OrjsonModule:
    """The json-module shape python-socketio expects, backed by orjson."""

    @staticmethod
    def dumps(obj: Any, *args: Any, **kwargs: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(text: str | bytes, *args: Any, **kwargs: Any) -> Any:
        return orjson.loads(text)


def sync_reply(data: Any, server_time: int) -> dict[str, Any]:
    """The answer to a clock-sync ping: the client's own time echoed, and ours."""
    sent = data.get("t") if isinstance(data, dict) else None
    reply: dict[str, Any] = {"server_time": server_time}
    if isinstance(sent, int | float) and not isinstance(sent, bool) and math.isfinite(sent):
        reply["t"] = sent
    return reply


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
        return sync_reply(data, self.dispatcher.clock())

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
        for namespace in LANE_NAMESPACES:
            self.sio.register_namespace(ShowNamespace(namespace, dispatcher))
        self.lane = LiveLane(
            LANE_NAMESPACES,
            on_connect=self._lane_snapshot,
            handlers={
                "snapshot": lambda namespace, _: self._snapshot(NAMESPACES[namespace]),
                "sync": lambda _, data: sync_reply(data, dispatcher.clock()),
                "command": lambda *_: {"ok": False, "error": READ_ONLY_REFUSAL},
            },
        )
        dispatcher.subscribe(self.broadcast)

    def attach(self, app: web.Application) -> None:
        self.sio.attach(app)
        self.lane.attach(app)
        app.on_shutdown.append(self._close_sockets)

    async def _close_sockets(self, _: web.Application) -> None:
        # Open websockets would hold a stopping server for a minute, and their clients
        # would wait for a ping timeout: drop them now so they reconnect at once.
        if self.sio.eio.sockets:  # engine.io's disconnect-all fails on an empty server
            await self.sio.eio.disconnect()
        await self.sio.shutdown()

    def _snapshot(self, audience: Audience) -> dict[str, Any]:
        return {**self.dispatcher.views[audience], "server_time": self.dispatcher.clock()}

    def _lane_snapshot(self, namespace: str) -> bytes:
        return event_message(namespace, "show", orjson.dumps(self._snapshot(NAMESPACES[namespace])))

    async def broadcast(self, change: Change) -> None:
        now = self.dispatcher.clock()
        payloads = {
            audience: {"version": change.version, "patch": patch, "server_time": now}
            for audience, patch in change.patches.items()
        }
        await self.sio.emit("patch", payloads["producer"], namespace="/producer")
        for namespace in LANE_NAMESPACES:
            payload = payloads[NAMESPACES[namespace]]
            await self.lane.broadcast(namespace, event_message(namespace, "patch", orjson.dumps(payload)))
            await self.sio.emit("patch", payload, namespace=namespace)
