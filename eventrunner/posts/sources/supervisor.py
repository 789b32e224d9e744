"""Runs each post source forever: a source that fails (a dropped connection, a refused
token, a server that answers nonsense) is started again after a jittered backoff, and
its health (state, lag, last event, errors) is kept where every console can see it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from eventrunner.access.offenders import OffenderLog
from eventrunner.posts.board import PostBoard

log = logging.getLogger(__name__)

BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 60.0
STEADY_S = 30.0  # a run this long resets the backoff
HEALTH_EVERY_S = 2.0  # how often changed health is written for the consoles
HEALTH_IDLE_S = 15.0  # and at least this often, for the lag
MAX_ERROR = 200  # characters of an error kept for the console


@dataclass
class Health:
    name: str
    platform: str
    state: str = "starting"  # starting | connecting | live | polling | waiting | stopped | done
    last_event_ms: int | None = None  # when the newest post or event it read was made
    lag_ms: int | None = None  # how far behind the platform it reads
    counted: int = 0
    skipped: int = 0  # payloads that could not be read (logged and passed over)
    errors: int = 0
    last_error: str | None = None

    def shown(self) -> dict[str, Any]:
        """As the views carry it: no null."""
        return {key: value for key, value in asdict(self).items() if value is not None}

    def failed(self, error: BaseException) -> None:
        self.errors += 1
        self.last_error = f"{type(error).__name__}: {error}"[:MAX_ERROR]


class Source(Protocol):
    name: str
    platform: str

    async def run(self, health: Health) -> None:
        """Read the platform until it fails (raise) or has nothing more to give (return)."""
        ...


class RetryAfter(Exception):
    """The platform asked us to wait (a rate limit): wait this long, then try again."""

    def __init__(self, seconds: float, why: str) -> None:
        super().__init__(why)
        self.seconds = seconds


class Supervisor:
    def __init__(self, sources: list[Source], board: PostBoard, clock: Callable[[], int]) -> None:
        self.sources = sources
        self.board = board
        self.clock = clock
        self.health = {source.name: Health(source.name, source.platform) for source in sources}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping: list[asyncio.Task[None]] = []
        self.problems = OffenderLog(log)

    async def start(self) -> None:
        if self._tasks or not self.sources:
            return
        self._tasks = [
            asyncio.create_task(self._supervise(source), name=f"posts-{source.name}")
            for source in self.sources
        ]
        self._tasks.append(asyncio.create_task(self._report(), name="posts-health"))

    def stop(self) -> None:
        """Stop reading (another process leads now); `start` resumes from the cursors."""
        stopping, self._tasks = self._tasks, []
        self._stopping += stopping  # awaited by close(), however many stops came before
        for task in stopping:
            task.cancel()
        for health in self.health.values():
            health.state = "stopped"

    async def close(self) -> None:
        self.stop()
        stopping, self._stopping = self._stopping, []
        for task in stopping:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.sources:
            with contextlib.suppress(Exception):  # shutting down: the store may be gone
                await self.board.save_health(self._shown())

    async def _supervise(self, source: Source) -> None:
        health = self.health[source.name]
        failures = 0
        while True:
            started = time.monotonic()
            try:
                await source.run(health)
                health.state = "done"
                return
            except asyncio.CancelledError:
                raise
            except RetryAfter as wait:
                health.state = "waiting"
                health.last_error = str(wait)[:MAX_ERROR]
                await asyncio.sleep(wait.seconds)
                continue
            except Exception as error:  # any failure of one source: that source starts again
                health.failed(error)
                self.problems.note("posts: %s failed: %s", source.name, health.last_error)
            failures = 0 if time.monotonic() - started > STEADY_S else failures + 1
            health.state = "waiting"
            await asyncio.sleep(backoff(failures))

    def _shown(self) -> list[dict[str, Any]]:
        return [health.shown() for health in self.health.values()]

    async def _report(self) -> None:
        """Health as consoles see it: written when a state, a count or an error changed,
        and at least every HEALTH_IDLE_S for the lag (which changes all the time)."""
        written: list[dict[str, Any]] = []
        written_at = 0.0
        while True:
            shown = self._shown()
            moved = _without_times(shown) != _without_times(written)
            if moved or time.monotonic() - written_at >= HEALTH_IDLE_S:
                try:
                    await self.board.save_health(shown)
                    written, written_at = shown, time.monotonic()
                except Exception as error:  # the store is away: try at the next round
                    self.problems.note("posts: health not saved: %s", error)
            await asyncio.sleep(HEALTH_EVERY_S)


def _without_times(shown: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in health.items() if k not in ("last_event_ms", "lag_ms")} for health in shown]


def backoff(failures: int) -> float:
    """Seconds before the next try: doubling from 1 s to 60 s, each within ±50 %, so
    sources (and processes) that failed together do not come back together."""
    base = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(0, failures - 1))
    return base * random.uniform(0.5, 1.5)


CHECKPOINT_S = 1.0


@contextlib.asynccontextmanager
async def checkpoints(save: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
    """While the block runs, `save` (a source's cursor) soon after it starts and every
    second; and once more as it ends, however it ends. A cursor only ever names what
    was counted already, so a kill -9 replays a little and skips nothing."""

    async def every_second() -> None:
        await asyncio.sleep(0.1)
        while True:
            try:
                await save()
            except Exception as error:  # the store is away: the next round tries again
                log.warning("posts: a cursor could not be kept: %s", error)
            await asyncio.sleep(CHECKPOINT_S)

    saving = asyncio.create_task(every_second(), name="posts-checkpoints")
    try:
        yield
    finally:
        saving.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await saving
        with contextlib.suppress(Exception):  # the store may be the thing that failed
            await save()
