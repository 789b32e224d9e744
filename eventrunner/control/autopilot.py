"""The autopilot: one APScheduler job at the next planned transition of the show.

It never changes the show itself: when the job fires it sends `advance` through the
dispatcher like any other command, and every change (whoever made it) re-plans the job.
"""

from __future__ import annotations

import logging
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
    def __init__(self, dispatcher: Dispatcher) -> None:
        self.dispatcher = dispatcher
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.planned_for: int | None = None

    def start(self) -> None:
        self.scheduler.start()
        self.dispatcher.on_change(lambda _: self.replan())
        self.replan()

    def stop(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def replan(self, not_before: int | None = None) -> None:
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
        try:
            await self.dispatcher.dispatch(Advance(), source="autopilot")
        except Exception:
            # Saving failed (a full disk?): nothing changed; try again shortly, not in a spin.
            log.exception("autopilot could not advance the show; retrying in %d ms", RETRY_MS)
            self.replan(not_before=self.dispatcher.clock() + RETRY_MS)
        else:
            # A change re-plans through on_change; an advance that changed nothing
            # (the clock was a hair early) must still leave the next job in place.
            self.replan()
