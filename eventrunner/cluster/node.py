"""This process as one of a show's processes on Redis: it follows the change bus, and
runs the clock (and its other duties) while it holds the leader lease."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from eventrunner.access.auth import ProducerAuth
from eventrunner.cluster.bus import ChangeBus
from eventrunner.cluster.leader import LeaderLease
from eventrunner.cluster.sessions import RedisSessions
from eventrunner.control.autopilot import Autopilot
from eventrunner.stores.redis import RedisStore
from eventrunner.topics.hub import LiveHub


class Duty(Protocol):
    async def start(self) -> None: ...

    def stop(self) -> None: ...


class ClusterNode:
    def __init__(
        self,
        store: RedisStore,
        hub: LiveHub,
        autopilot: Autopilot,
        auth: ProducerAuth,
        sessions: RedisSessions,
        render: str,
        duties: Sequence[Duty] = (),
    ) -> None:
        """`duties`: what only the leader does besides running the clock (the post
        sources: one process reads the platforms)."""
        self.bus = ChangeBus(store.client, f"{store.prefix}changes", hub, render)
        # A sign-out at any process closes that session's consoles here too.
        self.bus.listen(sessions.channel, lambda key: auth.signed_out(key.decode()))
        self.duties = [autopilot, *duties]
        self.lease = LeaderLease(store.client, store.prefix, on_gain=self._lead, on_loss=self._follow)
        autopilot.fence = lambda: self.lease.epoch

    @property
    def problem(self) -> str | None:
        """Why this process cannot serve the show fully now, or None."""
        return self.bus.problem

    async def _lead(self) -> None:
        for duty in self.duties:
            if self.lease.epoch is None:
                return  # the lease was lost while an earlier duty started: follow
            await duty.start()

    def _follow(self) -> None:
        for duty in self.duties:
            duty.stop()

    async def start(self) -> None:
        await self.bus.start()
        # Lead only once caught up: the autopilot must plan from the newest show.
        await self.bus.subscribed()
        self.lease.start()

    async def stop(self) -> None:
        await self.lease.stop()
        await self.bus.stop()
