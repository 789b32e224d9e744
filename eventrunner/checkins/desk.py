"""The check-in desk: actions hosts submit, the check-ins they post from them, what
producers decide, and the `checkins` topic everyone follows.

Every write goes to the store first (an answer of 201 means it is kept), then the topic
is published from what the store holds. The desk keeps a projection of the store in
memory (approved actions, the latest approved check-ins, what waits for a producer) so
views never read the store; with several processes, a process that hears of a change
reads the projection again from the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from eventrunner.checkins.forms import ActionForm, CheckinForm
from eventrunner.checkins.places import FIELD_OFFICES_BY_ID
from eventrunner.checkins.screening import hold_reasons
from eventrunner.core.views import Audience
from eventrunner.stores.contract import Collections, Record, StoreUnavailable
from eventrunner.topics.hub import Envelope, LiveHub, Topic

log = logging.getLogger(__name__)

TOPIC = "checkins"
ACTION, CHECKIN, LINK = "action", "checkin", "checkin-link"
PENDING, APPROVED, REJECTED, HIDDEN = "pending", "approved", "rejected", "hidden"
FEED_SIZE = 30  # check-ins a page or an overlay holds
QUEUE_SHOWN = 200  # of what waits for producers, the oldest this many are in the topic
PUBLISH_PER_SECOND = 4
LISTED = 5000  # records read back at most per kind and status
IDEMPOTENCY_TTL_S = 24 * 3600
# decision -> (the status it acts on, the status it gives)
CHECKIN_DECISIONS = {
    "approve": (PENDING, APPROVED),
    "reject": (PENDING, REJECTED),
    "hide": (APPROVED, HIDDEN),
}
VERSIONS = "topic-versions"  # the store counter that numbers the topic's versions
# An action's text that goes public when it is approved: screened for its producers.
PUBLIC_TEXT = ("title", "venue", "city", "detention_center", "description")


def photo_key(checkin_id: str) -> str:
    return f"photo:{checkin_id}"


def photo_url(checkin_id: str) -> str:
    return f"/api/photos/{checkin_id}.jpg"


async def checkin_photo(collections: Collections, checkin_id: str, any_status: bool = False) -> bytes | None:
    """A check-in's photo: to anyone once the check-in is approved, to producers always."""
    record = await collections.get(CHECKIN, checkin_id)
    if record is None or not record.body.get("photo") or not (any_status or record.status == APPROVED):
        return None
    return await collections.get_blob(photo_key(checkin_id))


def link_key(token: str) -> str:
    """What the store keeps of a check-in link: its hash (the store alone is no link)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Projection:
    """What the topic shows: read whole from the store at start and when another process
    changed it, and kept up to date record by record for this process's own writes."""

    actions: dict[str, Record] = field(default_factory=dict)  # approved
    feed: list[Record] = field(default_factory=list)  # approved check-ins, newest first
    pending_actions: dict[str, Record] = field(default_factory=dict)  # oldest first
    pending_checkins: dict[str, Record] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)  # check-in link's key -> its action

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
            if record.status == PENDING:
                self.pending_checkins[record.id] = record
            elif record.status == APPROVED:
                self.feed.append(record)
                self.feed.sort(key=lambda item: item.created_ms, reverse=True)
                del self.feed[FEED_SIZE:]


