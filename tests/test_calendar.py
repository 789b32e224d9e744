"""The schedule for people's calendars: /schedule.ics and /schedule/<id>.ics are RFC 5545
files with the segments at the show's current planned instants, written in the event's
zone with its VTIMEZONE; and Google Calendar's link carries the same instants."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest
from dateutil.tz import tzical
from icalendar import Calendar

from eventrunner.core.calendar import GOOGLE_DETAILS_MAX, SEQUENCE_EPOCH, calendar_ics, google_calendar_link
from eventrunner.core.languages import translated
from eventrunner.core.show import start_show
from eventrunner.core.views import DocumentBuilder

from .builders import CNC, FREE_THEM_ALL, at, small_day
from .conftest import TOKEN


async def get(url: str, **kwargs) -> tuple[aiohttp.ClientResponse, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as response:
        return response, await response.read()


def utc_ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


def sequence_at(ms: int) -> int:
    """SEQUENCE of a file made at `ms`: whole minutes since 2020-01-01T00:00Z."""
    return (datetime.fromtimestamp(ms / 1000, tz=UTC) - SEQUENCE_EPOCH) // timedelta(minutes=1)


def by_segment(calendar: Calendar) -> dict[str, object]:
    return {str(event["UID"]).split(".")[0]: event for event in calendar.events}


def instants_by_vtimezone(calendar: Calendar, event) -> tuple[int, int]:
    """DTSTART and DTEND as the file's own VTIMEZONE puts them, not the server's zone
    database: what a calendar app that reads the file sees."""
    zone = calendar.timezones[0].to_tz(lookup_tzid=False)

    def ms(name: str) -> int:
        value = event[name]
        assert value.params["TZID"] == calendar.timezones[0]["TZID"]
        return int(value.dt.replace(tzinfo=zone).timestamp() * 1000)

    return ms("DTSTART"), ms("DTEND")


@pytest.mark.parametrize(
    ("schedule", "now", "segment", "start_utc"),
    [
        # 11:30 EST is 16:30 UTC.
        (CNC, at("2022-03-03 09:00"), "livestream", "2022-03-03 16:30"),
        # 09:00 EDT (daylight time since March 8) is 13:00 UTC.
        (FREE_THEM_ALL, at("2020-04-01 08:00"), "email-congress", "2020-04-01 13:00"),
    ],
)
async def test_the_day_is_a_calendar_in_the_events_zone(start_server, schedule, now, segment, start_utc):
    running = await start_server(schedule=schedule, now=now)
    response, body = await get(f"{running.url}/schedule.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    doc = running.server.dispatcher.views["public"]
    date = doc["event"]["date"]
    assert response.headers["Content-Disposition"] == f'attachment; filename="schedule-{date}.ics"'

    calendar = Calendar.from_ical(body)
    assert [tz["TZID"] for tz in calendar.timezones] == ["America/New_York"]
    assert calendar.get_missing_tzids() == set()
    events = by_segment(calendar)
    timing = doc["timing"]["segments"]
    assert list(events) == [s["id"] for s in doc["rundown"]]
    for segment_id, event in events.items():
        planned = (timing[segment_id]["planned_start"], timing[segment_id]["planned_end"])
        assert instants_by_vtimezone(calendar, event) == planned
        assert (int(event.start.timestamp() * 1000), int(event.end.timestamp() * 1000)) == planned
        assert str(event["UID"]) == f"{segment_id}.{date}@127.0.0.1"
        assert str(event["URL"]) == f"{running.url}/#segment-{segment_id}"
        assert str(event["DESCRIPTION"]).endswith(f"\n\n{running.url}/#segment-{segment_id}")
        assert int(event["SEQUENCE"]) == sequence_at(running.clock())
        assert "DTSTAMP" in event
    assert instants_by_vtimezone(calendar, events[segment])[0] == utc_ms(start_utc)


async def test_one_segment_is_its_own_calendar(running):
    _, day = await get(f"{running.url}/schedule.ics")
    response, body = await get(f"{running.url}/schedule/digital-action-hour.ics")
    assert response.status == 200
    assert response.headers["Content-Type"] == "text/calendar; charset=utf-8"
    assert (
        response.headers["Content-Disposition"] == 'attachment; filename="digital-action-hour-2022-03-03.ics"'
    )
    calendar = Calendar.from_ical(body)
    [event] = calendar.events
    assert [tz["TZID"] for tz in calendar.timezones] == ["America/New_York"]
    # The same event as in the whole day's file: an app that has both keeps one.
    same = by_segment(Calendar.from_ical(day))["digital-action-hour"]
    assert event["UID"] == same["UID"]
    assert (event.start, event.end) == (same.start, same.end)
    assert int(event.start.timestamp() * 1000) == at("2022-03-03 13:00")
    assert str(event["SUMMARY"]) == "National Digital Action Hour"


async def test_spanish_texts_when_asked(running):
    doc = running.server.dispatcher.views["public"]
    _, body = await get(f"{running.url}/schedule.ics?lang=es")
    events = by_segment(Calendar.from_ical(body))
    for segment in doc["rundown"]:
        assert str(events[segment["id"]]["SUMMARY"]) == translated(segment, "title", "es")
    # The shipped day is translated; a language the server does not speak gets the schedule's text.
    assert str(events["livestream"]["SUMMARY"]) != "National Livestream"
    _, body = await get(f"{running.url}/schedule/livestream.ics?lang=xx")
    assert str(Calendar.from_ical(body).events[0]["SUMMARY"]) == "National Livestream"


async def test_an_unknown_segment_is_not_found(running):
    for path in ("/schedule/no-such-thing.ics", "/schedule/no-such-thing/google"):
        response, body = await get(f"{running.url}{path}", allow_redirects=False)
        assert response.status == 404
        assert (
            body.decode()
            == "no segment with id 'no-such-thing' in the schedule; /schedule.ics has every segment"
        )


async def test_a_plan_shifted_by_a_producer_is_in_the_calendar(running):
    _, before = await get(f"{running.url}/schedule.ics")
    running.clock.now += 60_000
    async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {TOKEN}"}) as session:
        command = {"command": "extend", "minutes": 10, "shift_rest": True}
        assert (await session.post(f"{running.url}/api/show/commands", json=command)).status == 200
    _, after = await get(f"{running.url}/schedule.ics")
    old, new = by_segment(Calendar.from_ical(before)), by_segment(Calendar.from_ical(after))
    assert int(new["livestream"].end.timestamp() * 1000) == at("2022-03-03 12:40")
    assert int(new["digital-action-hour"].start.timestamp() * 1000) == at("2022-03-03 13:10")
    assert int(new["twitterstorm"].end.timestamp() * 1000) == at("2022-03-03 15:10")
    # The same events, revised: apps that import it again update them.
    assert [e["UID"] for e in new.values()] == [e["UID"] for e in old.values()]
    assert (
        int(new["twitterstorm"]["SEQUENCE"])
        == sequence_at(running.clock())
        > int(old["twitterstorm"]["SEQUENCE"])
    )
    _, one = await get(f"{running.url}/schedule/twitterstorm.ics")
    assert int(Calendar.from_ical(one).events[0].start.timestamp() * 1000) == at("2022-03-03 14:10")


async def test_the_google_link_carries_the_segments_instants(running):
    doc = running.server.dispatcher.views["public"]
    page = f"{running.url}/"
    link = google_calendar_link(doc, "livestream", page, "en")
    parts = urlsplit(link)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://calendar.google.com/calendar/render"
    query = {key: values[0] for key, values in parse_qs(parts.query).items()}
    assert query["action"] == "TEMPLATE"
    assert query["text"] == "National Livestream"
    assert query["dates"] == "20220303T163000Z/20220303T173000Z"
    assert query["ctz"] == "America/New_York"
    assert query["details"].startswith("Join the DWN team")
    assert query["details"].endswith(f"\n\n{page}#segment-livestream")
    assert "dates=20220303T163000Z/20220303T173000Z" in link  # readable, as Google's own links are

    response, _ = await get(f"{running.url}/schedule/livestream/google", allow_redirects=False)
    # The same link (the redirect may spell safe characters unescaped: "," for "%2C").
    assert response.status == 302
    redirect = urlsplit(response.headers["Location"])
    assert (redirect.netloc, redirect.path) == (parts.netloc, parts.path)
    assert parse_qs(redirect.query) == parse_qs(parts.query)


def test_a_long_description_is_cut_for_google_and_whole_in_the_file():
    long_text = "word " * 2000
    segments = f"""
  - id: one
    title: One
    kind: other
    start: "10:00"
    end: "11:00"
    description: "{long_text.strip()}"
