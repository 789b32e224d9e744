"""What the `checkins` topic shows each audience, computed from what the store holds and
the time: pure, so every process of a show computes the same views from the same store.

The public view: approved actions (with a point on the US map), which are live with
their headcount, the newest approved check-ins, totals, and `air`, what the check-in
overlays may show now (the on-air delay and kill switch applied, the spotlight card).
Producers also see what waits for them. Views never contain null (merge patches between
versions stay exact): an absent key is "none". Views depend on the time given: processes
that render one change render it at the publisher's time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from eventrunner.checkins.onair import AirSettings
from eventrunner.checkins.places import FIELD_OFFICES_BY_ID
from eventrunner.checkins.screening import hold_reasons
from eventrunner.checkins.usmap import map_point
from eventrunner.core.views import Audience
from eventrunner.stores.contract import Record

ACTION, CHECKIN = "action", "checkin"
PENDING, APPROVED, REJECTED, HIDDEN = "pending", "approved", "rejected", "hidden"
FEED_SIZE = 30  # check-ins a page or an overlay holds
QUEUE_SHOWN = 200  # of what waits for producers, the oldest this many are in the topic
# An action's text that goes public when it is approved: screened for its producers.
PUBLIC_TEXT = ("title", "venue", "city", "detention_center", "description")


@dataclass(frozen=True)
class Headcount:
    """An action's latest approved check-in: when it was posted and how many were there."""

    at_ms: int
    people: int


@dataclass
class Projection:
    """What the topic shows: read whole from the store at start and when another process
    changed it, and kept up to date record by record for this process's own writes."""

    actions: dict[str, Record] = field(default_factory=dict)  # approved
    feed: list[Record] = field(default_factory=list)  # approved check-ins, newest first
    pending_actions: dict[str, Record] = field(default_factory=dict)  # oldest first
    pending_checkins: dict[str, Record] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # check-in link's key -> its action
    headcounts: dict[str, Headcount] = field(default_factory=dict)  # action -> its latest
    air: AirSettings = field(default_factory=AirSettings)
    # The spotlit action's newest approved check-in when it was taken: it may be older
    # than the feed holds.
    spotlight_pin: Record | None = None
    gone: set[str] = field(default_factory=set)  # check-ins rejected or hidden
    waiting: dict[str, int] = field(default_factory=dict)  # kind -> how many wait, as last counted

    def take(self, record: Record) -> None:
        """`record` as it now stands in the store."""
        if record.kind == ACTION:
            self.pending_actions.pop(record.id, None)
            self.actions.pop(record.id, None)
            if record.status == PENDING:
                self.pending_actions[record.id] = record
            elif record.status == APPROVED:
                self.actions[record.id] = record
        elif record.kind == CHECKIN:
            self.pending_checkins.pop(record.id, None)
            self.feed = [item for item in self.feed if item.id != record.id]
            if record.status in (REJECTED, HIDDEN):
                self.gone.add(record.id)
            elif record.status == PENDING:
                self.pending_checkins[record.id] = record
            elif record.status == APPROVED:
                self.feed.append(record)
                self.feed.sort(key=lambda item: item.created_ms, reverse=True)
                del self.feed[FEED_SIZE:]
                action = str(record.body["action"])
                latest = self.headcounts.get(action)
                if latest is None or record.created_ms >= latest.at_ms:
                    self.headcounts[action] = Headcount(record.created_ms, int(record.body["headcount"]))
                pin = self.spotlight_pin
                if action == self.air.spotlight and (pin is None or record.created_ms >= pin.created_ms):
                    self.spotlight_pin = record

    def refill(self, newest: list[Record]) -> None:
        """The newest approved check-ins as read from the store, merged in: fills the
        place a hidden one left, and never undoes what this process took meanwhile."""
        held = {record.id for record in self.feed}
        self.feed += [record for record in newest if record.id not in held and record.id not in self.gone]
        self.feed.sort(key=lambda item: item.created_ms, reverse=True)
        del self.feed[FEED_SIZE:]


