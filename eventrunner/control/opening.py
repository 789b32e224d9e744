"""Opening the show at start-up: load the schedule, then resume or begin the show.

A data directory remembers which schedule (and, for the demo, which shift) its show came
from, so a restart resumes that show at the same point, even with the schedule edited in
between (core/carryover.py). A data directory that holds a different show is never
overwritten silently.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from eventrunner.core.carryover import carry_over, plan_baseline
from eventrunner.core.plan import Plan
from eventrunner.core.schedule import Schedule
from eventrunner.core.show import ShowState, start_show
from eventrunner.core.soundness import LATEST_MS, state_problems
from eventrunner.stores.contract import ScheduleRef, ShowStore, StoreCorrupt, StoredShow

log = logging.getLogger(__name__)

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


def _event_key(schedule: Schedule) -> str:
    return f"{schedule.model.event.title} on {schedule.model.event.date}"


def _same_show(ref: ScheduleRef, schedule: Schedule, demo: bool) -> bool:
    """Whether a start may resume the stored show with this (perhaps edited) schedule."""
    if ref.demo or demo:
        return ref.demo == demo
    same_file = Path(ref.source).resolve() == Path(schedule.source).resolve()
    return same_file or ref.event == _event_key(schedule)


def _new_ref(schedule: Schedule, run: Schedule, shift_ms: int, demo: bool) -> ScheduleRef:
    return ScheduleRef(
        source=schedule.source,
        sha256=schedule.sha256,
        shift_ms=shift_ms,
        demo=demo,
        event=_event_key(schedule),
        baseline=plan_baseline(run.plan),
    )


async def open_show(
    schedule: Schedule, store: ShowStore, now: int, demo: bool, reset: bool
) -> tuple[Schedule, ScheduleRef, ShowState, bool]:
    """Returns the schedule as run, its reference, the state, and whether it is new."""
    stored = await store.load()
    if stored is not None and not reset:
        ref = stored.schedule
        if not _same_show(ref, schedule, demo):
            held = "the demo" if ref.demo else f"the show from {ref.source} ({ref.event or 'another event'})"
            asked = "the demo" if demo else f"{schedule.source} ({_event_key(schedule)})"
            raise DataDirInUse(
                f"the data directory holds {held}; this start asks for {asked}. "
                "Use another --data-dir, or --reset to replace it."
            )
        if abs(ref.shift_ms) > LATEST_MS:
            raise StoreCorrupt(f"{store.where} shifts the demo by {ref.shift_ms} ms, out of any calendar")
        run = shifted_schedule(schedule, ref.shift_ms)
        same_schedule = ref.sha256 == schedule.sha256
        problems = state_problems(stored.state, run.plan if same_schedule else None)
        if problems:
            raise StoreCorrupt(
                f"{store.where} holds a show this server cannot run: {'; '.join(problems[:5])}. "
                "It is left as it is: move it away (or start with another --data-dir) to begin anew."
            )
        if same_schedule:
            if not ref.baseline:  # a record from before baselines: remember the plan now
                ref = ref.model_copy(
                    update={"baseline": plan_baseline(run.plan), "event": _event_key(schedule)}
                )
                await store.save(StoredShow(schedule=ref, state=stored.state), stored.state.version)
            return run, ref, stored.state, False
        # The schedule was edited mid-show: keep what happened, take the new plan.
        state, notes = carry_over(stored.state, ref.baseline, run.plan, now)
        problems = state_problems(state, run.plan)
        if problems:
            raise StoreCorrupt(
                f"the edited schedule cannot carry the show in {store.where}: {'; '.join(problems[:5])}. "
                "Nothing was changed: fix the schedule, or start over with --reset."
            )
        ref = _new_ref(schedule, run, ref.shift_ms, demo)
        await store.save(StoredShow(schedule=ref, state=state), expected_version=stored.state.version)
        log.warning("the schedule changed since the last start; the show carries on at v%d", state.version)
        for note in notes:
            log.warning("schedule change: %s", note)
        return run, ref, state, False
    shift = demo_shift(schedule.plan, now) if demo else 0
    run = shifted_schedule(schedule, shift)
    ref = _new_ref(schedule, run, shift, demo)
    state = start_show(run.plan, now)
    if stored is not None:
        # Versions only grow, even across a reset: clients must never see one go back.
        state.version = stored.state.version + 1
    expected = stored.state.version if stored is not None else None
    await store.save(StoredShow(schedule=ref, state=state), expected_version=expected)
    return run, ref, state, True
