"""A topic whose state lives in the store and that any process of a show may change
(check-ins, post counts): its changes go out at most `per_second` times a second, each
numbered by a store counter, so every process counts its versions alike.

The owner renders the views from what it holds (`render(now)`, which also says when the
views next change by time alone) and reads that again from the store on `load()`. Shared
(several processes on one store): each publication reads the store (`reread`) after
taking its number, so it holds every write numbered below it, whichever process made it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from eventrunner.core.views import Audience
from eventrunner.stores.contract import Collections, StoreUnavailable
from eventrunner.topics.hub import Envelope, LiveHub, Topic, envelope_time

log = logging.getLogger(__name__)

VERSIONS = "topic-versions"  # the store counter that numbers the topics' versions
Views = dict[Audience, dict]
Render = Callable[[int], tuple[Views, int | None]]  # now (ms) -> views, when they change next


class NumberedTopic:
    def __init__(
        self,
        name: str,
        hub: LiveHub,
        collections: Collections,
        clock: Callable[[], int],
        render: Render,
        load: Callable[[], Awaitable[None]],
        reread: Callable[[], Awaitable[None]] | None,
        per_second: float = 4,
    ) -> None:
        """`load` reads the whole state from the store (at start, on news from another
        process); `reread`, if any, what each publication reads first (shared: what other
        processes may have changed)."""
        self.name = name
        self.hub = hub
        self.collections = collections
        self.clock = clock
        self._render = render
        self._load = load
        self._reread = reread
        self.per_second = per_second
        self.reading = asyncio.Lock()  # one read of the store (and what follows it) at a time
        topic = Topic(name, render(clock())[0], version=0)
        # Each process publishes its own changes: every group delivers at most per_second.
        topic.pace_s = 1 / per_second
        self.topic = hub.add_topic(topic, refresh=self.refresh)
        self._dirty = False
        self._publisher: asyncio.Task[None] | None = None
        self._published_at = 0.0
        self._wake: asyncio.TimerHandle | None = None
        self._closed = False

    async def version(self) -> int:
        return (await self.collections.counts(VERSIONS)).get(self.name, 0)

    async def refresh(self, envelope: Envelope | None) -> None:
        """Read the state from the store and show it (at start, and on news from another process)."""
        async with self.reading:
            # The number first: what is read after it holds every write numbered below it.
            version = await self.version()
            await self._load()
            # At the publisher's time: its bytes go to this process's sockets as they came,
            # and a view that depends on the time must be the one they carry.
            at = envelope_time(envelope) if envelope is not None else None
            self.hub.adopt(self.name, self.views(at), version, envelope)

    def changed(self) -> None:
        """A write of this process is kept: show it, soon."""
        if self._closed:
            return
        self._dirty = True
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish(), name=f"{self.name}-publish")

    async def _publish(self) -> None:
        while self._dirty:
            wait = self._published_at + 1 / self.per_second - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._dirty = False
            try:
                await self._publish_numbered()
                # Spaced from when it went out, not from when the store was first asked.
                self._published_at = time.monotonic()
            except StoreUnavailable:
                log.warning(
                    "%s: the store cannot be read or number the next version; trying again", self.name
                )
                self._dirty = True

    async def _publish_numbered(self) -> None:
        async with self.reading:
            version = await self.collections.add(VERSIONS, self.name, 1)
            if self._reread is not None:
                await self._reread()
            if version > self.topic.version:
                self.hub.publish(self.name, self.views(), version)

    def views(self, at: int | None = None) -> Views:
        """The views now (or at `at`); and a wake-up for when time alone changes them."""
        now = self.clock()
        views, changes_at = self._render(now if at is None else at)
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        if changes_at is not None and not self._closed:
            # A little past the instant: at it, the view is still the old one.
            delay = max(0.0, (changes_at - now) / 1000) + 0.01
            self._wake = asyncio.get_running_loop().call_later(delay, self.changed)
        return views

    async def close(self) -> None:
        self._closed = True
        if self._wake is not None:
            self._wake.cancel()
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher
