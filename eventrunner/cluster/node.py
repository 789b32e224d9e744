"""This process as one of a show's processes on Redis: it follows the change bus, and
runs the clock while it holds the leader lease."""

from __future__ import annotations

from eventrunner.access.auth import ProducerAuth
from eventrunner.cluster.bus import ChangeBus
from eventrunner.cluster.leader import LeaderLease
from eventrunner.cluster.sessions import RedisSessions
from eventrunner.control.autopilot import Autopilot
from eventrunner.stores.redis import RedisStore
from eventrunner.topics.hub import LiveHub


class ClusterNode:
    def __init__(
        self,
        store: RedisStore,
        hub: LiveHub,
        autopilot: Autopilot,
        auth: ProducerAuth,
        sessions: RedisSessions,
        render: str,
    ) -> None:
        self.bus = ChangeBus(store.client, f"{store.prefix}changes", hub, render)
        # A sign-out at any process closes that session's consoles here too.
        self.bus.listen(sessions.channel, lambda key: auth.signed_out(key.decode()))
        self.lease = LeaderLease(store.client, store.prefix, on_gain=autopilot.start, on_loss=autopilot.stop)
        autopilot.fence = lambda: self.lease.epoch

    @property
    def problem(self) -> str | None:
        """Why this process cannot serve the show fully now, or None."""
        return self.bus.problem

    async def start(self) -> None:
        await self.bus.start()
        # Lead only once caught up: the autopilot must plan from the newest show.
        await self.bus.subscribed()
        self.lease.start()

    async def stop(self) -> None:
        await self.lease.stop()
        await self.bus.stop()
