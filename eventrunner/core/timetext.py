"""Instants as text in the event's zone, and the time placeholders of schedule text.

Schedule text may say `{start:SEGMENT_ID}` or `{end:SEGMENT_ID}`; the documents clients
see carry it as that segment's planned time, e.g. "1:00 PM EST", so a shifted day (the
demo, or a producer moving the rest of the day) never announces stale times. As in
Python's str.format, `{{` and `}}` are a literal brace and any other brace is an error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from babel.dates import format_time

from eventrunner.core.yamlsource import quoted

# The schedule keys whose strings are prose for people (and so may hold placeholders);
# ids, kinds, times, URLs and hashtags never do.
TEXT_KEYS = frozenset(
    {
        "title",
        "summary",
        "organizers",
        "demands",
        "description",
        "label",
        "name",
        "role",
        "figure",
        "text",
        "attribution",
        "source",
        "notes",
        "recipients",
        "subject",
        "body",
        "sample_posts",
    }
)

_TOKEN = re.compile(r"\{\{|\}\}|\{[^{}]*\}|[{}]")
_PLACEHOLDER = re.compile(r"\{(start|end):([a-z0-9][a-z0-9-]{0,63})\}")
_HELP = "write {start:SEGMENT_ID} or {end:SEGMENT_ID}, and {{ or }} for a literal brace"

Path = tuple[Any, ...]  # where a value sits: ("segments", 2, "cues", 0, "text")
Times = Mapping[str, tuple[int, int]]  # segment id -> (planned start, planned end), epoch ms


@lru_cache(maxsize=32)
def zone_of(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def local_time(ms: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(zone)


def zone_label(local: datetime) -> str:
    """'EST'; zones without a letter abbreviation name their offset: 'UTC-03'."""
    name = local.tzname() or ""
    return f"UTC{name}" if name[:1] in ("+", "-") else name


def clock_time(ms: int, zone: ZoneInfo, language: str = "en") -> str:
    """'1:00 PM', or '13:00' in Spanish (CLDR's short time, from Babel)."""
    # CLDR puts a narrow no-break space before AM/PM; browsers before Chromium 110 (OBS)
    # print a plain space, and the page's own scripts rewrite these times.
    return format_time(local_time(ms, zone), format="short", locale=language).replace("\u202f", " ")


def event_time(ms: int, zone: ZoneInfo, language: str = "en") -> str:
    """'1:00 PM EST', '13:00 EST' in Spanish."""
    return f"{clock_time(ms, zone, language)} {zone_label(local_time(ms, zone))}".rstrip()


def iso_datetime(ms: int, zone: ZoneInfo) -> str:
    """ISO 8601 with the zone's offset, for <time datetime>: 2022-03-03T11:30:00-05:00."""
    text = local_time(ms, zone).isoformat(timespec="seconds")
    return text.removesuffix("+00:00") + "Z" if text.endswith("+00:00") else text


@dataclass(frozen=True)
class Placeholder:
    edge: Literal["start", "end"]
    segment: str


class BadPlaceholder(ValueError):
    pass


def parse(text: str) -> list[str | Placeholder]:
    """Literal runs and placeholders, in order. Raises BadPlaceholder for a stray brace."""
    parts: list[str | Placeholder] = []
    done = 0
    for token in _TOKEN.finditer(text):
        parts.append(text[done : token.start()])
        done = token.end()
        found = token.group()
        if found in ("{{", "}}"):
            parts.append(found[0])
        elif match := _PLACEHOLDER.fullmatch(found):
            parts.append(Placeholder(match[1], match[2]))  # type: ignore[arg-type]
        elif len(found) == 1:
            raise BadPlaceholder(f"a lone '{found}'; {_HELP}")
        else:
            raise BadPlaceholder(f"{quoted(found)} is not a placeholder; {_HELP}")
    parts.append(text[done:])
    return [part for part in parts if part != ""]


SHOWN_IDS = 10  # segment ids a problem lists; a day may have hundreds


def problems(text: str, segment_ids: Collection[str]) -> list[str]:
    """What is wrong with the placeholders of `text`: a stray brace, or each distinct
    placeholder naming no segment."""
    try:
        parts = parse(text)
    except BadPlaceholder as error:
        return [str(error)]
    known = set(segment_ids)
    listed = ", ".join(list(segment_ids)[:SHOWN_IDS]) + (", …" if len(known) > SHOWN_IDS else "")
    unknown = dict.fromkeys(
        part for part in parts if isinstance(part, Placeholder) and part.segment not in known
    )
    return [f"{{{part.edge}:{part.segment}}} names no segment (there are: {listed})" for part in unknown]


def referenced(text: str) -> set[str]:
    """The segment ids a (valid) text refers to; an invalid text refers to none."""
    try:
        return {part.segment for part in parse(text) if isinstance(part, Placeholder)}
    except BadPlaceholder:
        return set()


def render(text: str, times: Times, zone: ZoneInfo, language: str = "en") -> str:
    """The text with its placeholders as times. The schedule check has refused bad texts;
    should one reach a live show anyway, it is shown as written rather than failing."""
    if "{" not in text and "}" not in text:
        return text
    try:
        parts = parse(text)
    except BadPlaceholder:
        return text
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part.segment in times:
            start, end = times[part.segment]
            out.append(event_time(start if part.edge == "start" else end, zone, language))
        else:
            out.append(f"{{{part.edge}:{part.segment}}}")
    return "".join(out)


def map_texts(value: Any, apply: Callable[[str, str], str], text: bool = False, language: str = "en") -> Any:
    """A copy of JSON-like `value` with `apply(string, language)` on every string under a
    TEXT_KEYS key (directly or in a list), the language being the one of the
    `translations` it is in; everything else is kept as it is."""
    if isinstance(value, dict):
        return {
            key: (
                {code: map_texts(texts, apply, False, code) for code, texts in item.items()}
                if key == "translations" and isinstance(item, dict)
                else map_texts(item, apply, key in TEXT_KEYS, language)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [map_texts(item, apply, text, language) for item in value]
    return apply(value, language) if text and isinstance(value, str) else value


def texts(value: Any, path: Path = (), text: bool = False) -> Iterator[tuple[Path, str]]:
    """Every (path, string) that `map_texts` would apply to."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from texts(item, (*path, key), key in TEXT_KEYS)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from texts(item, (*path, index), text)
    elif text and isinstance(value, str):
        yield path, value
