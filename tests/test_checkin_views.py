"""The `checkins` topic's views as a pure function of the store's records and the time:
the on-air delay, the kill switch, the spotlight card, and totals over every action."""

from __future__ import annotations

from eventrunner.checkins.onair import AirSettings
from eventrunner.checkins.views import FEED_SIZE, Projection, build_views
from eventrunner.stores.contract import Record

from .builders import REPO

HOUR = 3_600_000
T0 = 1_700_000_000_000


def action(action_id: str, ends_ms: int = T0 + HOUR, city: str = "Gadsden", state: str = "AL") -> Record:
    body = {
        "title": f"Vigil {action_id}",
        "type": "vigil",
        "venue": "Courthouse lawn",
        "city": city,
        "state": state,
        "starts_ms": T0 - HOUR,
        "ends_ms": ends_ms,
        "timezone": "America/Chicago",
        "description": "",
        "contact": "private@example.org",
    }
    return Record("action", action_id, "approved", body, T0 - 2 * HOUR, T0 - 2 * HOUR)


def checkin(
    checkin_id: str, action_id: str, people: int, created: int, approved: int | None = None
) -> Record:
    body = {
        "action": action_id,
        "headcount": people,
        "message": f"{people} here",
        "held_for": [],
        "photo": False,
    }
    return Record("checkin", checkin_id, "approved", body, created, approved or created)


def seen_with(*records: Record, air: AirSettings | None = None) -> Projection:
    seen = Projection(air=air or AirSettings())
    for record in records:
        seen.take(record)
    return seen


def test_a_check_in_reaches_the_air_only_after_the_delay_from_its_approval():
    seen = seen_with(
        action("a"), checkin("c1", "a", 40, T0 - 60_000, approved=T0), air=AirSettings(delay_s=30)
    )
    views, changes_at = build_views(seen, T0 + 29_999)
    assert [item["id"] for item in views["public"]["feed"]] == ["c1"]  # participants see it at once
    assert views["public"]["air"]["feed"] == []
    assert changes_at == T0 + 30_000
    views, _ = build_views(seen, T0 + 30_000)
    assert views["public"]["air"]["feed"] == ["c1"]


def test_the_kill_switch_takes_every_check_in_graphic_off_air():
    air = AirSettings(killed=True, spotlight="a")
    views, changes_at = build_views(seen_with(action("a"), checkin("c1", "a", 40, T0), air=air), T0 + 1)
    assert views["public"]["air"] == {"killed": True, "delay_s": 0, "feed": []}
    assert changes_at is not None  # the action still ends: its headcount leaves the totals then


def test_the_spotlight_shows_the_action_with_its_newest_aired_check_in():
    older, newer = checkin("c1", "a", 10, T0 - 5000), checkin("c2", "a", 25, T0 - 1000)
    seen = seen_with(action("a"), action("b"), older, newer, checkin("c3", "b", 99, T0))
    seen.air = AirSettings(spotlight="a")
    card = build_views(seen, T0 + 1)[0]["public"]["air"]["spotlight"]
    assert card["action"] == "a" and card["city"] == "Gadsden" and "venue" not in card
    assert card["checkin"]["id"] == "c2" and card["checkin"]["headcount"] == 25
    # Older than the feed holds: the check-in pinned when it was taken still shows.
    seen = seen_with(action("a"), air=AirSettings(spotlight="a"))
    seen.spotlight_pin = older
    assert build_views(seen, T0)[0]["public"]["air"]["spotlight"]["checkin"]["id"] == "c1"
    # A newer approved check-in of the spotlit action takes the pin's place.
    seen.take(checkin("c4", "a", 60, T0 + 10))
    assert seen.spotlight_pin.id == "c4"


def test_the_spotlight_waits_for_the_on_air_delay_too():
    seen = seen_with(action("a"), air=AirSettings(spotlight="a", delay_s=30))
    seen.spotlight_pin = checkin("c1", "a", 10, T0 - 1000, approved=T0)  # approved just now
    views, changes_at = build_views(seen, T0 + 1000)
    assert "checkin" not in views["public"]["air"]["spotlight"] and changes_at == T0 + 30_000
    views, _ = build_views(seen, T0 + 30_000)
    assert views["public"]["air"]["spotlight"]["checkin"]["id"] == "c1"


def test_refilling_the_feed_never_brings_back_a_hidden_check_in_or_drops_a_new_one():
    records = [checkin(f"c{n}", "a", n, T0 + n) for n in range(FEED_SIZE + 2)]
    seen = seen_with(action("a"), *records)
    hidden = Record("checkin", f"c{FEED_SIZE + 1}", "hidden", records[-1].body, T0, T0)
    read_before_the_hide = sorted(records, key=lambda r: r.created_ms, reverse=True)[:FEED_SIZE]
    seen.take(hidden)
    seen.take(checkin("new", "a", 99, T0 + 1000))  # approved while the store was read
    seen.refill(read_before_the_hide)
    ids = [record.id for record in seen.feed]
    assert ids[0] == "new" and hidden.id not in ids and len(ids) == FEED_SIZE


def test_totals_count_every_live_action_not_only_those_in_the_feed():
    count = FEED_SIZE + 10
    records = [action(f"a{n}") for n in range(count)]
    records += [checkin(f"c{n}", f"a{n}", 2, T0 - n) for n in range(count)]
    views, _ = build_views(seen_with(*records), T0)
    assert len(views["public"]["feed"]) == FEED_SIZE
    assert views["public"]["totals"] == {"actions": count, "live": count, "people": 2 * count}


def test_an_action_leaves_the_live_totals_when_it_ends_and_its_latest_headcount_counts():
    seen = seen_with(
        action("a", ends_ms=T0 + 1000), checkin("c1", "a", 10, T0 - 10), checkin("c2", "a", 30, T0 - 5)
    )
    views, changes_at = build_views(seen, T0)
    assert views["public"]["totals"] == {"actions": 1, "live": 1, "people": 30}
    assert changes_at == T0 + 1000
    assert views["public"]["live"] == {"a": 30}
    views, changes_at = build_views(seen, T0 + 1000)
    assert views["public"]["totals"] == {"actions": 1, "live": 0, "people": 0}
    assert views["public"]["live"] == {} and changes_at is None


def test_actions_carry_their_point_on_the_map_and_no_view_holds_null():
    views, _ = build_views(seen_with(action("a"), action("b", city="Nowhere Special", state="TX")), T0)
    points = {action_id: item["map"] for action_id, item in views["public"]["actions"].items()}
    assert points["a"] != points["b"] and all(len(point) == 2 for point in points.values())
    assert "None" not in repr(views) and "null" not in repr(views)


def test_the_page_scripts_know_how_many_check_ins_the_feed_holds():
    script = (REPO / "static/js/showclient.js").read_text()
    assert f"ER.CHECKIN_FEED_SIZE = {FEED_SIZE};" in script
