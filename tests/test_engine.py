"""The run-of-show engine, driven by an injected clock."""

from __future__ import annotations

import os
import time
from zoneinfo import ZoneInfo

import pytest

from eventrunner.core import show
from eventrunner.core.show import CommandRejected

from .builders import at, cnc, minutes, small_day

DAY = "2022-03-03"


def t(clock: str) -> int:
    return at(f"{DAY} {clock}")


@pytest.fixture
def plan():
    return small_day().plan


def remaining(state: show.ShowState, now: int) -> int:
    return state.segment.planned_end - now


def test_follows_the_wall_clock_through_the_day(plan):
    state = show.start_show(plan, t("09:00"))
    assert (state.phase, state.segment.id) == ("pending", "one")
    assert show.next_transition(state) == t("10:00")

    state = show.advance(state, t("10:00"))
    assert (state.phase, state.segment.id, state.current_cue.id) == ("live", "one", "hello")
    assert state.segment.actual_start == t("10:00")
    assert state.graphics["lower_third"].cue == "hello"
    assert state.graphics["lower_third"].until == t("10:00:15")

    state = show.advance(state, t("10:00:20"))
    assert "lower_third" not in state.graphics
    state = show.advance(state, t("10:10"))
    assert state.current_cue.id == "figure" and state.graphics["card"].cue == "figure"
    assert state.segments[0].cues[1].actual == t("10:10")

    state = show.advance(state, t("11:00"))
    assert (state.phase, state.segment.id) == ("gap", "two")
    assert state.segments[0].actual_end == t("11:00")
    assert state.graphics == {}
    assert show.next_transition(state) == t("11:30")

    state = show.advance(state, t("11:30"))
    assert (state.phase, state.segment.id) == ("live", "two")
    assert state.current_cue.id == "storm"
    assert "cta" not in state.graphics  # a manual cue is not taken by the clock

    state = show.advance(state, t("12:00"))
    assert state.phase == "ended"
    assert show.next_transition(state) is None


def test_a_server_started_late_catches_up_with_the_clock(plan):
    state = show.start_show(plan, t("10:12"))
    assert (state.phase, state.segment.id, state.current_cue.id) == ("live", "one", "figure")
    assert state.segment.actual_start == t("10:00")
    assert state.graphics["card"].cue == "figure"
    assert "lower_third" not in state.graphics  # its 15 s on air ended long ago


def test_a_late_start_by_the_producers_keeps_the_planned_end(plan):
    state = show.hold(show.start_show(plan, t("09:55")), t("09:55"))
    state = show.advance(state, t("10:05"))
    assert state.phase == "pending"  # held: the clock does not start it
    state = show.start_now(state, t("10:07"))
    assert (state.phase, state.segment.actual_start) == ("live", t("10:07"))
    assert remaining(state, t("10:07")) == minutes(53)
    # Cues keep their rhythm relative to the actual start.
    assert state.segment.cues[1].planned == t("10:17")


def test_resuming_a_held_pending_show_starts_it_then(plan):
    state = show.hold(show.start_show(plan, t("09:55")), t("09:55"))
    state = show.resume(state, t("10:03"))
    assert (state.phase, state.segment.actual_start) == ("live", t("10:03"))


def test_hold_runs_over_time_and_resume_moves_on(plan):
    state = show.start_show(plan, t("10:30"))
    state = show.hold(state, t("10:50"))
    state = show.advance(state, t("11:10"))
    assert (state.phase, state.segment.id, state.held) == ("live", "one", True)
    assert remaining(state, t("11:10")) == -minutes(10)
    assert show.next_transition(state) is None
    with pytest.raises(CommandRejected, match="already on hold"):
        show.hold(state, t("11:10"))

    state = show.resume(state, t("11:12"))
    assert (state.phase, state.segment.id) == ("gap", "two")
    assert state.segments[0].actual_end == t("11:12")
    with pytest.raises(CommandRejected, match="not on hold"):
        show.resume(state, t("11:13"))


