"""One leader among a show's processes: the one that runs the clock (the autopilot, and
later the ingesters).

A lease in Redis (SET NX PX, renewed well before it runs out) names the leader; each new
lease takes the next epoch, and the leader's writes carry it, so the store refuses a
write from a leader whose lease has passed (stores/contract.py: fencing), even one that
was paused and does not know yet. A process that cannot renew in time steps down itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable

import redis.asyncio as aioredis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

LEASE_MS = 3000
RENEW_EVERY_S = 0.75  # four renewals per lease: one lost round trip costs nothing

ACQUIRE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end
return 0
"""
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class LeaderLease:
    def __init__(
        self,
        client: aioredis.Redis,
        prefix: str,
        on_gain: Callable[[], Awaitable[None]],
        on_loss: Callable[[], None],
        lease_ms: int = LEASE_MS,
        renew_every_s: float = RENEW_EVERY_S,
    ) -> None:
        self.client = client
        self.key, self.epoch_key = f"{prefix}leader", f"{prefix}leader:epoch"
        self.holder = secrets.token_hex(8)
        self.on_gain, self.on_loss = on_gain, on_loss
        self.lease_ms, self.renew_every_s = lease_ms, renew_every_s
        self.epoch: int | None = None  # set while this process leads
        self._valid_until = 0.0  # monotonic: past it, a lease not renewed may be someone else's
        self._acquire = client.register_script(ACQUIRE)
        self._renew = client.register_script(RENEW)
        self._release = client.register_script(RELEASE)
        self._task: asyncio.Task[None] | None = None
        self._gaining: asyncio.Task[None] | None = None

    @property
    def leading(self) -> bool:
        return self.epoch is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="leader-lease")

    async def stop(self) -> None:
        for task in (self._task, self._gaining):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.leading:
            self._step_down("stopping")
            # Let another process take over now rather than when the lease runs out.
            with contextlib.suppress(RedisError, OSError):
                await self._release(keys=[self.key], args=[self.holder])

    async def _run(self) -> None:
        while True:
            try:
                await self._round()
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as error:
                if self.leading and time.monotonic() >= self._valid_until:
                    self._step_down(f"could not renew the lease: {error}")
            except Exception:
                log.exception("leader: a lease round failed")
            await asyncio.sleep(self.renew_every_s)

    async def _round(self) -> None:
        asked_at = time.monotonic()
        if self.leading:
            if await self._renew(keys=[self.key], args=[self.holder, self.lease_ms]):
                self._valid_until = asked_at + self.lease_ms / 1000
            else:
                self._step_down("the lease passed to another process")
            return
        epoch = int(await self._acquire(keys=[self.key, self.epoch_key], args=[self.holder, self.lease_ms]))
        if epoch:
            self.epoch, self._valid_until = epoch, asked_at + self.lease_ms / 1000
            log.info("leader: this process leads (epoch %d): it runs the clock", epoch)
            # In a task of its own: taking over may wait for the store, and the lease
            # must go on being renewed meanwhile.
            self._gaining = asyncio.create_task(self.on_gain(), name="leader-take-over")

    def _step_down(self, why: str) -> None:
        log.warning("leader: this process no longer leads (%s)", why)
        self.epoch = None
        self.on_loss()