def build_views(seen: Projection, now_ms: int) -> tuple[dict[Audience, dict[str, Any]], int | None]:
    """Each audience's view now, and when the views next change by time alone (a delayed
    check-in reaches the air, a live action ends), or None."""
    live = {
        action_id: latest.people
        for action_id, latest in seen.headcounts.items()
        if (action := seen.actions.get(action_id)) is not None and now_ms < action.body["ends_ms"]
    }
    feed = [item for record in seen.feed if (item := public_checkin(seen, record)) is not None]
    air, air_changes_at = _air(seen, feed, now_ms)
    ends = [seen.actions[action_id].body["ends_ms"] for action_id in live]
    changes_at = min([*ends, *([air_changes_at] if air_changes_at else [])], default=None)
    public = {
        # Keyed by id, and apart from what changes with each check-in (`live`): a merge
        # patch then carries one action, not the whole list, to every client.
        "actions": {action_id: public_action(record) for action_id, record in seen.actions.items()},
        "live": live,
        "feed": feed,
        "totals": {"actions": len(seen.actions), "live": len(live), "people": sum(live.values())},
        "air": air,
    }
    producer = {
        **public,
        "trusted": [action_id for action_id, r in seen.actions.items() if r.body.get("trusted")],
        # What producers set, whatever reaches the air now (the kill switch hides the spotlight).
        "settings": seen.air.model_dump(exclude_none=True),
        "pending": {
            "actions": [producer_action(r) for r in islice(seen.pending_actions.values(), QUEUE_SHOWN)],
            "checkins": [
                {"id": r.id, **r.body, "at": r.created_ms}
                for r in islice(seen.pending_checkins.values(), QUEUE_SHOWN)
            ],
            "waiting": {
                "actions": max(seen.waiting.get(ACTION, 0), len(seen.pending_actions)),
                "checkins": max(seen.waiting.get(CHECKIN, 0), len(seen.pending_checkins)),
            },
        },
    }
    return {"producer": producer, "public": public}, changes_at


def _air(seen: Projection, feed: list[dict[str, Any]], now_ms: int) -> tuple[dict[str, Any], int | None]:
    """What the check-in overlays show now, and when that changes by time alone."""
    settings = seen.air
    air: dict[str, Any] = {"killed": settings.killed, "delay_s": settings.delay_s, "feed": []}
    if settings.killed:
        return air, None
    delay_ms = settings.delay_s * 1000
    pin = seen.spotlight_pin
    candidates = [*seen.feed, *([pin] if pin is not None and pin.status == APPROVED else [])]
    aired = {record.id for record in candidates if record.updated_ms + delay_ms <= now_ms}
    waiting = [record.updated_ms + delay_ms for record in candidates if record.id not in aired]
    air["feed"] = [item["id"] for item in feed if item["id"] in aired]
    spotlight = _spotlight(seen, [record for record in candidates if record.id in aired])
    if spotlight is not None:
        air["spotlight"] = spotlight
    return air, min(waiting, default=None)


def _spotlight(seen: Projection, aired: list[Record]) -> dict[str, Any] | None:
    """The spotlit action with its newest check-in that has reached the air (the feed's,
    or the one pinned when it was taken, which may be older than the feed holds)."""
    action = seen.actions.get(seen.air.spotlight or "")
    if action is None:
        return None
    candidates = [record for record in aired if record.body["action"] == action.id]
    card: dict[str, Any] = {
        "action": action.id,
        "title": action.body["title"],
        "type": action.body["type"],
        "city": action.body["city"],
        "state": action.body["state"],
    }
    if candidates:
        newest = max(candidates, key=lambda record: record.created_ms)
        card["checkin"] = _checkin_content(newest)
    return card


def public_checkin(seen: Projection, record: Record) -> dict[str, Any] | None:
    action = seen.actions.get(str(record.body.get("action")))
    if action is None:
        return None  # its action is no longer listed
    # City level only: never the venue, never who posted it.
    return {
        "action": action.id,
        "title": action.body["title"],
        "city": action.body["city"],
        "state": action.body["state"],
        **_checkin_content(record),
    }


def _checkin_content(record: Record) -> dict[str, Any]:
    content = {
        "id": record.id,
        "headcount": record.body["headcount"],
        "message": record.body["message"],
        "at": record.created_ms,
    }
    if record.body.get("photo"):
        content["photo"] = photo_url(record.id)
    return content


def photo_url(checkin_id: str) -> str:
    return f"/api/photos/{checkin_id}.jpg"


def public_action(record: Record) -> dict[str, Any]:
    """An approved action as anyone may see it: never its host's contact."""
    body = record.body
    office = FIELD_OFFICES_BY_ID.get(body.get("field_office") or "")
    shown = {
        "id": record.id,
        "title": body["title"],
        "type": body["type"],
        "venue": body["venue"],
        "city": body["city"],
        "state": body["state"],
        "field_office": office.name if office else None,
        "detention_center": body.get("detention_center"),
        "starts_at": body["starts_ms"],
        "ends_at": body["ends_ms"],
        "timezone": body["timezone"],
        "description": body["description"],
    }
    point = map_point(body["city"], body["state"])
    if point is not None:
        shown["map"] = list(point)
    return {key: value for key, value in shown.items() if value is not None}


def producer_action(record: Record) -> dict[str, Any]:
    """An action as producers see it: with the host's contact, and what screening found in
    the text that goes public on approval (a producer reads it before approving)."""
    body = record.body
    public_text = " · ".join(str(body.get(key) or "") for key in PUBLIC_TEXT)
    return {
        **public_action(record),
        "contact": body["contact"],
        "status": record.status,
        "held_for": hold_reasons(public_text),
    }
