"""The day as iCalendar (RFC 5545), and Google Calendar's "add this event" link.

Built from the public show document, not the schedule file: its timing holds each
segment's *current* planned times (a producer's shift, the demo's moved day) and its texts
have their time placeholders filled in. Times are written in the event's own zone with a
VTIMEZONE, so calendar apps show them right wherever the server or the viewer is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard

from eventrunner.core import timetext
from eventrunner.core.languages import translated

Doc = Mapping[str, Any]
PRODID = "-//eventrunner//schedule//EN"
GOOGLE_TEMPLATE = "https://calendar.google.com/calendar/render"
# Google answers an error page to very long addresses; a schedule's description may be
# 20,000 characters, so the link carries its start and the page has the rest.
GOOGLE_DETAILS_MAX = 1500
# SEQUENCE counts minutes from here (see calendar_ics): it fits RFC 5545's 32-bit INTEGER
# for 4,000 years.
SEQUENCE_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
DAY_S = 24 * 3600


def segment_page_url(page_url: str, segment_id: str) -> str:
    """The segment on the participant page (its <li id="segment-...">)."""
    return f"{page_url}#segment-{segment_id}"


def _segment(doc: Doc, segment_id: str) -> Mapping[str, Any]:
    for segment in doc["rundown"]:
        if segment["id"] == segment_id:
            return segment
    raise LookupError(f"no segment with id '{segment_id}' in the schedule")


def _details(segment: Mapping[str, Any], page_url: str, lang: str) -> str:
    description = translated(segment, "description", lang)
    link = segment_page_url(page_url, segment["id"])
    return f"{description}\n\n{link}" if description else link


def _instant(ms: int, zone_name: str) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(timetext.zone_of(zone_name))


def _observance(zone: tzinfo, seconds: int) -> tuple[timedelta, str | None, bool]:
    """The zone's offset, name and whether it is daylight time at a POSIX instant."""
    local = datetime.fromtimestamp(seconds, tz=zone)
    return local.utcoffset() or timedelta(0), local.tzname(), bool(local.dst())


def _transitions(zone: tzinfo, start: int, end: int) -> list[int]:
    """The POSIX instants in (start, end] at which the zone's offset or name changes: a
    look once a day (zones change a few times a year at most), then halving to the second."""
    found = []
    for low in range(start, end, DAY_S):
        high = min(low + DAY_S, end)
        if _observance(zone, low) != _observance(zone, high):
            while high - low > 1:
                middle = (low + high) // 2
                if _observance(zone, middle) == _observance(zone, low):
                    low = middle
                else:
                    high = middle
            found.append(high)
    return found


@lru_cache(maxsize=16)
def _vtimezone(zone_name: str, first_year: int, last_year: int) -> Timezone:
    """The zone over whole years, so both of its rules (standard and daylight time) are in
    it and an app that keeps it reads any instant of the day right. Built here rather than
    by icalendar's Timezone.from_tzinfo, which (7.3) starts a change to daylight time at
    the wall time after it (03:00 for New York): RFC 5545 says an observance's DTSTART is
    local time in the offset before it (TZOFFSETFROM), 02:00, and readers put the change an
    hour late. Cached: the component is only read once built."""
    zone = timetext.zone_of(zone_name)
    start = int(datetime(first_year, 1, 1, tzinfo=zone).timestamp())
    end = int(datetime(last_year + 1, 1, 1, tzinfo=zone).timestamp())
    # The observance the years start in, from the change that began it if there was one
    # within a year (readers take how much daylight time saves from its TZOFFSETFROM),
    # then one for each change.
    found = _transitions(zone, start - 366 * DAY_S, end)
    begun = [at for at in found if at <= start][-1:] or [start]
    observances = []
    for at in begun + [at for at in found if at > start]:
        offset_from = _observance(zone, at - 1)[0]
        offset_to, name, daylight = _observance(zone, at)
        observance = TimezoneDaylight() if daylight else TimezoneStandard()
        # Local time as the clocks showed it just before the change.
        observance.add("dtstart", datetime.fromtimestamp(at, tz=UTC).replace(tzinfo=None) + offset_from)
        observance.add("tzoffsetfrom", offset_from)
        observance.add("tzoffsetto", offset_to)
        if name:
            observance.add("tzname", name)
        observances.append(observance)
    timezone = Timezone(tzid=zone_name)
    timezone.subcomponents = observances
    return timezone


def calendar_ics(doc: Doc, page_url: str, now_ms: int, lang: str, segment_id: str | None = None) -> bytes:
    """Every segment of the day (or only `segment_id`; LookupError if there is none) as
    one VEVENT each, at its planned times in the event's zone. UIDs stay the same across
    versions of the show, and SEQUENCE grows, so an app that imports the file again
    updates its events instead of adding copies."""
    event = doc["event"]
    zone_name = event["timezone"]
    segments = [_segment(doc, segment_id)] if segment_id else list(doc["rundown"])
    timing = doc["timing"]["segments"]
    host = urlsplit(page_url).hostname or "eventrunner"
    stamp = datetime.fromtimestamp(now_ms / 1000, tz=UTC)
    # Apps keep an event they have unless its SEQUENCE is higher. The show's version is
    # not fit: it rises with every graphics take and falls to 1 after --reset. Minutes
    # since a fixed epoch when the file is made rise with every later download (every plan
    # change included) and across resets: a later file always supersedes an earlier one
    # (within the same minute, by its later DTSTAMP).
    sequence = max(0, (stamp - SEQUENCE_EPOCH) // timedelta(minutes=1))

    events = [
        Event.new(
            uid=f"{segment['id']}.{event['date']}@{host}",
            stamp=stamp,
            start=_instant(timing[segment["id"]]["planned_start"], zone_name),
            end=_instant(timing[segment["id"]]["planned_end"], zone_name),
            summary=translated(segment, "title", lang),
            description=_details(segment, page_url, lang),
            url=segment_page_url(page_url, segment["id"]),
            sequence=sequence,
        )
        for segment in segments
    ]
    calendar = Calendar.new(
        prodid=PRODID,
        name=translated(event, "title", lang),
        uid=f"schedule.{event['date']}@{host}",
        url=page_url,
        calscale="GREGORIAN",
        subcomponents=events,
    )
    # UTC needs none: icalendar writes its times as ...Z, without a TZID.
    if calendar.get_missing_tzids():
        years = [e.start.year for e in events] + [e.end.year for e in events]
        # First, for readers that expect a zone before the events that name it.
        calendar.subcomponents.insert(0, _vtimezone(zone_name, min(years), max(years)))
    return calendar.to_ical()


def _utc_text(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y%m%dT%H%M%SZ")


def google_calendar_link(doc: Doc, segment_id: str, page_url: str, lang: str) -> str:
    """Google Calendar's form for a new event, filled in with the segment (LookupError
    if there is none): instants in UTC, shown in the event's zone (`ctz`)."""
    segment = _segment(doc, segment_id)
    planned = doc["timing"]["segments"][segment_id]
    details = _details(segment, page_url, lang)
    if len(details) > GOOGLE_DETAILS_MAX:
        link = segment_page_url(page_url, segment_id)
        details = details[: GOOGLE_DETAILS_MAX - len(link) - 3].rstrip() + "…\n\n" + link
    query = {
        "action": "TEMPLATE",
        "text": translated(segment, "title", lang),
        "dates": f"{_utc_text(planned['planned_start'])}/{_utc_text(planned['planned_end'])}",
        "details": details,
        "ctz": doc["event"]["timezone"],
    }
    return f"{GOOGLE_TEMPLATE}?{urlencode(query, quote_via=quote, safe='/')}"
