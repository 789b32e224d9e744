"""`eventrunner check`: shipped schedules pass; broken ones get FILE:LINE: messages."""

from __future__ import annotations

import os
import subprocess
import sys
import time
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
        "deep.yaml": (
            "a: " + "[" * 5000 + "]" * 5000 + "\n",
            ":1: YAML: nested too deeply (more than 64 levels)",
        ),
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


# --- hostile files: each is refused with FILE:LINE, quickly, and never stops the next file ---

DAY = "event: {title: T, timezone: UTC, date: 2022-03-03}\n"


def alias_bomb(cue: str = "{kind: note, text: hi}", cues: int = 200, segments: int = 1500) -> str:
    """12 KB: segments aliasing one segment whose cues alias one cue, 300,000 cues expanded."""
    listed = ", ".join([f"&cue {cue}"] + ["*cue"] * cues)
    segment = f'{{id: a, title: A, kind: other, start: "10:00", duration: 1h, cues: [{listed}]}}'
    return DAY + "segments: [" + ", ".join([f"&seg {segment}"] + ["*seg"] * segments) + "]\n"


@pytest.mark.parametrize(
    "cue", ["{kind: note, text: hi}", '{id: same, kind: quote, text: "{start:nowhere}", at: 2h}']
)
def test_an_alias_bomb_is_refused_fast_with_one_line(tmp_path, cue):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb(cue))
    assert path.stat().st_size < 13_000
    began = time.monotonic()
    result = check(path)
    assert time.monotonic() - began < 10  # it took 24 s and 2.4 GB (the variant printed a million lines)
    assert (result.returncode, result.stderr) == (2, "")
    assert result.stdout.splitlines() == [
        f"{path}:2: YAML: too big, more than 10000 values by this line "
        "(an alias counts all it repeats, each time it is used)"
    ]


def test_reports_stop_after_a_hundred_problems_with_a_count_of_the_rest(tmp_path):
    path = tmp_path / "many.yaml"
    # Under the size limit, but every one of 150 segments has an unknown key.
    segments = "".join(
        f'  - {{id: s{n}, title: S, kind: other, start: "{n // 60:02}:{n % 60:02}", duration: 1m, colour: red}}\n'
        for n in range(150)
    )
    path.write_text(DAY + "segments:\n" + segments)
    result = check(path)
    lines = result.stdout.splitlines()
    assert result.returncode == 2 and len(lines) == 101
    assert lines[0] == f"{path}:3: segments[0].colour: unknown key 'colour'"
    assert lines[99] == f"{path}:102: segments[99].colour: unknown key 'colour'"
    assert lines[100] == f"{path}:103: ... and 50 more problems"


def test_tags_numbers_and_aliases_that_used_to_crash_are_problems(tmp_path):
    cases = {
        "int.yaml": (
            DAY
            + "segments: [{id: a, title: A, kind: other, start: '10:00', duration: "
            + "9" * 4301
            + "}]\n",
            ":2: a number of 4301 characters is too long (quote it if it is text)",
        ),
        "timestamp.yaml": (
            "event: {title: T, timezone: UTC, date: !!timestamp 2022-02-30}\n",
            ":1: YAML: the tag '!!timestamp' is not allowed; write plain values",
        ),
        "bool.yaml": ("event: !!bool maybe\n", ":1: 'maybe' is not a valid !!bool"),
        "seq.yaml": ("event: !!seq {a: 1}\n", ":1: YAML: !!seq is for a list"),
        "python.yaml": (
            "event: !!python/object:os.system ls\n",
            ":1: YAML: the tag '!!python/object:os.system' is not allowed; write plain values",
        ),
        "recursive.yaml": ("a: &a\n  - b\n  - *a\n", ":3: YAML: alias '*a' is inside its own anchor"),
        "undecodable.yaml": (b"event:\n  title: caf\xe9\n", ":2: the file is not UTF-8 text (byte 0xe9)"),
        "control.yaml": ("event:\n  title: \x07\n", ":2: YAML: the character #x0007 is not allowed"),
        "newline-key.yaml": ('"a\\nb\\u001b[2J": 1\n', ":1: missing key 'event'"),
    }
    for name, (content, expected) in cases.items():
        path = tmp_path / name
        (path.write_bytes if isinstance(content, bytes) else path.write_text)(content)
        result = check(path)
        assert (result.returncode, result.stderr) == (2, ""), (name, result.stderr)
        assert result.stdout.splitlines()[0] == f"{path}{expected}", name
    # A key with a newline and a terminal escape stays on its line, escaped.
    assert (
        f"{tmp_path / 'newline-key.yaml'}:1: ['a\\nb\\x1b[2J']: unknown key 'a\\nb\\x1b[2J'" in result.stdout
    )


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs FIFOs and /dev/zero")
def test_special_missing_and_huge_files_are_refused_before_reading(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)  # opening it for reading would wait for a writer forever
    huge = tmp_path / "huge.yaml"
    huge.write_bytes(b"# " + b"x" * (1 << 20) + b"\n")
    result = check("/dev/zero", fifo, tmp_path, tmp_path / "nope.yaml", huge)
    assert (result.returncode, result.stderr) == (2, "")
    assert result.stdout.splitlines() == [
        "/dev/zero:1: cannot read the file: it is a character device, not a schedule file",
        f"{fifo}:1: cannot read the file: it is a named pipe (FIFO), not a schedule file",
        f"{tmp_path}:1: cannot read the file: it is a directory, not a schedule file",
        f"{tmp_path / 'nope.yaml'}:1: cannot read the file: No such file or directory",
        f"{huge}:1: the file is larger than 1 MiB; a schedule is a few KB",
    ]


def test_a_broken_file_never_stops_the_next_one(tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("a: " + "9" * 4301 + "\n")  # was a traceback that ended the check
    result = check(broken, "/dev/zero", tmp_path, CNC)
    assert (result.returncode, result.stderr) == (2, "")
    lines = result.stdout.replace(str(REPO) + "/", "").splitlines()
    assert len(lines) == 4 and lines[0].startswith(f"{broken}:1: ")
    assert lines[-1] == f"{CNC.relative_to(REPO)}: ok (3 segments)"


@pytest.mark.slow
def test_serve_reports_the_same_problems_and_exits_2(tmp_path):
    path = tmp_path / "bomb.yaml"
    path.write_text(alias_bomb())
    for schedule in (path, "/dev/zero"):
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "eventrunner.cli",
                "serve",
                str(schedule),
                "--data-dir",
                str(tmp_path / "data"),
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=60,
            check=False,
        )
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert result.stderr.splitlines() == check(schedule).stdout.splitlines()
