"""Carrying a running show over to an edited schedule, matched by id."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from eventrunner.core import show
from eventrunner.core.carryover import carry_over, plan_baseline
from eventrunner.core.show import CommandRejected
from eventrunner.core.soundness import state_problems

from .builders import SMALL_DAY_SEGMENTS, at, small_day

DAY = "2022-03-03"


def t(clock: str) -> int:
    return at(f"{DAY} {clock}")


def edited(segments: str):
    return small_day(segments=segments).plan


# The small day without its 'figure' cue, and 'two' without its cue.
ONE_WITHOUT_FIGURE = re.sub(r"\n      - \{id: (figure|storm),.*", "", SMALL_DAY_SEGMENTS).removesuffix(
    "    cues:\n"
)


def test_an_unchanged_plan_carries_everything():
    plan = small_day().plan
    state = show.extend(show.start_show(plan, t("10:12")), t("10:13"), 5, shift_rest=True)
    carried, notes = carry_over(state, plan_baseline(plan), plan, t("10:13"))
    assert notes == []
    assert carried.model_dump() == {**state.model_dump(), "version": state.version + 1}


def test_a_removed_current_cue_moves_to_the_nearest_earlier_one():
    plan = small_day().plan
    state = show.start_show(plan, t("10:12"))
    assert state.current_cue.id == "figure"
    carried, notes = carry_over(state, plan_baseline(plan), edited(ONE_WITHOUT_FIGURE), t("10:13"))
    assert (carried.phase, carried.segment.id, carried.current_cue.id) == ("live", "one", "hello")
    assert notes == [
        "the current cue 'figure' was removed; moved to 'hello'",
        "graphic 'figure' taken off air: its cue is gone or changed",
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
    carried, notes = carry_over(state, plan_baseline(plan), edited(only_two), t("10:13"))
    assert (carried.phase, carried.segment.id, carried.held) == ("gap", "two", False)
    assert "the current segment 'one' was removed; moved to 'two'" in notes
    assert show.advance(carried, t("11:30")).phase == "live"


def test_producers_moves_survive_a_new_planned_time():
    plan = small_day().plan
    state = show.extend(show.start_show(plan, t("10:12")), t("10:13"), 5, shift_rest=True)
    later_two = ONE_WITHOUT_FIGURE.replace('start: "11:30"', 'start: "11:40"')
    carried, _ = carry_over(state, plan_baseline(plan), edited(later_two), t("10:13"))
    two = carried.segments[1]
    assert (two.planned_start, two.planned_end) == (t("11:45"), t("12:05"))
    assert carried.segments[0].planned_end == t("11:05")


def test_a_move_that_would_make_a_segment_end_before_it_starts_is_dropped_with_a_note():
    plan = small_day().plan
    state = show.start_show(plan, t("10:12"))
    # A baseline that does not fit (a hand-edited record): 'two' looks shortened by 30 min.
    baseline = {**plan_baseline(plan), "two": (t("11:30"), t("12:30"))}
    short_two = ONE_WITHOUT_FIGURE.replace('end: "12:00"', 'end: "11:45"')
    carried, notes = carry_over(state, baseline, edited(short_two), t("10:13"))
    assert (carried.segments[1].planned_start, carried.segments[1].planned_end) == (t("11:30"), t("11:45"))
    assert "the producers' move of 'two' is dropped: it would now end before it starts" in notes
    assert state_problems(carried, edited(short_two)) == []


def test_a_record_without_a_baseline_keeps_its_planned_times():
    plan = small_day().plan
    state = show.extend(show.start_show(plan, t("10:12")), t("10:13"), 20)  # 'one' until 11:20
    carried, notes = carry_over(state, {}, edited(ONE_WITHOUT_FIGURE), t("11:02"))
    assert carried.segments[0].planned_end == t("11:20")
    assert show.advance(carried, t("11:02")).phase == "live"  # not ended back at 11:00
    assert "predates baselines" in notes[0]


def test_a_cue_named_by_its_place_is_not_taken_for_another_after_an_insert():
    # 'one' with its two lower thirds and no ids: they are named by their place.
    unnamed = SMALL_DAY_SEGMENTS.split("  - id: two")[0]
    unnamed = re.sub(r"\n      - \{id: (figure|reminder),.*", "", unnamed).replace("id: hello, ", "")
    unnamed += "      - {at: 30m, kind: lower_third, name: Guest}\n"
    plan = edited(unnamed)
    state = show.start_show(plan, t("10:31"))
    assert (state.current_cue.id, state.graphics["lower_third"].cue) == ("one-2", "one-2")
    inserted = unnamed.replace(
        "      - {at: 30m", "      - {at: 15m, kind: lower_third, name: Surprise}\n      - {at: 30m"
    )
    carried, _ = carry_over(state, plan_baseline(plan), edited(inserted), t("10:32"))
    # 'one-2' is now the surprise at 15m: it has not aired, and it is not on air.
    assert carried.segment.cues[1].actual is None
    assert "lower_third" not in carried.graphics
    assert carried.segment.cues[2].offset_ms == 30 * 60_000


def test_the_next_segment_after_a_removed_one_starts_when_the_change_is_made():
    plan = small_day().plan
    state = show.start_show(plan, t("10:12"))
    only_two = ONE_WITHOUT_FIGURE[ONE_WITHOUT_FIGURE.index("  - id: two") :]
    carried, _ = carry_over(state, plan_baseline(plan), edited("\n" + only_two), t("11:40"))
    live = show.advance(carried, t("11:40"))
    assert (live.phase, live.segment.id, live.segment.actual_start) == ("live", "two", t("11:40"))


@settings(max_examples=300, deadline=None, database=None)
@given(
    moves=st.lists(
        st.tuples(
            st.sampled_from(
                ["next", "previous", "hold", "resume", "extend", "shorten", "start_now", "advance"]
            ),
            st.integers(1, 90),
        ),
        max_size=15,
    )
)
def test_whatever_producers_do_the_engine_keeps_a_state_it_would_load_again(moves):
    plan = small_day().plan
    now = t("09:40")
    state = show.start_show(plan, now)
    for name, minutes in moves:
        now += minutes * 60_000 // 3
        try:
            if name == "extend":
                state = show.extend(state, now, minutes)
            elif name == "shorten":
                state = show.extend(state, now, -minutes)
            elif name == "advance":
                state = show.advance(state, now)
            else:
                state = getattr(show, {"next": "next_cue", "previous": "previous_cue"}.get(name, name))(
                    state, now
                )
        except CommandRejected:
            continue
        assert state_problems(state, plan) == [], (name, minutes)
