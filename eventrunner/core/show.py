"""The run-of-show engine: a pure state machine over one versioned document.

Every function takes the current `ShowState` and `now` (epoch ms) and returns a new
state; none does I/O or reads a clock, so the whole day can be tested to the
millisecond. The program follows the wall clock through `advance`; producer commands
override it. Rules that keep the two from fighting:

- Auto transitions happen at planned instants. A transition that came due while the
  show was held takes effect when it resumes.
- A hold belongs to the segment it was pressed in (or to the wait for the upcoming one):
  a producer's move to another segment, or onto the air, releases it.
- A producer's move (next, previous, jump, start now) sets the *anchor*. Cue changes
  and segment ends that were planned before the anchor are not replayed: a segment
  the producer put back on air after its planned end runs over-time until they move on.
- Cues are planned relative to their segment's actual start (a late segment keeps its
  internal rhythm); segments keep their planned times unless extended with `shift_rest`.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from eventrunner.core.plan import SLOTS, Plan

Phase = Literal["pending", "live", "gap", "ended"]
MAX_EXTEND_MINUTES = 12 * 60
_EARLIEST = -(2**62)


class CommandRejected(Exception):
    """A command that cannot apply to the show as it is; the message says why."""


class CueTiming(BaseModel):
    id: str
    offset_ms: int
    slot: str | None
    auto_take: bool
    on_air_ms: int | None
    planned: int
    actual: int | None = None


class SegmentTiming(BaseModel):
    id: str
    planned_start: int
    planned_end: int
    actual_start: int | None = None
    actual_end: int | None = None
    cues: list[CueTiming]


class OnAir(BaseModel):
    cue: str
    since: int
    until: int | None = None


class ShowState(BaseModel):
    version: int = 0
    phase: Phase = "pending"
    # The segment on air (live), coming up (pending, gap) or last (ended).
    index: int = 0
    # The current cue of the live segment; None before its first cue.
    cue: int | None = None
    held: bool = False
    held_since: int | None = None
    anchor: int | None = None
    resumed_at: int | None = None
    segments: list[SegmentTiming]
    graphics: dict[str, OnAir] = {}

    @property
    def segment(self) -> SegmentTiming:
        return self.segments[self.index]

    @property
    def current_cue(self) -> CueTiming | None:
        return None if self.cue is None or self.phase != "live" else self.segment.cues[self.cue]

    def locate_cue(self, cue_id: str) -> tuple[int, int]:
        for segment_index, segment in enumerate(self.segments):
            for cue_index, cue in enumerate(segment.cues):
                if cue.id == cue_id:
                    return segment_index, cue_index
        raise CommandRejected(f"no cue with id '{cue_id}'")

    def locate_segment(self, segment_id: str) -> int:
        for index, segment in enumerate(self.segments):
            if segment.id == segment_id:
                return index
        raise CommandRejected(f"no segment with id '{segment_id}'")


# --- building -----------------------------------------------------------------


def fresh_state(plan: Plan, version: int) -> ShowState:
    """The plan as a state nobody has run yet: nothing aired, nothing advanced."""
    segments = [
        SegmentTiming(
            id=s.id,
            planned_start=s.start_ms,
            planned_end=s.end_ms,
            cues=[
                CueTiming(
                    id=c.id,
                    offset_ms=c.offset_ms,
                    slot=c.slot,
                    auto_take=c.auto_take,
                    on_air_ms=c.on_air_ms,
                    planned=s.start_ms + c.offset_ms,
                )
                for c in s.cues
            ],
        )
        for s in plan.segments
    ]
    return ShowState(version=version, segments=segments)


def start_show(plan: Plan, now: int) -> ShowState:
    """The show as the wall clock has it at `now`, before any producer touched it."""
    state = fresh_state(plan, version=1)
    _advance(state, now)
    return state


def reset(state: ShowState, plan: Plan, now: int) -> ShowState:
    fresh = fresh_state(plan, version=state.version)
    _advance(fresh, now)
    return fresh


# --- following the clock --------------------------------------------------------


def _next_due_cue(state: ShowState) -> int | None:
    segment = state.segment
    floor = state.anchor if state.anchor is not None else _EARLIEST
    first = 0 if state.cue is None else state.cue + 1
    for index in range(first, len(segment.cues)):
        planned = segment.cues[index].planned
        if planned >= segment.planned_end:
            return None
        if planned >= floor:
            return index
    return None


def next_transition(state: ShowState) -> int | None:
    """The next instant at which `advance` would change the show, if any."""
    due = [g.until for g in state.graphics.values() if g.until is not None]
    if not state.held:
        if state.phase in ("pending", "gap"):
            due.append(state.segment.planned_start)
        elif state.phase == "live":
            segment = state.segment
            if state.anchor is None or segment.planned_end >= state.anchor:
                due.append(segment.planned_end)
            cue = _next_due_cue(state)
            if cue is not None:
                due.append(segment.cues[cue].planned)
    return min(due, default=None)


def advance(state: ShowState, now: int) -> ShowState:
    state = state.model_copy(deep=True)
    _advance(state, now)
    return state


def _advance(state: ShowState, now: int) -> None:
    # Bounded: each step consumes one planned transition, and a day has few.
    for _ in range(100_000):
        due = next_transition(state)
        if due is None or due > now:
            return
        expired = [slot for slot, g in state.graphics.items() if g.until is not None and g.until <= due]
        if expired:
            for slot in expired:
                del state.graphics[slot]
            continue
        at = max(due, state.anchor or _EARLIEST, state.resumed_at or _EARLIEST)
        if state.phase in ("pending", "gap"):
            _start_or_skip(state, state.index, at)
            continue
        cue = _next_due_cue(state)
        if cue is not None and state.segment.cues[cue].planned == due:
            _set_cue(state, cue, at)
        else:
            _leave_air(state, at)
            _start_or_skip(state, state.index + 1, at)
    raise RuntimeError("the show did not settle")  # pragma: no cover - defensive


def _start_or_skip(state: ShowState, index: int, at: int) -> None:
    """What the clock does next at `at`, from segment `index` on: put on air the first
    segment whose planned end is still ahead (if it has begun), or wait for it.

    A segment whose whole planned span went by while the show was held is skipped, not
    aired for no time at all; a producer can still jump to it.
    """
    while index < len(state.segments) and state.segments[index].planned_end <= at:
        index += 1
    if index == len(state.segments):
        state.phase, state.index, state.cue = "ended", len(state.segments) - 1, None
    elif state.segments[index].planned_start <= at:
        _go_live(state, index, at)
    else:
        state.phase, state.index, state.cue = "gap", index, None


# --- moves shared by the clock and the producers -------------------------------------------


def _go_live(state: ShowState, index: int, at: int) -> None:
    state.phase, state.index, state.cue = "live", index, None
    segment = state.segments[index]
    if segment.actual_start is None:
        segment.actual_start = at
        for cue in segment.cues:
            cue.planned = at + cue.offset_ms
    segment.actual_end = None


def _leave_air(state: ShowState, at: int) -> None:
    state.segment.actual_end = at
    state.cue = None
    state.graphics.clear()


def _set_cue(state: ShowState, index: int, at: int) -> None:
    state.cue = index
    cue = state.segment.cues[index]
    if cue.actual is None:
        cue.actual = at
    if cue.slot and cue.auto_take:
        _put_on_air(state, cue, at)


def _put_on_air(state: ShowState, cue: CueTiming, at: int) -> None:
    assert cue.slot is not None
    until = at + cue.on_air_ms if cue.on_air_ms else None
    state.graphics[cue.slot] = OnAir(cue=cue.id, since=at, until=until)


def _undo_segment(segment: SegmentTiming) -> None:
    segment.actual_start = segment.actual_end = None
    for cue in segment.cues:
        cue.actual = None
        cue.planned = segment.planned_start + cue.offset_ms


def _last_aired_cue(segment: SegmentTiming) -> int | None:
    aired = [i for i, cue in enumerate(segment.cues) if cue.actual is not None]
    return aired[-1] if aired else None


def _command(state: ShowState, now: int, move: bool = False) -> ShowState:
    state = state.model_copy(deep=True)
    _advance(state, now)
    if move:
        state.anchor = now
    return state


def _moved(state: ShowState, before: tuple[str, int]) -> None:
    """After a producer's move: a hold stays with the segment it was pressed in."""
    if state.held and (state.phase, state.index) != before:
        state.held, state.held_since = False, None


