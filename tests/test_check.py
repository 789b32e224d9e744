"""`eventrunner check`: shipped schedules pass; broken ones get FILE:LINE: messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from eventrunner.core.schedule import ScheduleError, parse_schedule

from .builders import CNC, FREE_THEM_ALL, REPO


def check(*files: Path | str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventrunner.cli", "check", *map(str, files)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
        check=False,
    )


def test_the_shipped_schedules_pass():
    result = check(*sorted((REPO / "schedules").glob("*.yaml")))
    assert result.returncode == 0, result.stdout
    assert f"{CNC.relative_to(REPO)}: ok (3 segments)" in result.stdout.replace(str(REPO) + "/", "")
    assert "ok (1 segments)" in result.stdout


def test_the_shipped_days_carry_the_organizers_program():
    from eventrunner.core.schedule import load_schedule

    from .builders import at, cnc

    plan = cnc().plan
    assert [(s.id, s.start_ms, s.end_ms) for s in plan.segments] == [
        ("livestream", at("2022-03-03 11:30"), at("2022-03-03 12:30")),
        ("digital-action-hour", at("2022-03-03 13:00"), at("2022-03-03 14:00")),
        ("twitterstorm", at("2022-03-03 14:00"), at("2022-03-03 15:00")),
    ]
    free = load_schedule(FREE_THEM_ALL)
    assert free.model.event.date.isoformat() == "2020-04-01"
    assert "[CITY/TOWN]" in free.model.segments[0].email.body


BROKEN = """\
event:
  title: Broken day
  timezone: America/Nowhere
  date: 2022-03-03
  colour: red
segments:
  - id: a
    title: A
    kind: livestream
    start: "11:30"
    end: "11:00"
  - id: b
    title: 5
    kind: party
    start: "25:00"
    duration: 30m
  - id: c
    title: C
    kind: break
    start: "12:00"
    duration: soon
    cues:
      - kind: quote
        text: no attribution
"""


def test_a_broken_file_lists_every_problem_with_its_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN)
    result = check(path)
    assert result.returncode == 2
    assert result.stdout.splitlines() == [
        f"{path}:3: event.timezone: unknown time zone 'America/Nowhere' (use an IANA name like America/New_York)",
        f"{path}:5: event.colour: unknown key 'colour'",
        f"{path}:13: segments[1].title: Input should be a valid string",
        f"{path}:14: segments[1].kind: Input should be 'livestream', 'action_hour', 'twitterstorm', "
        "'local_actions', 'email_action', 'call_action', 'break' or 'other'",
        f"{path}:15: segments[1].start: '25:00' is not a valid time of day",
        f"{path}:21: segments[2].duration: 'soon' is not a duration; write it like 45m, 1h30m or 20s",
        f"{path}:23: segments[2].cues[0]: missing key 'attribution'",
    ]


def semantic_problems(segments: str) -> list[str]:
    text = f"event: {{title: T, timezone: America/New_York, date: 2022-03-13}}\nsegments:\n{segments}"
    with pytest.raises(ScheduleError) as raised:
        parse_schedule(text, "day.yaml")
    return raised.value.lines()


def test_time_problems_point_at_their_lines():
    assert semantic_problems("""\
  - {id: a, title: A, kind: other, start: "11:30", end: "11:00"}
  - {id: b, title: B, kind: other, start: "02:30", duration: 30m}
  - {id: c, title: C, kind: other, start: "12:00", duration: 1h}
  - {id: d, title: D, kind: other, start: "12:30", duration: 1h}
  - {id: e, title: E, kind: other, start: "10:00", duration: 1h}
  - {id: c, title: F, kind: other, start: "20:00", end: "21:00", duration: 1h}
""") == [
        "day.yaml:3: segments[0].end: segment 'a' ends before it starts (to cross midnight, write the end "
        "with its date: 2022-03-04 00:30)",
        "day.yaml:4: segments[1].start: 2022-03-13 02:30 does not exist in America/New_York: the clocks "
        "skip it (DST)",
        "day.yaml:6: segments[3].start: segment 'd' overlaps 'c', which is still running then",
        "day.yaml:7: segments[4].start: segments must be listed in time order ('e' starts before 'd')",
        "day.yaml:8: segments[5].id: id 'c' is already used at segments[2]",
        "day.yaml:8: segments[5]: give either 'end' or 'duration' (exactly one)",
    ]


def test_cue_problems_point_at_their_lines():
    assert semantic_problems("""\
  - id: a
    title: A
    kind: livestream
    start: "11:30"
    duration: 30m
    cues:
      - {kind: note, text: later, at: 40m}
      - {kind: note, text: earlier, at: 5m, on_air: 10s}
