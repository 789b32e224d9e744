"""The autopilot: one APScheduler job at the next planned transition of the show.

It never changes the show itself: when the job fires it sends `advance` through the
dispatcher like any other command, and every change (whoever made it) re-plans the job.
With several processes only the leader's autopilot runs; its commands carry the lease's
epoch (`fence`), so one from a leader that has been replaced is refused by the store.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from eventrunner.control.commands import Advance
from eventrunner.control.dispatcher import Dispatcher
from eventrunner.core.show import next_transition

log = logging.getLogger(__name__)

JOB_ID = "next-transition"
RETRY_MS = 1000
MAX_WAIT_MS = 30_000


class Autopilot:
    def __init__(self, dispatcher: Dispatcher, fence: Callable[[], int | None] = lambda: None) -> None:
        self.dispatcher = dispatcher
        self.fence = fence
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.planned_for: int | None = None
        self.running = False
        dispatcher.on_change(lambda _: self.replan() if self.running else None)

    async def start(self) -> None:
        """Catch up with the clock (the show may have been without a leader, or the
        server down), then follow it."""
        if not self.scheduler.running:
            self.scheduler.start()
        self.running = True
        await self._fire()

    def stop(self) -> None:
        """Stop following the clock (another process leads now); `start` resumes."""
        self.running = False
        self.planned_for = None
        if self.scheduler.running and self.scheduler.get_job(JOB_ID):
            self.scheduler.remove_job(JOB_ID)

    def close(self) -> None:
        self.stop()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def replan(self, not_before: int | None = None) -> None:
        if not self.running:
            return
        due = next_transition(self.dispatcher.state)
        if due is not None and not_before is not None:
            due = max(due, not_before)
        self.planned_for = due
        if due is None:
            if self.scheduler.get_job(JOB_ID):
                self.scheduler.remove_job(JOB_ID)
            return
        # The show's clock may not be the wall clock (tests, rehearsals): wait for the
        # distance to the transition, a millisecond late rather than early.
        # Never wait longer than MAX_WAIT_MS: a machine that slept (a laptop lid) would
        # otherwise wake the timer late; an early wake just plans again.
        wait_ms = min(due - self.dispatcher.clock() + 1, MAX_WAIT_MS)
        run_at = datetime.now(UTC) + timedelta(milliseconds=max(wait_ms, 0))
        self.scheduler.add_job(
            self._fire,
            DateTrigger(run_date=run_at, timezone=UTC),
            id=JOB_ID,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
        )

    async def _fire(self) -> None:
        if not self.running:
            return  # stopped (another process leads) after this job was due
        try:
            await self.dispatcher.dispatch(Advance(), source="autopilot", fence=self.fence())
        except Exception:
            # Saving failed (a full disk?): nothing changed; try again shortly, not in a spin.
            log.exception("autopilot could not advance the show; retrying in %d ms", RETRY_MS)
            self.replan(not_before=self.dispatcher.clock() + RETRY_MS)
        else:
            # A change re-plans through on_change; an advance that changed nothing
            # (the clock was a hair early) must still leave the next job in place.
            self.replan()