# --- producer commands ------------------------------------------------------------------


def next_cue(state: ShowState, now: int) -> ShowState:
    state = _command(state, now, move=True)
    if state.phase == "ended":
        raise CommandRejected("the show has ended; use jump or reset")
    before = (state.phase, state.index)
    if state.phase in ("pending", "gap"):
        _go_live(state, state.index, now)
    else:
        following = 0 if state.cue is None else state.cue + 1
        if following < len(state.segment.cues):
            _set_cue(state, following, now)
        else:
            _leave_air(state, now)
            if state.index + 1 == len(state.segments):
                state.phase = "ended"
            else:
                _go_live(state, state.index + 1, now)
    _moved(state, before)
    _advance(state, now)
    return state


def previous_cue(state: ShowState, now: int) -> ShowState:
    state = _command(state, now, move=True)
    if state.phase == "pending":
        raise CommandRejected("nothing comes before the first segment")
    before = (state.phase, state.index)
    if state.phase == "live" and state.cue:
        left = state.segment.cues[state.cue]
        left.actual = None
        if left.slot and left.slot in state.graphics and state.graphics[left.slot].cue == left.id:
            del state.graphics[left.slot]
        state.cue -= 1
        back = state.segment.cues[state.cue]
        if back.slot and back.auto_take:
            _put_on_air(state, back, now)
        return state
    if state.phase == "live":
        if state.index == 0:
            raise CommandRejected("this is the first segment; nothing comes before it")
        _undo_segment(state.segment)
        state.graphics.clear()
        back_to = state.index - 1
    elif state.phase == "gap":
        back_to = state.index - 1
    else:  # ended
        back_to = state.index
    _go_live(state, back_to, now)
    state.cue = _last_aired_cue(state.segment)
    _moved(state, before)
    return state


