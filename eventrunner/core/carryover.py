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


def _carry_segment(new: SegmentTiming, old: SegmentTiming, baseline: Baseline, notes: list[str]) -> None:
    if old.id in baseline:
        planned_start, planned_end = baseline[old.id]
        start = new.planned_start + old.planned_start - planned_start
        end = new.planned_end + old.planned_end - planned_end
        if end > start or old.actual_start is not None:
            new.planned_start, new.planned_end = start, end
        else:
            notes.append(f"the producers' move of '{old.id}' is dropped: it would now end before it starts")
    else:
        # A record from before baselines: producers' moves cannot be told from the file's
        # times, so the show's own times win; edited times apply after --reset.
        new.planned_start, new.planned_end = old.planned_start, old.planned_end
    new.actual_start, new.actual_end = old.actual_start, old.actual_end
    aired = {cue.id: cue for cue in old.cues}
    starts_at = new.actual_start if new.actual_start is not None else new.planned_start
    for cue in new.cues:
        cue.planned = starts_at + cue.offset_ms
        previous = aired.get(cue.id)
        if previous is not None and _same_cue(previous, cue, new.id):
            cue.actual = previous.actual


def _same_cue(old: CueTiming, new: CueTiming, segment_id: str) -> bool:
    """Whether a cue of the new schedule is the one the show knew by that id. Without an
    id in the file a cue is named by its place ('livestream-3'): inserting one renames
    the rest, so such a name only matches the same kind of cue at the same time."""
    if old.slot != new.slot:
        return False
    generated = new.id.startswith(f"{segment_id}-") and new.id[len(segment_id) + 1 :].isdigit()
    return not generated or old.offset_ms == new.offset_ms


def _nearest_cue(cues: list[CueTiming], offset_ms: int) -> int | None:
    """The cue that would be current at `offset_ms` into the segment, if any."""
    earlier = [index for index, cue in enumerate(cues) if cue.offset_ms <= offset_ms]
    return earlier[-1] if earlier else None


def carry_over(old: ShowState, baseline: Baseline, plan: Plan, now: int) -> tuple[ShowState, list[str]]:
    """The show `old` on the new `plan`, at the next version, and notes on what moved."""
    state = fresh_state(plan, version=old.version + 1)
    notes: list[str] = []
    if not baseline:
        notes.append("the stored show predates baselines: its planned times are kept as they were")
    old_by_id = {segment.id: segment for segment in old.segments}
    new_index = {segment.id: index for index, segment in enumerate(state.segments)}
    for segment in state.segments:
        if segment.id in old_by_id:
            _carry_segment(segment, old_by_id[segment.id], baseline, notes)
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
            waiting = "pending" if old.phase == "pending" else "gap"
            state.phase, state.index, state.cue = waiting, following[0], None
            # If it is due, it starts now, not back when its plan said: nothing replays.
            state.anchor = state.resumed_at = now
            notes.append(f"the current segment '{current.id}' was removed; moved to '{state.segment.id}'")
        else:
            state.phase, state.index, state.cue = "ended", len(state.segments) - 1, None
            notes.append(f"the current segment '{current.id}' was removed and nothing follows it: ended")

    # A graphic stays on air only while its cue is still the same cue (see _same_cue).
    old_cues = {cue.id: cue for segment in old.segments for cue in segment.cues}
    new_cues = {cue.id: (segment.id, cue) for segment in state.segments for cue in segment.cues}
    for slot, on_air in old.graphics.items():
        before, (segment_id, after) = old_cues.get(on_air.cue), new_cues.get(on_air.cue, ("", None))
        if before and after and after.slot == slot and _same_cue(before, after, segment_id):
            state.graphics[slot] = on_air.model_copy()
        else:
            notes.append(f"graphic '{on_air.cue}' taken off air: its cue is gone or changed")
    return state, notes


def _carry_cue(old: ShowState, state: ShowState, notes: list[str]) -> int | None:
    old_cue = old.current_cue if old.phase == "live" else None
    if old_cue is None:
        return None
    cues = state.segment.cues
    for index, cue in enumerate(cues):
        if cue.id == old_cue.id and _same_cue(old_cue, cue, state.segment.id):
            return index
    nearest = _nearest_cue(cues, old_cue.offset_ms)
    moved_to = f"'{cues[nearest].id}'" if nearest is not None else "the segment's start (no earlier cue)"
    notes.append(f"the current cue '{old_cue.id}' was removed; moved to {moved_to}")
    return nearest