"""
    schedule = small_day(segments=segments)
    doc = DocumentBuilder(schedule.model).view(start_show(schedule.plan, at("2022-03-03 09:00")), "public")
    query = parse_qs(urlsplit(google_calendar_link(doc, "one", "https://example.org/", "en")).query)
    details = query["details"][0]
    assert len(details) <= GOOGLE_DETAILS_MAX
    assert details.endswith("…\n\nhttps://example.org/#segment-one")
    event = Calendar.from_ical(calendar_ics(doc, "https://example.org/", 0, "en")).events[0]
    assert str(event["DESCRIPTION"]).startswith(long_text.strip())


def test_a_day_in_utc_needs_no_vtimezone():
    schedule = small_day(zone="UTC")
    doc = DocumentBuilder(schedule.model).view(start_show(schedule.plan, at("2022-03-03 09:00")), "public")
    calendar = Calendar.from_ical(calendar_ics(doc, "https://example.org/", 0, "en"))
    assert calendar.timezones == [] and calendar.get_missing_tzids() == set()
    assert calendar.events[0].start == datetime(2022, 3, 3, 10, tzinfo=UTC)
    assert str(calendar.events[0]["UID"]) == "one.2022-03-03@example.org"


def test_a_later_file_supersedes_an_earlier_one_whatever_the_shows_version():
    """The show's version drops to 1 after --reset (and rises with every graphics take):
    SEQUENCE follows the time the file was made instead."""
    schedule = small_day()
    doc = DocumentBuilder(schedule.model).view(start_show(schedule.plan, at("2022-03-03 09:00")), "public")

    def sequence(version: int, now: int) -> int:
        calendar = Calendar.from_ical(calendar_ics({**doc, "version": version}, "https://e.org/", now, "en"))
        return int(calendar.events[0]["SEQUENCE"])

    assert sequence(1, at("2022-03-03 09:01")) > sequence(500, at("2022-03-03 09:00"))
    assert sequence(1, at("2022-03-03 09:00")) == sequence(500, at("2022-03-03 09:00")) > 0
    assert sequence(1, at("2200-01-01 00:00")) < 2**31  # RFC 5545's INTEGER


@pytest.mark.parametrize(
    ("zone", "changes"),
    [
        # 02:00 EST -> 03:00 EDT, 02:00 EDT -> 01:00 EST.
        ("America/New_York", [("2022-03-13 07:00", -5, -4), ("2022-11-06 06:00", -4, -5)]),
        # 01:00 GMT -> 02:00 BST, 02:00 BST -> 01:00 GMT.
        ("Europe/London", [("2022-03-27 01:00", 0, 1), ("2022-10-30 01:00", 1, 0)]),
        # Half an hour: 02:00 +10:30 -> 02:30 +11, 02:00 +11 -> 01:30 +10:30.
        ("Australia/Lord_Howe", [("2022-04-02 15:00", 11, 10.5), ("2022-10-01 15:30", 10.5, 11)]),
    ],
)
def test_the_vtimezone_changes_the_clocks_at_the_right_instant(zone, changes):
    """Read by another library than the one that wrote it (dateutil): an observance's
    DTSTART is local time in the offset before the change (RFC 5545 3.6.5)."""
    schedule = small_day(zone=zone, day="2022-03-03")
    doc = DocumentBuilder(schedule.model).view(start_show(schedule.plan, at("2022-03-03 09:00")), "public")
    calendar = Calendar.from_ical(calendar_ics(doc, "https://example.org/", 0, "en"))
    [vtimezone] = calendar.timezones
    reader = tzical(io.StringIO(vtimezone.to_ical().decode()))
    local = reader.get(zone)
    for instant, before, after in changes:
        change = datetime.fromisoformat(instant).replace(tzinfo=UTC)
        for moment, hours in (
            (change - timedelta(minutes=1), before),
            (change + timedelta(minutes=1), after),
        ):
            offset = moment.astimezone(local).utcoffset()
            assert offset == timedelta(hours=hours), (zone, moment, offset)


@pytest.mark.parametrize("host", ["a" * 3000, "[abc", "day.example/../x", "exa mple.org"])
@pytest.mark.parametrize("path", ["/schedule.ics", "/schedule/livestream.ics", "/schedule/livestream/google"])
async def test_a_host_header_that_is_not_a_host_is_a_bad_request(running, host, path):
    response, body = await get(f"{running.url}{path}", headers={"Host": host}, allow_redirects=False)
    assert response.status == 400
    assert body.decode().startswith("The Host header must be a host name or address")


async def test_the_public_url_names_the_calendar_whatever_the_host(start_server):
    running = await start_server(public_url="https://day.example.org/")
    for host in ("evil.example", "[abc", "a" * 3000):
        _, body = await get(f"{running.url}/schedule.ics", headers={"Host": host})
        calendar = Calendar.from_ical(body)
        assert str(calendar["URL"]) == "https://day.example.org/"
        event = by_segment(calendar)["livestream"]
        assert str(event["UID"]) == "livestream.2022-03-03@day.example.org"
        assert str(event["URL"]) == "https://day.example.org/#segment-livestream"
        response, _ = await get(
            f"{running.url}/schedule/livestream/google", headers={"Host": host}, allow_redirects=False
        )
        details = parse_qs(urlsplit(response.headers["Location"]).query)["details"][0]
        assert details.endswith("\n\nhttps://day.example.org/#segment-livestream")