def test_a_hold_belongs_to_the_segment_it_was_pressed_in(plan):
    state = show.hold(show.start_show(plan, t("10:05")), t("10:06"))
    # Moving between cues of the held segment keeps the hold: it is still running long.
    state = show.next_cue(state, t("10:07"))
    assert (state.segment.id, state.current_cue.id, state.held) == ("one", "figure", True)
    # Leaving it releases the hold: the next segment follows the clock again.
    state = show.jump(state, t("11:06"), segment_id="two")
    assert (state.phase, state.segment.id, state.held, state.held_since) == ("live", "two", False, None)
    assert show.next_transition(state) == t("12:00")


def test_next_out_of_a_held_segment_releases_the_hold(plan):
    state = show.hold(show.start_show(plan, t("10:55")), t("10:55"))
    state = show.advance(state, t("11:40"))  # held over time, past the next start
    state = show.next_cue(state, t("11:41"))
    assert (state.phase, state.segment.id, state.held) == ("live", "two", False)
    assert show.advance(state, t("12:00")).phase == "ended"


def test_starting_a_held_wait_releases_the_hold(plan):
    state = show.hold(show.start_show(plan, t("09:55")), t("09:55"))
    state = show.start_now(state, t("09:58"))
    assert (state.phase, state.held) == ("live", False)
    state = show.hold(
        show.previous_cue(show.jump(state, t("10:40"), segment_id="two"), t("10:41")), t("10:42")
    )
    assert (state.segment.id, state.held) == ("one", True)
    state = show.previous_cue(show.jump(state, t("10:43"), cue_id="storm"), t("10:44"))
    assert state.held is False


def test_extend_without_shifting_the_rest(plan):
    state = show.start_show(plan, t("10:30"))
    state = show.extend(state, t("10:30"), 10)
    assert state.segments[0].planned_end == t("11:10")
    assert state.segments[1].planned_start == t("11:30")
    assert show.advance(state, t("11:05")).phase == "live"
    state = show.advance(state, t("11:10"))
    assert (state.phase, state.segment.id) == ("gap", "two")


def test_extend_past_the_next_start_delays_it_without_moving_its_plan(plan):
    state = show.extend(show.start_show(plan, t("10:30")), t("10:30"), 40)
    state = show.advance(state, t("11:40"))
    two = state.segments[1]
    assert (state.phase, state.segment.id) == ("live", "two")
    assert (two.planned_start, two.actual_start, two.planned_end) == (t("11:30"), t("11:40"), t("12:00"))


def test_extend_shifting_the_rest_of_the_day(plan):
    state = show.extend(show.start_show(plan, t("10:30")), t("10:30"), 15, shift_rest=True)
    one, two = state.segments
    assert one.planned_end == t("11:15")
    assert (two.planned_start, two.planned_end) == (t("11:45"), t("12:15"))
    assert two.cues[0].planned == t("11:45")
    assert show.advance(state, t("11:44")).phase == "gap"
    assert show.advance(state, t("11:45")).segment.actual_start == t("11:45")


def test_shorten_and_its_limits(plan):
    state = show.start_show(plan, t("10:30"))
    shorter = show.extend(state, t("10:30"), -20, shift_rest=True)
    assert shorter.segments[0].planned_end == t("10:40")
    assert shorter.segments[1].planned_start == t("11:10")
    with pytest.raises(CommandRejected, match="in the past"):
        show.extend(state, t("10:30"), -45)
    with pytest.raises(CommandRejected, match="no segment is on air"):
        show.extend(show.start_show(plan, t("09:00")), t("09:00"), 5)
    with pytest.raises(CommandRejected, match="minutes"):
        show.extend(state, t("10:30"), 0)


