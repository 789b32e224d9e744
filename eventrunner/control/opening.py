"""Opening the show at start-up: load the schedule, then resume or begin the show.

A data directory remembers which schedule (and, for the demo, which shift) its show came
from, so a restart resumes that show at the same point. A data directory that holds a
different show is never overwritten silently.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from eventrunner.core.plan import Plan
from eventrunner.core.schedule import Schedule
from eventrunner.core.show import ShowState, start_show
from eventrunner.stores.file import ScheduleRef, ShowStore, StoredShow

DEMO_LEAD_MS = 2 * 60_000


class DataDirInUse(Exception):
    """The data directory holds another show; starting would overwrite it."""


def demo_shift(plan: Plan, now: int) -> int:
    """Move the plan so its first segment starts on the whole minute two minutes from now."""
    target = math.ceil((now + DEMO_LEAD_MS) / 60_000) * 60_000
    return target - plan.start_ms


def shifted_schedule(schedule: Schedule, shift_ms: int) -> Schedule:
    if not shift_ms:
        return schedule
    plan = schedule.plan.shifted(shift_ms)
    zone = ZoneInfo(schedule.model.event.timezone)
    first_day = datetime.fromtimestamp(plan.start_ms / 1000, tz=UTC).astimezone(zone).date()
    event = schedule.model.event.model_copy(update={"date": first_day})
    return dataclasses.replace(schedule, plan=plan, model=schedule.model.model_copy(update={"event": event}))


async def open_show(
    schedule: Schedule, store: ShowStore, now: int, demo: bool, reset: bool
) -> tuple[Schedule, ScheduleRef, ShowState, bool]:
    """Returns the schedule as run, its reference, the state, and whether it is new."""
    stored = await store.load()
    if stored is not None and not reset:
        ref = stored.schedule
        if ref.sha256 == schedule.sha256 and ref.demo == demo:
            return shifted_schedule(schedule, ref.shift_ms), ref, stored.state, False
        what = "the demo" if ref.demo else f"the show from {ref.source}"
        raise DataDirInUse(
            f"the data directory holds {what} (schedule sha256 {ref.sha256[:12]}); this start asks for "
            f"{'the demo' if demo else schedule.source}. Use another --data-dir, or --reset to replace it."
        )
    shift = demo_shift(schedule.plan, now) if demo else 0
    ref = ScheduleRef(source=schedule.source, sha256=schedule.sha256, shift_ms=shift, demo=demo)
    run = shifted_schedule(schedule, shift)
    state = start_show(run.plan, now)
    if stored is not None:
        # Versions only grow, even across a reset: clients must never see one go back.
        state.version = stored.state.version + 1
    expected = stored.state.version if stored is not None else None
    await store.save(StoredShow(schedule=ref, state=state), expected_version=expected)
    return run, ref, state, True