class CheckinDesk:
    def __init__(
        self, collections: Collections, hub: LiveHub, clock: Callable[[], int], shared: bool = False
    ) -> None:
        """`shared`: other processes write the same store (Redis); then what is published
        is read back from the store, never only this process's own view of it."""
        self.collections = collections
        self.shared = shared
        self._reading = asyncio.Lock()  # one read of the store (and what follows it) at a time
        self.hub = hub
        self.clock = clock
        self.seen = Projection()
        self.topic = hub.add_topic(Topic(TOPIC, self._views(), version=0), refresh=self.refresh)
        # A burst of check-ins is one publication, at most PUBLISH_PER_SECOND a second.
        self._dirty = False
        self._publisher: asyncio.Task[None] | None = None
        self._published_at = 0.0

    # --- reading the store -------------------------------------------------------------

    async def load(self) -> None:
        """Read the projection from the store (at start, and when another process changed it)."""
        records = self.collections.records
        approved = await records(ACTION, APPROVED, LISTED)
        newest = await records(CHECKIN, APPROVED, FEED_SIZE, newest_first=True)
        self.seen = Projection(
            actions={record.id: record for record in approved},
            feed=newest,
            pending_actions={record.id: record for record in await records(ACTION, PENDING, LISTED)},
            pending_checkins={record.id: record for record in await records(CHECKIN, PENDING, LISTED)},
            links={record.id: str(record.body["action"]) for record in await records(LINK, APPROVED, LISTED)},
        )

    async def version(self) -> int:
        return (await self.collections.counts(VERSIONS)).get(TOPIC, 0)

    async def refresh(self, envelope: Envelope | None) -> None:
        async with self._reading:
            # The number first: what is read after it holds every write numbered below it.
            version = await self.version()
            await self.load()
            self.hub.adopt(TOPIC, self._views(), version, envelope)

    async def _insert(self, record: Record) -> Record:
        """Keep a new record; a retry that lost the race to its first try gets that one."""
        if not await self.collections.insert(
            record.kind, record.id, record.status, record.body, record.created_ms
        ):
            kept = await self.collections.get(record.kind, record.id)
            if kept is None:
                raise StoreUnavailable(f"{record.kind} {record.id} was neither kept nor found")
            return kept
        self._changed(record)
        return record

    def _changed(self, record: Record) -> None:
        """A write of this process is kept: show it, soon."""
        self.seen.take(record)
        self._dirty = True
        if self._publisher is None or self._publisher.done():
            self._publisher = asyncio.create_task(self._publish(), name="checkins-publish")

    async def _publish(self) -> None:
        while self._dirty:
            wait = self._published_at + 1 / PUBLISH_PER_SECOND - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            self._dirty = False
            self._published_at = time.monotonic()
            try:
                await self._publish_numbered()
            except StoreUnavailable:
                log.warning("checkins: the store cannot be read or number the next version; trying again")
                self._dirty = True

    async def _publish_numbered(self) -> None:
        async with self._reading:
            # Numbered by the store, so every process of the show counts alike. Shared:
            # each write is kept before it is numbered, so the store read after the
            # number holds every write numbered below it, whichever process made it.
            version = await self.collections.add(VERSIONS, TOPIC, 1)
            if self.shared:
                await self.load()
            if version > self.topic.version:
                self.hub.publish(TOPIC, self._views(), version)

    async def close(self) -> None:
        if self._publisher is not None:
            self._publisher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._publisher

    # --- actions -----------------------------------------------------------------------

    async def _claim(self, kind: str, scope: str, idempotency_key: str | None) -> tuple[str, Record | None]:
        """The id a new record takes, or the record an earlier try with the same
        idempotency key made (then nothing new is made)."""
        record_id = secrets.token_urlsafe(9)
        if not idempotency_key:
            return record_id, None
        earlier = await self.collections.remember_once(
            f"{scope}:{idempotency_key}", record_id, IDEMPOTENCY_TTL_S
        )
        if earlier is None:
            return record_id, None
        # Found: the same submission again. Not found: the first try was cut short before
        # it was kept, and this one keeps it under the id it was given.
        return earlier, await self.collections.get(kind, earlier)

    async def submit_action(self, form: ActionForm, idempotency_key: str | None) -> Record:
        record_id, earlier = await self._claim(ACTION, "action", idempotency_key)
        if earlier is not None:
            return earlier
        return await self._insert(
            Record(ACTION, record_id, PENDING, form.record(), self.clock(), self.clock())
        )

    async def decide_action(self, action_id: str, decision: str) -> tuple[Record, str | None] | None:
        """approve / reject a pending action, trust / relink an approved one; returns it
        and, on approval and relinking, the check-in link's token (shown once). None if it
        cannot."""
        token = None
        if decision == "approve":
            found = await self.collections.get(ACTION, action_id)
            if found is None or found.status != PENDING:
                return None
            token = await self._new_link(action_id)
            changed = await self.collections.update(
                ACTION, action_id, self.clock(), status=APPROVED, expected_status=PENDING
            )
        elif decision == "relink":  # the link was lost, or leaked: the old one stops working
            changed = await self.collections.get(ACTION, action_id)
            if changed is None or changed.status != APPROVED:
                return None
            await self._revoke_links(action_id)
            token = await self._new_link(action_id)
        elif decision == "reject":
            changed = await self.collections.update(
                ACTION, action_id, self.clock(), status=REJECTED, expected_status=PENDING
            )
        else:  # trust: the host's check-in text goes on without waiting, unless screening holds it
            found = await self.collections.get(ACTION, action_id)
            if found is None or found.status != APPROVED:
                return None
            changed = await self.collections.update(
                ACTION, action_id, self.clock(), body={**found.body, "trusted": True}
            )
        if changed is None:
            return None
        self._changed(changed)
        return changed, token

    async def _new_link(self, action_id: str) -> str:
        token = secrets.token_urlsafe(24)
        await self.collections.insert(LINK, link_key(token), APPROVED, {"action": action_id}, self.clock())
        self.seen.links[link_key(token)] = action_id
        return token

    async def _revoke_links(self, action_id: str) -> None:
        for link in await self.collections.records(LINK, APPROVED, LISTED):
            if link.body.get("action") == action_id:
                await self.collections.update(LINK, link.id, self.clock(), status=REJECTED)
                self.seen.links.pop(link.id, None)

    # --- check-ins ---------------------------------------------------------------------

    async def action_of_link(self, token: str) -> Record | None:
        """The approved action a check-in link belongs to. One process alone knows its
        links in memory (a burst of check-ins reads nothing); with several, the store is
        asked each time, since another process may have revoked the link."""
        key = link_key(token)
        action_id = None if self.shared else self.seen.links.get(key)
        if action_id is None:
            link = await self.collections.get(LINK, key)
            if link is None or link.status != APPROVED:
                return None  # never made, or revoked
            action_id = str(link.body["action"])
        action = self.seen.actions.get(action_id) or await self.collections.get(ACTION, action_id)
        return action if action is not None and action.status == APPROVED else None

    async def submit_checkin(
        self, action: Record, form: CheckinForm, idempotency_key: str | None, photo: bytes | None = None
    ) -> Record:
        """`photo`: cleaned already (photos.clean_photo); a check-in with one always waits."""
        record_id, earlier = await self._claim(CHECKIN, f"checkin:{action.id}", idempotency_key)
        if earlier is not None:
            return earlier
        reasons = hold_reasons(form.message)
        if photo is not None:
            await self.collections.put_blob(photo_key(record_id), photo)  # kept before the record
            reasons.append("every photo waits for a producer")
        status = APPROVED if action.body.get("trusted") and not reasons else PENDING
        body = {
            "action": action.id,
            "headcount": form.headcount,
            "message": form.message,
            "held_for": reasons,
            "photo": photo is not None,
        }
        now = self.clock()
        return await self._insert(Record(CHECKIN, record_id, status, body, now, now))

    async def decide_checkin(self, checkin_id: str, decision: str) -> Record | None:
        expected, status = {
            "approve": (PENDING, APPROVED),
            "reject": (PENDING, REJECTED),
            "hide": (APPROVED, HIDDEN),
        }[decision]
        changed = await self.collections.update(
            CHECKIN, checkin_id, self.clock(), status=status, expected_status=expected
        )
        if changed is not None:
            if changed.status in (REJECTED, HIDDEN) and changed.body.get("photo"):
                # A photo nobody may see again is not kept: it may show a face.
                await self.collections.delete_blob(photo_key(checkin_id))
            self._changed(changed)
        return changed

    # --- what people see ---------------------------------------------------------------

    def public_actions(self) -> list[dict[str, Any]]:
        return [public_action(record) for record in self.seen.actions.values()]

    def public_feed(self) -> list[dict[str, Any]]:
        return [item for record in self.seen.feed if (item := self._public_checkin(record)) is not None]

    def _public_checkin(self, record: Record) -> dict[str, Any] | None:
        action = self.seen.actions.get(str(record.body.get("action")))
        if action is None:
            return None  # its action is no longer listed
        # City level only: never the venue, never who posted it.
        return {
            "id": record.id,
            "action": action.id,
            "title": action.body["title"],
            "city": action.body["city"],
            "state": action.body["state"],
            "headcount": record.body["headcount"],
            "message": record.body["message"],
            "at": record.created_ms,
            "photo": photo_url(record.id) if record.body.get("photo") else None,
        }

    def _views(self) -> dict[Audience, dict[str, Any]]:
        feed = self.public_feed()
        latest: dict[str, int] = {}
        for item in reversed(feed):  # oldest first: the newest headcount of each action wins
            latest[item["action"]] = item["headcount"]
        public = {
            "actions": self.public_actions(),
            "feed": feed,
            "totals": {
                "actions": len(self.seen.actions),
                "live": len(latest),
                "people": sum(latest.values()),
            },
        }
        producer = {
            **public,
            "pending": {
                "actions": [
                    producer_action(r) for r in islice(self.seen.pending_actions.values(), QUEUE_SHOWN)
                ],
                "checkins": [
                    {"id": r.id, **r.body, "at": r.created_ms}
                    for r in islice(self.seen.pending_checkins.values(), QUEUE_SHOWN)
                ],
                "waiting": {
                    "actions": len(self.seen.pending_actions),
                    "checkins": len(self.seen.pending_checkins),
                },
            },
        }
        return {"producer": producer, "public": public}


def public_action(record: Record) -> dict[str, Any]:
    """An approved action as anyone may see it: never its host's contact."""
    body = record.body
    office = FIELD_OFFICES_BY_ID.get(body.get("field_office") or "")
    return {
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