def test_next_and_previous_step_through_cues_and_segments(plan):
    state = show.start_show(plan, t("10:01"))
    state = show.next_cue(state, t("10:02"))
    assert state.current_cue.id == "figure"
    assert state.segments[0].cues[1].actual == t("10:02")
    assert state.graphics["card"].cue == "figure"

    state = show.previous_cue(state, t("10:03"))
    assert state.current_cue.id == "hello"
    assert state.segments[0].cues[1].actual is None
    assert "card" not in state.graphics

    state = show.next_cue(show.next_cue(show.next_cue(state, t("10:04")), t("10:05")), t("10:06"))
    # Past the last cue, the next segment starts now, early.
    assert (state.phase, state.segment.id, state.segment.actual_start) == ("live", "two", t("10:06"))
    assert state.segments[0].actual_end == t("10:06")
    assert state.segment.planned_end == t("12:00")

    state = show.previous_cue(state, t("10:07"))
    assert (state.segment.id, state.segments[1].actual_start) == ("one", None)
    assert state.segments[0].actual_end is None
    assert state.current_cue.id == "reminder"


def test_a_producer_move_back_is_not_undone_by_the_clock(plan):
    state = show.start_show(plan, t("11:40"))
    assert state.segment.id == "two"
    state = show.jump(state, t("11:41"), segment_id="one")
    assert (state.phase, state.segment.id) == ("live", "one")
    assert state.segment.actual_start == t("10:00")  # the first time it went on air
    assert state.segments[1].actual_end == t("11:41")
    # Its end (11:00) passed before the move: it runs over-time until a producer moves on.
    assert show.advance(state, t("11:50")).segment.id == "one"
    assert show.next_transition(state) is None
    state = show.next_cue(state, t("11:51"))
    assert state.current_cue.id == "hello"


def test_jump_to_a_cue_and_errors(plan):
    state = show.start_show(plan, t("09:00"))
    state = show.jump(state, t("09:10"), cue_id="figure")
    assert (state.phase, state.segment.id, state.current_cue.id) == ("live", "one", "figure")
    with pytest.raises(CommandRejected, match="no cue with id 'nope'"):
        show.jump(state, t("09:11"), cue_id="nope")
    with pytest.raises(CommandRejected, match="no segment with id 'nope'"):
        show.jump(state, t("09:11"), segment_id="nope")
    with pytest.raises(CommandRejected, match="exactly one"):
        show.jump(state, t("09:11"))


def test_take_and_clear_graphics(plan):
    state = show.start_show(plan, t("09:00"))
    state = show.take(state, t("09:01"), "storm")
    assert state.graphics["cta"].cue == "storm" and state.graphics["cta"].until is None
    state = show.take(state, t("09:02"), "figure")
    assert set(state.graphics) == {"cta", "card"}
    assert show.clear(state, t("09:03"), "card").graphics.keys() == {"cta"}
    assert show.clear(state, t("09:03")).graphics == {}
    with pytest.raises(CommandRejected, match="not a graphic"):
        show.take(state, t("09:04"), "reminder")
    with pytest.raises(CommandRejected, match="unknown graphics slot"):
        show.clear(state, t("09:04"), "banner")


def test_start_now_and_the_end_of_the_show(plan):
    state = show.start_show(plan, t("11:10"))
    assert state.phase == "gap"
    state = show.start_now(state, t("11:10"))
    assert (state.segment.id, state.segment.actual_start) == ("two", t("11:10"))
    with pytest.raises(CommandRejected, match="already on air"):
        show.start_now(state, t("11:11"))
    state = show.advance(state, t("12:00"))
    assert state.phase == "ended"
    with pytest.raises(CommandRejected, match="ended"):
        show.next_cue(state, t("12:01"))
    back = show.previous_cue(state, t("12:02"))
    assert (back.phase, back.segment.id, back.segment.actual_end) == ("live", "two", None)


def test_reset_returns_to_the_plan(plan):
    state = show.extend(show.start_show(plan, t("10:30")), t("10:30"), 30, shift_rest=True)
    state = show.hold(state, t("10:31"))
    state.version = 7
    fresh = show.reset(state, plan, t("10:32"))
    assert fresh.version == 7
    assert not fresh.held
    assert fresh.segments[1].planned_start == t("11:30")
    assert (fresh.phase, fresh.segment.actual_start) == ("live", t("10:00"))