""") == [
        "day.yaml:9: segments[0].cues[0].at: cue at 40m is not inside the segment (30m long)",
        "day.yaml:10: segments[0].cues[1].at: cues must be listed in time order",
        "day.yaml:10: segments[0].cues[1].on_air: only graphic cues go on air",
    ]


def test_yaml_syntax_and_duplicate_keys(tmp_path):
    for text, expected in [
        ("event: [unclosed\n", ":2: YAML syntax:"),
        ("event: {title: A}\nevent: {title: B}\n", ":2: duplicate key 'event' (first at line 1)"),
        ("- just\n- a list\n", ":1: a schedule is a mapping"),
    ]:
        path = tmp_path / "x.yaml"
        path.write_text(text)
        result = check(path)
        assert result.returncode == 2 and expected in result.stdout, result.stdout


def test_a_missing_file_is_a_problem_not_a_crash(tmp_path):
    result = check(tmp_path / "nope.yaml")
    assert result.returncode == 2 and "cannot read the file" in result.stdout


def test_hostile_files_get_problems_not_tracebacks(tmp_path):
    cases = {
        "far.yaml": (
            "event: {title: T, timezone: Asia/Tokyo, date: 0001-01-01}\n"
            "segments: [{id: a, title: A, kind: other, start: '00:30', duration: 1h}]\n",
            ":2: segments[0].start: 0001-01-01 is not a date eventrunner plans for (1970 to 2100)",
        ),
        "deep.yaml": ("a: " + "[" * 5000 + "]" * 5000 + "\n", ":1: YAML: nested too deeply"),
        "long.yaml": (
            "event: {title: T, timezone: UTC, date: 2022-03-03}\n"
            "segments: [{id: a, title: A, kind: other, start: '00:30', duration: 2000000000h}]\n",
            ":2: segments[0].duration: '2000000000h' is longer than a week",
        ),
        "bool.yaml": (
            "event: {title: T, timezone: UTC, date: 2022-03-03}\n"
            "segments: [{id: a, title: A, kind: other, start: '00:30', duration: true}]\n",
            ":2: segments[0].duration: a duration is written like 45m, 1h30m or 20s",
        ),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        result = check(path)
        assert (result.returncode, result.stderr) == (2, ""), (name, result.stderr)
        assert result.stdout.strip() == f"{path}{expected}", name


def test_time_placeholders_name_segments_and_braces_are_escaped(tmp_path):
    path = tmp_path / "placeholders.yaml"
    path.write_text("""\
event:
  title: Placeholders
  timezone: America/New_York
  date: 2022-03-03
  summary: "The storm starts at {start:storm}; {{braces}} stay braces."
segments:
  - id: stream
    title: "Until {end:stream}"
    kind: livestream
    start: "11:30"
    end: "12:30"
    description: >-
      Then the storm at
      {start:strom}.
    cues:
      - {kind: cta, text: "At {begin:storm}: tweet"}
      - {kind: quote, text: "a {lone brace", attribution: "x}"}
  - id: storm
    title: Storm
    kind: twitterstorm
    start: "14:00"
    duration: 1h
    sample_posts: ["Now! {start:stream}", "{start:nowhere}"]
""")
    result = check(path)
    assert result.returncode == 2
    help_ = "write {start:SEGMENT_ID} or {end:SEGMENT_ID}, and {{ or }} for a literal brace"
    assert result.stdout.splitlines() == [
        f"{path}:12: segments[0].description: {{start:strom}} names no segment (there are: stream, storm)",
        f"{path}:16: segments[0].cues[0].text: '{{begin:storm}}' is not a placeholder; {help_}",
        f"{path}:17: segments[0].cues[1].text: a lone '{{'; {help_}",
        f"{path}:17: segments[0].cues[1].attribution: a lone '}}'; {help_}",
        f"{path}:23: segments[1].sample_posts[1]: {{start:nowhere}} names no segment (there are: stream, storm)",
    ]


def test_the_shipped_day_announces_times_with_placeholders():
    from .builders import cnc

    texts = [c.text for s in cnc().model.segments for c in s.cues if c.kind == "cta"]
    assert "Next at {start:digital-action-hour}: the National Digital Action Hour. Register now." in texts
    assert "At {start:twitterstorm}: tweet #CommunitiesNotCages as many times as you can." in texts
