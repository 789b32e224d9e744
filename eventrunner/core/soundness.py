"""Is a stored show state one this engine can run? A record read back from disk is
outside input: a hand edit, a bug or a hostile file can hold anything that parses."""

from __future__ import annotations

from eventrunner.core.plan import SLOTS, Plan
from eventrunner.core.show import ShowState

# Instants are epoch ms between 1970 and 2100 (what schedules may say, with room for
# extensions); anything else is not a time this show could hold.
EARLIEST_MS = 0
LATEST_MS = 4_102_444_800_000 + 366 * 86_400_000
MAX_VERSION = 2**53


def _instant_problem(name: str, value: int | None) -> str | None:
    if value is None or EARLIEST_MS <= value <= LATEST_MS:
        return None
    return f"{name} is {value}, not an instant between 1970 and 2101"


def state_problems(state: ShowState, plan: Plan | None = None) -> list[str]:
    """What is wrong with `state` (empty if nothing); with `plan`, also whether it is a
    state of that plan (same segments and cues, by id and in order)."""
    problems: list[str] = []
    if not 1 <= state.version <= MAX_VERSION:
        problems.append(f"version is {state.version}; versions run from 1 to 2**53 (what browsers count)")
    if not state.segments:
        return [*problems, "the show has no segments"]
    if not 0 <= state.index < len(state.segments):
        problems.append(f"index {state.index} is not one of the {len(state.segments)} segments")
    elif state.cue is not None and not 0 <= state.cue < len(state.segment.cues):
        problems.append(
            f"cue {state.cue} is not one of the {len(state.segment.cues)} cues of '{state.segment.id}'"
        )
    for name, value in (
        ("held_since", state.held_since),
        ("anchor", state.anchor),
        ("resumed_at", state.resumed_at),
    ):
        problems += filter(None, [_instant_problem(name, value)])
    ids: set[str] = set()
    for segment in state.segments:
        where = f"segment '{segment.id}'"
        for name in ("planned_start", "planned_end", "actual_start", "actual_end"):
            problems += filter(None, [_instant_problem(f"{where} {name}", getattr(segment, name))])
        # A planned end at or before the planned start is not a problem: producers make it
        # (an early start, then shortened; or that, undone by previous), and the clock
        # then skips the segment or ends it.
        for cue in segment.cues:
            problems += filter(None, [_instant_problem(f"cue '{cue.id}' planned", cue.planned)])
            problems += filter(None, [_instant_problem(f"cue '{cue.id}' actual", cue.actual)])
            if cue.slot is not None and cue.slot not in SLOTS:
                problems.append(f"cue '{cue.id}' has no graphics slot '{cue.slot}'")
        for identifier in (segment.id, *(cue.id for cue in segment.cues)):
            if identifier in ids:
                problems.append(f"id '{identifier}' appears twice")
            ids.add(identifier)
    for slot, on_air in state.graphics.items():
        if slot not in SLOTS:
            problems.append(f"graphics slot '{slot}' does not exist")
        if on_air.cue not in ids:
            problems.append(f"graphic in '{slot}' names no cue of the show ('{on_air.cue}')")
        problems += filter(None, [_instant_problem(f"graphic in '{slot}' since", on_air.since)])
        problems += filter(None, [_instant_problem(f"graphic in '{slot}' until", on_air.until)])
    if plan is not None:
        problems += _plan_mismatch(state, plan)
    return problems


def _plan_mismatch(state: ShowState, plan: Plan) -> list[str]:
    stored = [(s.id, [c.id for c in s.cues]) for s in state.segments]
    planned = [(s.id, [c.id for c in s.cues]) for s in plan.segments]
    if stored != planned:
        return ["its segments and cues are not the schedule's (by id and order)"]
    return []
