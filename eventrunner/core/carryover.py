"""Carrying a running show over to an edited schedule (a restart with a fixed typo, a
moved segment, a new cue), so a mid-show fix never needs --reset.

Segments and cues are matched by id. What happened carries over: actual times, the
position, holds, graphics on air, and the producers' own moves of planned times
(extensions, shifts), which are the difference between the old state and the plan the
old schedule made (`baseline`). Everything else comes from the new schedule. Pure: the
caller logs the notes.
"""

from __future__ import annotations

from collections.abc import Mapping

from eventrunner.core.plan import Plan
from eventrunner.core.show import CueTiming, SegmentTiming, ShowState, fresh_state

# segment id -> (planned start, planned end) as a schedule planned it, before any producer moved it
Baseline = Mapping[str, tuple[int, int]]


def plan_baseline(plan: Plan) -> dict[str, tuple[int, int]]:
    return {segment.id: (segment.start_ms, segment.end_ms) for segment in plan.segments}


def _carry_segment(new: SegmentTiming, old: SegmentTiming, baseline: Baseline) -> None:
    planned_start, planned_end = baseline.get(old.id, (old.planned_start, old.planned_end))
    new.planned_start += old.planned_start - planned_start
    new.planned_end += old.planned_end - planned_end
    new.actual_start, new.actual_end = old.actual_start, old.actual_end
    aired = {cue.id: cue.actual for cue in old.cues}
    starts_at = new.actual_start if new.actual_start is not None else new.planned_start
    for cue in new.cues:
        cue.planned = starts_at + cue.offset_ms
        cue.actual = aired.get(cue.id)


def _nearest_cue(cues: list[CueTiming], offset_ms: int) -> int | None:
    """The cue that would be current at `offset_ms` into the segment, if any."""
    earlier = [index for index, cue in enumerate(cues) if cue.offset_ms <= offset_ms]
    return earlier[-1] if earlier else None


def carry_over(old: ShowState, baseline: Baseline, plan: Plan) -> tuple[ShowState, list[str]]:
    """The show `old` on the new `plan`, at the next version, and notes on what moved."""
    state = fresh_state(plan, version=old.version + 1)
    notes: list[str] = []
    old_by_id = {segment.id: segment for segment in old.segments}
    new_index = {segment.id: index for index, segment in enumerate(state.segments)}
    for segment in state.segments:
        if segment.id in old_by_id:
            _carry_segment(segment, old_by_id[segment.id], baseline)
    removed = [segment.id for segment in old.segments if segment.id not in new_index]
    if removed:
        notes.append(f"segments no longer in the schedule: {', '.join(removed)}")

    state.phase, state.held, state.held_since = old.phase, old.held, old.held_since
    state.anchor, state.resumed_at = old.anchor, old.resumed_at
    current = old.segment
    if current.id in new_index:
        state.index = new_index[current.id]
        state.cue = _carry_cue(old, state, notes)
    else:
        # The segment the show is at was removed: go to the next one the schedule still
        # has (the clock decides whether it is on air yet), else to the end.
        following = [new_index[s.id] for s in old.segments[old.index + 1 :] if s.id in new_index]
        state.held, state.held_since = False, None
        if following:
            state.phase, state.index, state.cue = "gap", following[0], None
            notes.append(f"the current segment '{current.id}' was removed; moved to '{state.segment.id}'")
        else:
            state.phase, state.index, state.cue = "ended", len(state.segments) - 1, None
            notes.append(f"the current segment '{current.id}' was removed and nothing follows it: ended")

    cue_slots = {cue.id: cue.slot for segment in state.segments for cue in segment.cues}
    for slot, on_air in old.graphics.items():
        if cue_slots.get(on_air.cue) == slot:
            state.graphics[slot] = on_air.model_copy()
        else:
            notes.append(f"graphic '{on_air.cue}' taken off air: its cue is gone or changed kind")
    return state, notes


def _carry_cue(old: ShowState, state: ShowState, notes: list[str]) -> int | None:
    old_cue = old.current_cue if old.phase == "live" else None
    if old_cue is None:
        return None
    cues = state.segment.cues
    for index, cue in enumerate(cues):
        if cue.id == old_cue.id:
            return index
    nearest = _nearest_cue(cues, old_cue.offset_ms)
    moved_to = f"'{cues[nearest].id}'" if nearest is not None else "the segment's start (no earlier cue)"
    notes.append(f"the current cue '{old_cue.id}' was removed; moved to {moved_to}")
    return nearest
