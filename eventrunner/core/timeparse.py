"""Parsing of the time notations schedule authors write: durations and local times."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from eventrunner.core.yamlsource import quoted

# ASCII digits only: \d would take other scripts' digits ("١٢:٣٠") as times.
_DURATION = re.compile(r"^(?:(?P<h>\d+)h)?\s*(?:(?P<m>\d+)m)?\s*(?:(?P<s>\d+)s)?$", re.ASCII)
_CLOCK = re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?$", re.ASCII)
_LOCAL_DATETIME = re.compile(r"^(?P<d>\d{4}-\d{2}-\d{2})[ T](?P<t>\d{1,2}:\d{2}(?::\d{2})?)$", re.ASCII)
MAX_DURATION_TEXT = 40


MAX_DURATION_MS = 7 * 24 * 3600 * 1000


def parse_duration_ms(value: str | int) -> int:
    """'1h30m', '45m', '20s' or a bare number of minutes -> milliseconds (at most a week)."""
    if isinstance(value, bool):
        raise ValueError("a duration is written like 45m, 1h30m or 20s")
    if isinstance(value, int):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        ms = value * 60_000
    else:
        text = value.strip()
        match = _DURATION.match(text) if len(text) <= MAX_DURATION_TEXT else None
        if not match or not any(match.groupdict().values()):
            raise ValueError(f"{quoted(value)} is not a duration; write it like 45m, 1h30m or 20s")
        hours, minutes, seconds = (int(match[g] or 0) for g in ("h", "m", "s"))
        ms = ((hours * 60 + minutes) * 60 + seconds) * 1000
    if ms > MAX_DURATION_MS:
        raise ValueError(f"{quoted(value)} is longer than a week")
    return ms


def parse_clock(text: str) -> time:
    match = _CLOCK.match(text.strip())
    if not match:
        raise ValueError(f"{quoted(text)} is not a time of day; write it like 11:30 or 14:05:30")
    hour, minute, second = int(match["h"]), int(match["m"]), int(match["s"] or 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{quoted(text)} is not a valid time of day")
    return time(hour, minute, second)


def parse_local(text: str, on_date: date) -> datetime:
    """'11:30' (on the event's date) or '2022-03-04 00:30' -> a naive local datetime."""
    text = text.strip()
    match = _LOCAL_DATETIME.match(text)
    if match:
        try:
            day = date.fromisoformat(match["d"])
        except ValueError as error:
            raise ValueError(f"'{match['d']}' is not a valid date") from error
        return datetime.combine(day, parse_clock(match["t"]))
    return datetime.combine(on_date, parse_clock(text))


def to_epoch_ms(local: datetime, zone: ZoneInfo) -> int:
    """A wall-clock time in `zone` -> epoch ms; refuses times a DST change skips.

    Times a DST change repeats (the fall-back hour) take their first occurrence.
    """
    if not 1970 <= local.year <= 2100:
        raise ValueError(f"{local.date().isoformat()} is not a date eventrunner plans for (1970 to 2100)")
    aware = local.replace(tzinfo=zone, fold=0)
    round_trip = aware.astimezone(ZoneInfo("UTC")).astimezone(zone)
    if round_trip.replace(tzinfo=None) != local:
        raise ValueError(f"{local:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks skip it (DST)")
    return int(aware.timestamp() * 1000)


def format_duration(ms: int) -> str:
    minutes, seconds = divmod(abs(ms) // 1000, 60)
    hours, minutes = divmod(minutes, 60)
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    text += f"{seconds}s" if seconds or not text else ""
    return ("-" if ms < 0 else "") + text


def instant_ms(text: str) -> int:
    """An RFC 3339 instant from outside ("2026-10-15T18:00:05.000Z", or with an offset) as
    epoch ms; ValueError for one without an offset (whose time would it be?)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no offset")
    return int(moment.timestamp() * 1000)