def test_a_dst_change_day_counts_real_time():
    spring = small_day(
        day="2022-03-13",
        segments="""
  - {id: night, title: Night, kind: other, start: "01:30", end: "03:30"}
  - {id: dawn, title: Dawn, kind: other, start: "03:30", duration: 1h}
""",
    ).plan
    night, _dawn = spring.segments
    assert night.end_ms - night.start_ms == minutes(60)  # 01:30 EST to 03:30 EDT
    state = show.start_show(spring, night.start_ms + minutes(59))
    assert state.segment.id == "night" and remaining(state, night.start_ms + minutes(59)) == minutes(1)
    assert show.advance(state, night.start_ms + minutes(60)).segment.id == "dawn"

    autumn = small_day(
        day="2022-11-06",
        segments="""
  - {id: long, title: Long, kind: other, start: "00:30", end: "02:00"}
""",
    ).plan
    assert autumn.segments[0].end_ms - autumn.segments[0].start_ms == minutes(150)


def test_a_show_crossing_midnight():
    plan = small_day(
        day="2022-12-31",
        segments="""
  - {id: countdown, title: Countdown, kind: livestream, start: "23:30", end: "2023-01-01 00:30"}
  - {id: after, title: After, kind: other, start: "2023-01-01 00:45", duration: 15m}
""",
    ).plan
    state = show.start_show(plan, at("2023-01-01 00:10"))
    assert (state.phase, state.segment.id) == ("live", "countdown")
    assert remaining(state, at("2023-01-01 00:10")) == minutes(20)
    state = show.advance(state, at("2023-01-01 00:31"))
    assert (state.phase, state.segment.id) == ("gap", "after")
    assert show.advance(state, at("2023-01-01 01:00")).phase == "ended"


def test_the_event_zone_not_the_server_zone_decides_the_instants(monkeypatch):
    expected = at("2022-03-03 11:30")
    assert expected == 1646325000000  # 16:30 UTC
    for server_zone in ("Asia/Tokyo", "Pacific/Kiritimati", "UTC"):
        monkeypatch.setenv("TZ", server_zone)
        time.tzset()
        try:
            schedule = cnc()
            assert schedule.plan.segments[0].start_ms == expected
            state = show.start_show(schedule.plan, expected + minutes(1))
            assert state.segment.id == "livestream"
        finally:
            monkeypatch.delenv("TZ")
            time.tzset()
    assert os.environ.get("TZ") is None


def test_a_berlin_day_is_planned_in_berlin():
    plan = small_day(zone="Europe/Berlin").plan
    assert plan.segments[0].start_ms == at("2022-03-03 09:00", zone=ZoneInfo("UTC"))


def test_extending_a_segment_that_runs_over_gives_time_from_now(plan):
    state = show.hold(show.start_show(plan, t("10:30")), t("10:30"))
    state = show.advance(state, t("11:10"))  # ten minutes over
    state = show.extend(state, t("11:10"), 5, shift_rest=True)
    assert state.segments[0].planned_end == t("11:15")
    # The rest of the day moves by what the end moved: 15 minutes.
    assert state.segments[1].planned_start == t("11:45")
    state = show.resume(state, t("11:11"))
    assert (state.phase, state.segment.id) == ("live", "one")
    assert show.advance(state, t("11:15")).phase == "gap"


def test_segments_that_passed_during_a_hold_are_skipped_not_aired_for_no_time(plan):
    state = show.hold(show.start_show(plan, t("10:30")), t("10:30"))
    state = show.resume(state, t("12:10"))
    assert state.phase == "ended"
    two = state.segments[1]
    assert (two.actual_start, two.actual_end) == (None, None)
    assert state.segments[0].actual_end == t("12:10")
    # A producer can still put it on air; it runs over-time until they move on.
    back = show.jump(state, t("12:11"), segment_id="two")
    assert (back.phase, back.segment.id, back.segment.actual_start) == ("live", "two", t("12:11"))
    assert show.advance(back, t("12:30")).segment.id == "two"
