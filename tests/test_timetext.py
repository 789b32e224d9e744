"""Times as text in the event's zone, and the {start:ID} / {end:ID} placeholders."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from eventrunner.core import timetext

from .builders import NEW_YORK, at

TIMES = {"hour": (at("2022-03-03 13:00"), at("2022-03-03 14:00")), "late": (at("2022-03-04 00:30"), 0)}


@pytest.mark.parametrize(
    ("when", "zone", "expected"),
    [
        ("2022-03-03 13:00", "America/New_York", "1:00 PM EST"),
        ("2022-07-04 09:05", "America/New_York", "9:05 AM EDT"),
        ("2022-03-03 00:30", "America/New_York", "12:30 AM EST"),
        ("2022-03-03 13:00", "America/Sao_Paulo", "1:00 PM UTC-03"),
        ("2022-03-03 13:00", "UTC", "1:00 PM UTC"),
    ],
)
def test_event_time_is_in_the_event_zone(when, zone, expected):
    assert timetext.event_time(at(when, ZoneInfo(zone)), ZoneInfo(zone)) == expected


def test_event_time_never_uses_the_server_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        assert timetext.event_time(at("2022-03-03 13:00"), NEW_YORK) == "1:00 PM EST"
    finally:
        monkeypatch.undo()
        time.tzset()


def test_iso_datetime_carries_the_offset():
    assert timetext.iso_datetime(at("2022-03-03 11:30"), NEW_YORK) == "2022-03-03T11:30:00-05:00"
    assert timetext.iso_datetime(at("2022-07-04 11:30"), NEW_YORK) == "2022-07-04T11:30:00-04:00"
    assert timetext.iso_datetime(at("2022-03-03 11:30"), ZoneInfo("UTC")) == "2022-03-03T16:30:00Z"


def test_placeholders_render_as_planned_times_and_double_braces_are_literal():
    text = "Next at {start:hour}, until {end:hour}; past midnight: {start:late}. {{start:hour}} {{ }}"
    assert timetext.render(text, TIMES, NEW_YORK) == (
        "Next at 1:00 PM EST, until 2:00 PM EST; past midnight: 12:30 AM EST. {start:hour} { }"
    )
    assert timetext.referenced(text) == {"hour", "late"}
    assert timetext.problems(text, TIMES) == []


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("at {start:nope}", "{start:nope} names no segment (there are: hour, late)"),
        ("at {begin:hour}", "'{begin:hour}' is not a placeholder; write {start:SEGMENT_ID}"),
        ("at {start: hour}", "'{start: hour}' is not a placeholder"),
        ("at {start:hour", "a lone '{'; write {start:SEGMENT_ID} or {end:SEGMENT_ID}, and {{ or }}"),
        ("a } alone", "a lone '}'"),
        ("{}", "'{}' is not a placeholder"),
    ],
)
def test_malformed_placeholders_are_problems(text, problem):
    problems = timetext.problems(text, TIMES)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_a_text_that_slipped_through_is_shown_as_written():
    assert timetext.render("a } alone {start:hour}", TIMES, NEW_YORK) == "a } alone {start:hour}"
    assert timetext.render("at {start:gone}", TIMES, NEW_YORK) == "at {start:gone}"


def test_only_prose_keys_are_templated():
    doc = {
        "title": "At {start:hour}",
        "links": [{"label": "{end:hour}", "url": "https://x.test/{start:hour}"}],
        "sample_posts": ["{start:hour}"],
        "hashtags": ["{start:hour}"],
        "id": "{start:hour}",
    }
    assert timetext.map_texts(doc, lambda text, language: text.upper()) == {
        "title": "AT {START:HOUR}",
        "links": [{"label": "{END:HOUR}", "url": "https://x.test/{start:hour}"}],
        "sample_posts": ["{START:HOUR}"],
        "hashtags": ["{start:hour}"],
        "id": "{start:hour}",
    }
    assert [path for path, _ in timetext.texts(doc)] == [
        ("title",),
        ("links", 0, "label"),
        ("sample_posts", 0),
    ]


def test_a_translation_says_its_times_in_its_own_language():
    times = {"hour": (at("2022-03-03 13:00"), at("2022-03-03 14:00"))}
    zone = timetext.zone_of("America/New_York")
    doc = {"title": "At {start:hour}", "translations": {"es": {"title": "A las {start:hour}"}}}
    rendered = timetext.map_texts(doc, lambda text, language: timetext.render(text, times, zone, language))
    assert rendered == {"title": "At 1:00 PM EST", "translations": {"es": {"title": "A las 13:00 EST"}}}
