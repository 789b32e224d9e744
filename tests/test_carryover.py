"""Carrying a running show over to an edited schedule, matched by id."""

from __future__ import annotations

from eventrunner.core import show
from eventrunner.core.carryover import carry_over, plan_baseline

from .builders import at, small_day

DAY = "2022-03-03"


def t(clock: str) -> int:
    return at(f"{DAY} {clock}")


def edited(segments: str):
    return small_day(segments=segments).plan


ONE_WITHOUT_FIGURE = """
  - id: one
    title: One
    kind: livestream
    start: "10:00"
    end: "11:00"
    cues:
      - {id: hello, at: 0m, kind: lower_third, name: Host, role: Welcome, on_air: 15s}
      - {id: reminder, at: 20m, kind: note, text: roll video}
  - id: two
    title: Two
    kind: twitterstorm
    start: "11:30"
    end: "12:00"
"""


def test_an_unchanged_plan_carries_everything():
    plan = small_day().plan
    state = show.extend(show.start_show(plan, t("10:12")), t("10:13"), 5, shift_rest=True)
    carried, notes = carry_over(state, plan_baseline(plan), plan)
    assert notes == []
    assert carried.model_dump() == {**state.model_dump(), "version": state.version + 1}


def test_a_removed_current_cue_moves_to_the_nearest_earlier_one():
    plan = small_day().plan
    state = show.start_show(plan, t("10:12"))
    assert state.current_cue.id == "figure"
    carried, notes = carry_over(state, plan_baseline(plan), edited(ONE_WITHOUT_FIGURE))
    assert (carried.phase, carried.segment.id, carried.current_cue.id) == ("live", "one", "hello")
    assert notes == [
        "the current cue 'figure' was removed; moved to 'hello'",
        "graphic 'figure' taken off air: its cue is gone or changed kind",
    ]
    assert "card" not in carried.graphics
    assert carried.segment.actual_start == state.segment.actual_start


def test_a_removed_current_segment_moves_to_the_next_one_that_is_left():
    plan = small_day().plan
    state = show.hold(show.start_show(plan, t("10:12")), t("10:12"))
    only_two = """
  - id: two
    title: Two
    kind: twitterstorm
    start: "11:30"
    end: "12:00"
"""
    carried, notes = carry_over(state, plan_baseline(plan), edited(only_two))
    assert (carried.phase, carried.segment.id, carried.held) == ("gap", "two", False)
    assert "the current segment 'one' was removed; moved to 'two'" in notes
    assert show.advance(carried, t("11:30")).phase == "live"


def test_producers_moves_survive_a_new_planned_time():
    plan = small_day().plan
    state = show.extend(show.start_show(plan, t("10:12")), t("10:13"), 5, shift_rest=True)
    later_two = ONE_WITHOUT_FIGURE.replace('start: "11:30"', 'start: "11:40"')
    carried, _ = carry_over(state, plan_baseline(plan), edited(later_two))
    two = carried.segments[1]
    assert (two.planned_start, two.planned_end) == (t("11:45"), t("12:05"))
    assert carried.segments[0].planned_end == t("11:05")