def jump(state: ShowState, now: int, segment_id: str | None = None, cue_id: str | None = None) -> ShowState:
    state = _command(state, now, move=True)
    if (segment_id is None) == (cue_id is None):
        raise CommandRejected("jump needs exactly one of 'segment' or 'cue'")
    if cue_id is not None:
        target, cue_index = state.locate_cue(cue_id)
    else:
        target, cue_index = state.locate_segment(segment_id), None  # type: ignore[arg-type]
    before = (state.phase, state.index)
    if state.phase != "live" or state.index != target:
        if state.phase == "live":
            _leave_air(state, now)
        _go_live(state, target, now)
    if cue_index is not None:
        _set_cue(state, cue_index, now)
    _moved(state, before)
    _advance(state, now)
    return state


def start_now(state: ShowState, now: int) -> ShowState:
    state = _command(state, now, move=True)
    if state.phase == "live":
        raise CommandRejected(f"'{state.segment.id}' is already on air; use next to move on")
    if state.phase == "ended":
        raise CommandRejected("the show has ended; use jump or reset")
    before = (state.phase, state.index)
    _go_live(state, state.index, now)
    _moved(state, before)
    _advance(state, now)
    return state


def hold(state: ShowState, now: int) -> ShowState:
    state = _command(state, now)
    if state.held:
        raise CommandRejected("the show is already on hold")
    if state.phase == "ended":
        raise CommandRejected("the show has ended")
    state.held, state.held_since = True, now
    return state


def resume(state: ShowState, now: int) -> ShowState:
    state = _command(state, now)
    if not state.held:
        raise CommandRejected("the show is not on hold")
    state.held, state.held_since, state.resumed_at = False, None, now
    _advance(state, now)
    return state


def extend(state: ShowState, now: int, minutes: int, shift_rest: bool = False) -> ShowState:
    state = _command(state, now)
    if state.phase != "live":
        raise CommandRejected("no segment is on air to extend or shorten")
    if minutes == 0 or abs(minutes) > MAX_EXTEND_MINUTES:
        raise CommandRejected(
            f"minutes must be between -{MAX_EXTEND_MINUTES} and {MAX_EXTEND_MINUTES}, not 0"
        )
    segment = state.segment
    # Giving time to a segment that already runs over starts from now, not from its
    # planned end (which is in the past).
    base = max(segment.planned_end, now) if minutes > 0 else segment.planned_end
    new_end = base + minutes * 60_000
    if new_end < now:
        raise CommandRejected(
            f"shortening '{segment.id}' by {-minutes} min would end it in the past; use next to end it now"
        )
    moved = new_end - segment.planned_end
    segment.planned_end = new_end
    if shift_rest:
        for later in state.segments[state.index + 1 :]:
            later.planned_start += moved
            later.planned_end += moved
            for cue in later.cues:
                cue.planned += moved
    _advance(state, now)
    return state


def take(state: ShowState, now: int, cue_id: str) -> ShowState:
    state = _command(state, now)
    segment_index, cue_index = state.locate_cue(cue_id)
    cue = state.segments[segment_index].cues[cue_index]
    if cue.slot is None:
        raise CommandRejected(f"cue '{cue_id}' is not a graphic")
    _put_on_air(state, cue, now)
    return state


def clear(state: ShowState, now: int, slot: str | None = None) -> ShowState:
    state = _command(state, now)
    if slot is None:
        state.graphics.clear()
    elif slot not in SLOTS:
        raise CommandRejected(f"unknown graphics slot '{slot}' (one of {', '.join(SLOTS)})")
    else:
        state.graphics.pop(slot, None)
    return state
