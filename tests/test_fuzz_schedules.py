"""Fuzzing schedule files, which are untrusted: whatever a file holds, `load_schedule` (what
`check` and `serve` use) returns a Schedule or raises ScheduleError whose every line is
`FILE:LINE: message`, never anything else, and within DEADLINE per file.

The inputs: mutations of the shipped days, random YAML documents and schedule-shaped ones,
documents that share parts (so they are written with anchors and aliases, some expanding
past the loader's limit), explicit tags, and raw bytes.
"""

from __future__ import annotations

import re
import string
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import event, given, settings
from hypothesis import strategies as st

from eventrunner.core.schedule import MAX_REPORTED, Schedule, ScheduleError, load_schedule

from .builders import REPO

DEADLINE = timedelta(seconds=2)
SHIPPED = [path.read_text(encoding="utf-8") for path in sorted((REPO / "schedules").glob("*.yaml"))]


def fuzz(examples: int) -> settings:
    # No example database: the suite must not write into the source tree.
    return settings(max_examples=examples, deadline=DEADLINE, database=None)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def assert_loads_or_reports(directory: Path, content: str | bytes) -> None:
    """The property: a Schedule, or a ScheduleError of well-formed, bounded lines."""
    path = directory / "day.yaml"
    data = content if isinstance(content, bytes) else content.encode("utf-8", "surrogatepass")
    path.write_bytes(data)
    try:
        schedule = load_schedule(path)
    except ScheduleError as error:
        lines = error.lines()
        event("refused")
        assert 1 <= len(lines) <= MAX_REPORTED + 1
        last_line = len(data.decode("utf-8", "replace").splitlines()) + 1  # YAML counts fewer breaks
        shape = re.compile(rf"{re.escape(str(path))}:(\d+): \S.*")
        for line in lines:
            match = shape.fullmatch(line)
            assert match and line.isprintable(), line
            assert 1 <= int(match[1]) <= last_line, (line, last_line)
    else:
        event("loaded")
        assert isinstance(schedule, Schedule) and schedule.plan.segments


# --- mutations of the shipped days ----------------------------------------------------

# fmt: off
TOKENS = [
    ":", ": ", "- ", "-", "?", "? ", ",", "[", "]", "{", "}", "#", "'", '"', "|", ">", "&a ", "*a",
    "&b [*a, *a] ", "*b", "!!timestamp ", "!!binary ", "!!set ", "!!omap ", "!!int ", "!!float ",
    "!!bool ", "!!str ", "!!map ", "!!seq ", "!!merge ", "!foo ", "!<tag:x> ", "!!python/object ",
    "<<: ", "\n", "\n  ", "\t", "  ", "\r\n", "---\n", "...\n", "%YAML 1.1\n", "%TAG ! tag:x,\n",
    "\\", "\\x", "\\u12", "\ufeff", "\x85", "\u2028", "\x00", "\x1b[2J", "2022-02-30", "24:00",
    "11:30", "0001-01-01", "9999-12-31 23:59", "1h", "-5m", "9" * 4301, "{start:", "{end:livestream}",
    "{{", "}}", "}", "%", "@", "`", "null", "~", "true", "0x1F", "1e999", ".nan", "1:30:00",
]
# fmt: on


@st.composite
def mutated_day(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SHIPPED))
    for _ in range(draw(st.integers(1, 8))):
        at = draw(st.integers(0, len(text)))
        span = draw(st.integers(0, 200))
        kind = draw(st.sampled_from(["insert", "insert", "delete", "duplicate", "replace", "lines"]))
        if kind == "insert":
            piece = draw(st.sampled_from(TOKENS) | st.text(max_size=12))
            text = text[:at] + piece + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + span :]
        elif kind == "duplicate":
            text = text[: at + span] + text[at : at + span] + text[at + span :]
        elif kind == "replace":
            text = text[:at] + draw(st.sampled_from(TOKENS)) + text[at + draw(st.integers(1, 20)) :]
        else:  # move a run of lines, keeping their indentation: structure without syntax errors
            lines = text.splitlines(keepends=True)
            start = draw(st.integers(0, len(lines) - 1))
            moved = lines[start : start + draw(st.integers(1, 6))]
            del lines[start : start + len(moved)]
            where = draw(st.integers(0, len(lines)))
            text = "".join(lines[:where] + moved + lines[where:])
    return text


