"""The day as iCalendar (RFC 5545), and Google Calendar's "add this event" link.

Built from the public show document, not the schedule file: its timing holds each
segment's *current* planned times (a producer's shift, the demo's moved day) and its texts
have their time placeholders filled in. Times are written in the event's own zone with a
VTIMEZONE, so calendar apps show them right wherever the server or the viewer is.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from icalendar import Calendar, Event, Timezone

from eventrunner.core import timetext
from eventrunner.core.languages import translated

Doc = Mapping[str, Any]
PRODID = "-//eventrunner//schedule//EN"
GOOGLE_TEMPLATE = "https://calendar.google.com/calendar/render"
# Google answers an error page to very long addresses; a schedule's description may be
# 20,000 characters, so the link carries its start and the page has the rest.
GOOGLE_DETAILS_MAX = 1500


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


@lru_cache(maxsize=16)
def _vtimezone(zone_name: str, first_year: int, last_year: int) -> Timezone:
    # Whole years, so both of a zone's rules (standard and daylight time) are in it and an
    # app that keeps the zone reads any instant of the day right. icalendar asks callers
    # to cache what it generates; the component is only read once built.
    return Timezone.from_tzinfo(
        timetext.zone_of(zone_name),
        tzid=zone_name,
        first_date=date(first_year, 1, 1),
        last_date=date(last_year + 1, 1, 1),
    )


def calendar_ics(doc: Doc, page_url: str, now_ms: int, lang: str, segment_id: str | None = None) -> bytes:
    """Every segment of the day (or only `segment_id`; LookupError if there is none) as
    one VEVENT each, at its planned times in the event's zone. UIDs stay the same across
    versions of the show, and SEQUENCE is the show's version (it only grows), so an app
    that imports the file again updates its events instead of adding copies."""
    event = doc["event"]
    zone_name = event["timezone"]
    segments = [_segment(doc, segment_id)] if segment_id else list(doc["rundown"])
    timing = doc["timing"]["segments"]
    host = urlsplit(page_url).hostname or "eventrunner"
    stamp = datetime.fromtimestamp(now_ms / 1000, tz=UTC)

    events = [
        Event.new(
            uid=f"{segment['id']}.{event['date']}@{host}",
            stamp=stamp,
            start=_instant(timing[segment["id"]]["planned_start"], zone_name),
            end=_instant(timing[segment["id"]]["planned_end"], zone_name),
            summary=translated(segment, "title", lang),
            description=_details(segment, page_url, lang),
            url=segment_page_url(page_url, segment["id"]),
            sequence=doc["version"],
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
