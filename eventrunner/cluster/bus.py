"""The change bus: every change of every topic, published once on Redis pub/sub, and
delivered by every process to its own sockets.

Pub/sub is fire-and-forget, so the bus never trusts it for state: a receiving process
brings the topic up to date from the store (hub.receive -> the topic's refresh), and
after any break in its subscription it refreshes every topic before it delivers anything
newer. Publishing goes through a queue and one task, so changes leave in order and the
dispatcher never waits on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis

from eventrunner.cluster import envelope
from eventrunner.topics.hub import Change, LiveHub

log = logging.getLogger(__name__)

RETRY_S = (0.1, 0.25, 0.5, 1.0, 2.0)  # between attempts to subscribe again
LISTEN_WAIT_S = 1.0
RECONCILE_S = 2.0  # how often a process reads the store for changes pub/sub did not bring
PUBLISH_ATTEMPTS = 3
DRAIN_S = 1.0  # at stop, how long queued changes may take to go out


class ChangeBus:
    def __init__(self, client: aioredis.Redis, channel: str, hub: LiveHub, render: str) -> None:
        self.client = client
        self.render = render  # what this process renders topics from (envelope.encode)
        self.channel = channel
        self.hub = hub
        self.origin = secrets.token_hex(8)  # this process: its own changes are not news
        self.connected = False  # subscribed, and every topic refreshed since
        self.problem: str | None = "not subscribed yet"
        self._outgoing: asyncio.Queue[bytes] = asyncio.Queue()
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed = asyncio.Event()
        # channel -> what to do with its messages; the changes channel is the bus's own.
        self._handlers: dict[str, Callable[[bytes], Awaitable[None]]] = {channel: self._receive}
        hub.send_to(self.send)

    def listen(self, channel: str, handler: Callable[[bytes], Awaitable[None]]) -> None:
        """Also follow `channel` (before start): other cluster-wide news, such as sign-outs."""
        self._handlers[channel] = handler

    def send(self, change: Change) -> None:
        self._outgoing.put_nowait(envelope.encode(change, self.origin, self.render))

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._publish(), name="bus-publish"),
            asyncio.create_task(self._listen(), name="bus-listen"),
        ]

    async def subscribed(self) -> None:
        await self._subscribed.wait()

    async def stop(self) -> None:
        # Changes saved but not yet announced go out first, if Redis lets them.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._outgoing.join(), DRAIN_S)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _publish(self) -> None:
        while True:
            raw = await self._outgoing.get()
            for attempt in range(PUBLISH_ATTEMPTS):
                try:
                    await self.client.publish(self.channel, raw)
                    break
                except Exception as error:  # the task must live on, whatever one publish meets
                    if attempt == PUBLISH_ATTEMPTS - 1:
                        # Saved already: the others find it when they next read the store.
                        log.warning("bus: could not publish a change: %s", error)
                    else:
                        await asyncio.sleep(RETRY_S[attempt])
            self._outgoing.task_done()

    async def _listen(self) -> None:
        attempt = 0
        while True:
            pubsub = self.client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(*self._handlers)
                # Whatever was published while we were not listening: from the store.
                await self.hub.refresh_all()
                self.connected, self.problem, attempt = True, None, 0
                self._subscribed.set()
                log.info("bus: following %s", self.channel)
                checked = time.monotonic()
                while True:
                    # A bounded wait: the client's health checks (PING) run between waits,
                    # so a connection that died silently is found within seconds.
                    message = await pubsub.get_message(timeout=LISTEN_WAIT_S)
                    if time.monotonic() - checked >= RECONCILE_S:
                        # Pub/sub may have lost a change (a publish that failed, one sent
                        # before we subscribed): the store is the truth, read it now and then.
                        await self.hub.refresh_all()
                        checked = time.monotonic()
                    if message is not None and message.get("type") == "message":
                        channel = message["channel"]
                        handler = self._handlers.get(
                            channel.decode() if isinstance(channel, bytes) else channel
                        )
                        if handler is not None:
                            await handler(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as error:  # Redis gone, or a refresh that could not read the store
                if self.connected or attempt == 0:
                    log.warning("bus: lost Redis (%s); clients keep their state until it is back", error)
                # /healthz is public: the reason, not Redis's address (that is in the log).
                self.connected, self.problem = False, "the shared store (Redis) cannot be reached"
                await asyncio.sleep(RETRY_S[min(attempt, len(RETRY_S) - 1)])
                attempt += 1
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    async def _receive(self, raw: bytes) -> None:
        try:
            origin, render, news = envelope.decode(raw)
        except envelope.BadEnvelope as error:
            log.warning("bus: ignored a message on %s: %s", self.channel, error)
            return
        if origin != self.origin:
            await self.hub.receive(news, same_render=render == self.render)