@fuzz(200)
@given(text=mutated_day())
def test_mutated_shipped_days(workdir: Path, text: str) -> None:
    assert_loads_or_reports(workdir, text)


# --- random documents ------------------------------------------------------------------

# fmt: off
SCHEDULE_KEYS = [
    "event", "segments", "title", "timezone", "date", "hashtags", "summary", "organizers", "demands",
    "links", "all_day", "id", "kind", "start", "end", "duration", "description", "sample_posts",
    "email", "notes", "cues", "at", "take", "on_air", "name", "role", "figure", "label", "as_of",
    "source", "text", "attribution", "url", "recipients", "subject", "body",
]
TIME_TEXTS = [
    "11:30", "00:00", "23:59:59", "24:00", "9:5", "2022-03-04 00:30", "2022-02-30 10:00",
    "1969-12-31 23:00", "2101-01-01 00:00", "2022-03-13 02:30", "2022-11-06 01:30", "45m", "1h30m",
    "20s", "0m", "168h", "169h", "1h 1m 1s", "soon", "١٢:٣٠", "",
]
WORDS = [
    "livestream", "twitterstorm", "break", "other", "note", "cta", "quote", "stat", "lower_third",
    "manual", "auto", "watch", "UTC", "America/New_York", "Asia/Tokyo", "America", "zone.tab",
    "../etc/passwd", "{start:a}", "{end:b}", "{start:nowhere}", "{{x}}", "{", "a}", "#Tag",
    "https://example.org", "mailto:x@example.org", "a", "b", "a-1",
]
# fmt: on
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=10**29, max_value=10**40)
    | st.floats()
    | st.dates(min_value=date(1, 1, 1))
    | st.sampled_from(TIME_TEXTS + WORDS)
    | st.text(max_size=30)
)
keys = st.sampled_from(SCHEDULE_KEYS) | st.text(max_size=10) | st.integers(-5, 5)
documents = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(keys, inner, max_size=6),
    max_leaves=40,
)
dump_styles = st.fixed_dictionaries(
    {
        "default_flow_style": st.sampled_from([None, True, False]),
        "allow_unicode": st.booleans(),
        "width": st.sampled_from([20, 80, 1000]),
        "explicit_start": st.booleans(),
    }
)


def dumped(data: Any, style: dict[str, Any]) -> str:
    return yaml.safe_dump(data, sort_keys=False, **style)


@fuzz(150)
@given(data=documents, style=dump_styles)
def test_random_documents(workdir: Path, data: Any, style: dict[str, Any]) -> None:
    assert_loads_or_reports(workdir, dumped(data, style))


