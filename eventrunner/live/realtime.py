"""Both live endpoints wired to the topics' delivery groups.

python-socketio at `/socket.io/` serves all three namespaces; the live lane at `/live/`
serves the read-only crowd (`/overlay`, `/public`) on a lean broadcast path. Two delivery
groups carry every change: the producers' consoles, and the crowd (overlays first, then
participants), so what a producer does shows on their console without waiting for the
crowd, and what is on air never waits behind the phones.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import orjson
from aiohttp import web

from eventrunner.access.auth import ProducerAuth
from eventrunner.access.connections import ConnectionLimits
from eventrunner.control.dispatcher import Dispatcher
from eventrunner.live.lane import LiveLane, event_message
from eventrunner.live.protocol import (
    CROWD,
    CROWD_NAMESPACES,
    NAMESPACES,
    PRODUCERS,
    READ_ONLY_REFUSAL,
    requested_topics,
    snapshot_payload,
    snapshot_reply,
    sync_reply,
)
from eventrunner.live.sio import broadcast, socketio_server, topic_room
from eventrunner.topics.hub import Change, LiveHub

log = logging.getLogger(__name__)

# Turns of the event loop the crowd waits at most for the consoles' packets to go out.
PRODUCER_FLUSH_TURNS = 20


class Realtime:
    def __init__(
        self, hub: LiveHub, dispatcher: Dispatcher, auth: ProducerAuth, limits: ConnectionLimits
    ) -> None:
        self.hub = hub
        # One count of sockets across both endpoints.
        self.sio = socketio_server(hub, dispatcher, auth, limits)
        self.lane = LiveLane(
            CROWD_NAMESPACES,
            on_connect=self._lane_connect,
            handlers={
                "snapshot": lambda namespace, data: snapshot_reply(hub, data, namespace),
                "sync": lambda _, data: sync_reply(data, hub.clock()),
                "command": lambda *_: {"ok": False, "error": READ_ONLY_REFUSAL},
            },
            limits=limits,
        )
        hub.add_sink(PRODUCERS, self._deliver_to_producers)
        hub.add_sink(CROWD, self._deliver_to_crowd)

    def attach(self, app: web.Application) -> None:
        self.sio.attach(app)
        self.lane.attach(app)
        app.on_startup.append(self._start)
        app.on_shutdown.append(self._close_sockets)

    async def _start(self, _: web.Application) -> None:
        self.hub.start()

    async def _close_sockets(self, _: web.Application) -> None:
        await self.hub.stop()
        # Open websockets would hold a stopping server for a minute, and their clients
        # would wait for a ping timeout: drop them now so they reconnect at once.
        if self.sio.eio.sockets:  # engine.io's disconnect-all fails on an empty server
            await self.sio.eio.disconnect()
        await self.sio.shutdown()

    def _lane_connect(self, namespace: str, auth: Any) -> tuple[tuple[str, ...], list[bytes]]:
        topics = requested_topics(auth, self.hub)
        snapshots = [
            event_message(namespace, topic, orjson.dumps(snapshot_payload(self.hub, topic, namespace)))
            for topic in topics
        ]
        return topics, snapshots

    async def _deliver_to_producers(self, change: Change) -> None:
        packet = event_message("/producer", "patch", change.body("producer"))
        await broadcast(self.sio, "/producer", topic_room(change.topic), packet)

    async def _producers_written(self) -> None:
        """Producers first: the crowd's delivery starts once the consoles' packets have
        left their send queues (a few turns of the loop). Started together, the crowd's
        thousands of writes would run between the steps of a console's one."""
        for _ in range(PRODUCER_FLUSH_TURNS):
            consoles = self.sio.manager.get_participants("/producer", None)
            if not any(self.sio.queued(eio_sid) for _, eio_sid in consoles):
                break
            await asyncio.sleep(0)
        await asyncio.sleep(0)  # the writer that took the last packet writes it now

    async def _deliver_to_crowd(self, change: Change) -> None:
        await self._producers_written()
        for namespace in CROWD_NAMESPACES:
            packet = event_message(namespace, "patch", change.body(NAMESPACES[namespace]))
            # Each endpoint on its own: a failure in one must not keep the change from the rest.
            try:
                await self.lane.broadcast(namespace, change.topic, packet)
            except Exception:
                log.exception(
                    "live lane: delivering %s v%d to %s failed", change.topic, change.version, namespace
                )
            try:
                await broadcast(self.sio, namespace, topic_room(change.topic), packet)
            except Exception:
                log.exception(
                    "socket.io: delivering %s v%d to %s failed", change.topic, change.version, namespace
                )
