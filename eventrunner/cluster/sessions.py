"""Console sessions of a show on Redis, each with its role (the value kept is
sessions.session_record): a sign-in at one process counts at every other,
and a sign-out at one ends the session everywhere (announced on a channel, so each
process closes that session's console sockets)."""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from eventrunner.access.offenders import OffenderLog
from eventrunner.access.roles import Role
from eventrunner.access.sessions import (
    MAX_LIVE_SESSIONS,
    parse_session_record,
    session_key,
    session_record,
)
from eventrunner.stores.contract import StoreUnavailable

log = logging.getLogger(__name__)


class RedisSessions:
    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        max_age_s: float,
        max_live: int = MAX_LIVE_SESSIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.key = f"{prefix}sessions"
        self.channel = f"{prefix}signouts"
        self.max_age_s = max_age_s
        self.max_live = max_live
        self.clock = clock
        self.problems = OffenderLog(log)

    async def role(self, session_id: str) -> Role | None:
        try:
            kept = await self.client.hget(self.key, session_key(session_id))
        except (RedisError, OSError) as error:
            # Unknown is signed out: the safe way to be wrong (commands wait for Redis anyway).
            self.problems.note(
                "sessions: Redis cannot be reached (%s); treating a session as signed out", error
            )
            return None
        record = parse_session_record(kept)
        if record is None or self.clock() - record[0] >= self.max_age_s:
            return None
        return record[1]

    async def is_live(self, session_id: str) -> bool:
        return await self.role(session_id) is not None

    async def start(self, role: Role = "producer") -> str:
        session_id = secrets.token_urlsafe(16)
        try:
            await self.client.hset(self.key, session_key(session_id), str(session_record(self.clock(), role)))
            await self._prune()
        except (RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis cannot be reached to sign in: {error}") from error
        return session_id

    async def end(self, session_id: str) -> bool:
        key = session_key(session_id)
        try:
            if not await self.client.hdel(self.key, key):
                return False
        except (RedisError, OSError) as error:
            raise StoreUnavailable(f"Redis cannot be reached to sign out: {error}") from error
        try:
            await self.client.publish(self.channel, key)
        except (RedisError, OSError) as error:
            # Ended all the same: other processes find out when its consoles next command.
            self.problems.note("sessions: could not announce a sign-out: %s", error)
        return True

    async def _prune(self) -> None:
        found = await self.client.hgetall(self.key)
        kept = {key: parse_session_record(value) for key, value in found.items()}
        started = {key: record[0] for key, record in kept.items() if record is not None}
        cutoff = self.clock() - self.max_age_s
        # Records no process can read are pruned with the stale.
        stale = [key for key, record in kept.items() if record is None]
        stale += [key for key, when in started.items() if when <= cutoff]
        fresh = sorted((when, key) for key, when in started.items() if when > cutoff)
        stale += [key for _, key in fresh[: max(0, len(fresh) - self.max_live)]]
        if stale:
            await self.client.hdel(self.key, *stale)