def mostly(valid: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """Valid nine times in ten, so that many documents get past validation into planning
    and placeholders, and the rest fail there for one or two reasons at a time."""
    # sampled_from, not integers(0, 9): Hypothesis draws integers' end points far more often.
    return st.sampled_from(range(10)).flatmap(lambda n: odd if n == 9 else valid)


prose = st.sampled_from(["Hello", "At {start:a}", "Until {end:a}", "{{literal}}", "x" * 30])
odd = st.sampled_from(WORDS + TIME_TEXTS) | scalars
CUE_FIELDS = {
    "note": ["text"],
    "cta": ["text"],
    "quote": ["text", "attribution"],
    "stat": ["figure", "label", "as_of", "source"],
    "lower_third": ["name"],
}


@st.composite
def cue(draw: st.DrawFn, segment: int, offset: int, ids: list[str]) -> dict[str, Any]:
    kind = draw(mostly(st.sampled_from(sorted(CUE_FIELDS)), st.sampled_from(["party", "", None])))
    fields = {"kind": kind, "at": draw(mostly(st.just(f"{offset}m"), odd))}
    for name in CUE_FIELDS.get(kind, ["text"]):
        valid = st.just("2022-03-03") if name == "as_of" else prose
        fields[name] = draw(mostly(valid, odd))
    optional = {
        "id": mostly(st.just(f"cue-{segment}-{offset}"), st.sampled_from(ids)),
        "take": st.sampled_from(["auto", "manual"]),
        "on_air": odd,
    }
    for name, strategy in optional.items():
        if draw(st.integers(0, 3)) == 0:
            fields[name] = draw(strategy)
    return fields


@st.composite
def schedule_shaped(draw: st.DrawFn) -> dict[str, Any]:
    """Close enough to a day that validation, planning and placeholders all get to run."""
    ids = ["a", *draw(st.lists(mostly(st.sampled_from(["b", "c", "d"]), odd), max_size=3))]
    segments = []
    for n, segment_id in enumerate(ids):
        segment = {
            "id": segment_id,
            "title": draw(mostly(prose, odd)),
            "kind": draw(mostly(st.sampled_from(["livestream", "break", "other"]), odd)),
            "start": draw(mostly(st.just(f"{10 + n}:00"), odd)),
        }
        if draw(st.booleans()):
            segment["end"] = draw(mostly(st.just(f"{10 + n}:45"), odd))
        if "end" not in segment or draw(st.integers(0, 9)) == 0:
            segment["duration"] = draw(mostly(st.sampled_from(["45m", "30m", 40]), odd))
        if draw(st.booleans()):
            segment["sample_posts"] = draw(st.lists(mostly(prose, odd), max_size=3))
        segment["cues"] = [draw(cue(n, 5 * i, ids)) for i in range(draw(st.integers(0, 5)))]
        segments.append(segment)
    header = {
        "title": draw(mostly(prose, odd)),
        "timezone": draw(mostly(st.sampled_from(["UTC", "America/New_York", "Asia/Tokyo"]), odd)),
        "date": draw(mostly(st.dates(min_value=date(1960, 1, 1), max_value=date(2110, 1, 1)), odd)),
    }
    return {"event": header, "segments": segments}


@fuzz(150)
@given(data=schedule_shaped(), style=dump_styles)
def test_schedule_shaped_documents(workdir: Path, data: dict[str, Any], style: dict[str, Any]) -> None:
    assert_loads_or_reports(workdir, dumped(data, style))


# --- anchors and aliases ---------------------------------------------------------------


@st.composite
def shared_structure(draw: st.DrawFn) -> Any:
    """Levels of containers built from the level below, reusing its objects: the dumper
    writes each reused one as an alias, so a few lines can stand for millions of values."""
    level: list[Any] = draw(st.lists(scalars, min_size=1, max_size=4))
    for _ in range(draw(st.integers(1, 8))):
        picks = st.lists(st.sampled_from(level), min_size=1, max_size=draw(st.integers(1, 12)))
        level = [
            draw(picks) if draw(st.booleans()) else {f"k{n}": item for n, item in enumerate(draw(picks))}
            for _ in range(draw(st.integers(1, 3)))
        ]
    return level


@fuzz(60)
@given(shared=shared_structure(), shaped=schedule_shaped(), style=dump_styles)
def test_documents_with_aliases(
    workdir: Path, shared: Any, shaped: dict[str, Any], style: dict[str, Any]
) -> None:
    assert_loads_or_reports(workdir, dumped(shared, style))
    shaped["segments"] = shaped["segments"] * 3 + shared  # the same dicts again: aliased segments
    assert_loads_or_reports(workdir, dumped(shaped, style))


ALIAS_LINES = [
    "a: &a [1, 2, 3]\n",
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n",
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n",
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n",
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
    "f: &f {x: *e, y: *e}\n",
    "r: &r [*r]\n",
    "s: &s {k: *s}\n",
    "u: *undefined\n",
    "t: &t 'text'\n",
    "m: {*t : 1}\n",
    "a: &a twice\n",
]


@fuzz(60)
@given(lines=st.lists(st.sampled_from(ALIAS_LINES), min_size=1, max_size=10))
def test_alias_chains_and_recursive_aliases(workdir: Path, lines: list[str]) -> None:
    assert_loads_or_reports(workdir, "".join(lines))


SEGMENTS = [
    '{id: a, title: A, kind: other, start: "10:00", duration: 1h, cues: %s}',
    '{id: a, title: "{end:b}", kind: party, start: "10:00", end: "09:00", cues: %s}',
]
CUES = [
    "{kind: note, text: hi}",
    '{id: same, kind: note, text: "{start:nowhere}", at: 2h}',
    "{kind: quote, text: no attribution}",
    '{kind: cta, text: "%s"}' % ("{start:x}" * 200),
]


@st.composite
def aliased_day(draw: st.DrawFn) -> str:
    """The alias bomb's shape: segments that alias one segment whose cues alias one cue,
    valid or with problems in every copy, at sizes on both sides of the loader's limit."""
    one = draw(st.sampled_from(CUES))
    cues = "[" + ", ".join([f"&cue {one}"] + ["*cue"] * draw(st.integers(0, 400))) + "]"
    segment = draw(st.sampled_from(SEGMENTS)) % cues
    segments = ", ".join([f"&seg {segment}"] + ["*seg"] * draw(st.integers(0, 400)))
    return f"event: {{title: T, timezone: UTC, date: 2022-03-03}}\nsegments: [{segments}]\n"


@fuzz(60)
@given(text=aliased_day())
def test_days_built_from_aliases(workdir: Path, text: str) -> None:
    assert_loads_or_reports(workdir, text)


# --- tags -----------------------------------------------------------------------------

# fmt: off
TAGS = [
    "!!timestamp", "!!binary", "!!set", "!!omap", "!!pairs", "!!int", "!!float", "!!bool", "!!null",
    "!!str", "!!seq", "!!map", "!!merge", "!!value", "!!python/object:os.system", "!foo", "!",
    "!<tag:yaml.org,2002:int>", "!<tag:example.com,2000:x>",
]
TAGGED_VALUES = [
    "2022-02-30", "2022-03-03", "2022-03-03 10:00:00", "9" * 4301, "1:2:3:4:5:6:7:8:9:0", "0x1F",
    "0b102", "0o9", "maybe", "yes", "abc", "1e999", ".inf", ".nan", "YWJj", "not base64!", "[1, 2]",
    "{a: 1}", "[[a, b]]", "", "~", "'quoted'", '"\\x00"',
]
# fmt: on


@st.composite
def tagged_day(draw: st.DrawFn) -> str:
    """A shipped day with some values replaced by tagged ones."""
    lines = draw(st.sampled_from(SHIPPED)).splitlines(keepends=True)
    for _ in range(draw(st.integers(1, 4))):
        index = draw(st.integers(0, len(lines) - 1))
        head, colon, _ = lines[index].partition(": ")
        tagged = f"{draw(st.sampled_from(TAGS))} {draw(st.sampled_from(TAGGED_VALUES))}"
        lines[index] = f"{head}{colon or ': '}{tagged}\n"
    return "".join(lines)


@fuzz(100)
@given(text=tagged_day())
def test_tagged_values(workdir: Path, text: str) -> None:
    assert_loads_or_reports(workdir, text)


# --- bytes ----------------------------------------------------------------------------


@fuzz(100)
@given(
    data=st.binary(max_size=300)
    | st.builds(
        lambda day, at, junk: day[:at] + junk + day[at:],
        st.sampled_from([text.encode() for text in SHIPPED]),
        st.integers(0, 8000),
        st.binary(min_size=1, max_size=8),
    )
    | st.text(alphabet=st.sampled_from(string.printable + "\x00\x85\u2028\ufeff{}[]&*!"), max_size=300)
)
def test_raw_bytes_and_characters(workdir: Path, data: bytes | str) -> None:
    assert_loads_or_reports(workdir, data)
