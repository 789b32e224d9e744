"""The check-in desk: actions hosts submit, the check-ins they post from them, what
producers decide, and the `checkins` topic everyone follows.

Every write goes to the store first (an answer of 201 means it is kept), then the topic
is published from what the store holds. The desk keeps a projection of the store in
memory (approved actions, the latest approved check-ins, what waits for a producer) so
views never read the store; with several processes, a process that hears of a change
reads the projection again from the store.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Callable
from typing import Any

from eventrunner.checkins.forms import ActionForm, CheckinForm
from eventrunner.checkins.onair import AirSettings
from eventrunner.checkins.screening import hold_reasons
from eventrunner.checkins.views import (
    ACTION,
    APPROVED,
    CHECKIN,
    FEED_SIZE,
    HIDDEN,
    PENDING,
    QUEUE_SHOWN,
    REJECTED,
    Headcount,
    Projection,
    build_views,
    public_action,
    public_checkin,
)
from eventrunner.core.validation import FormError, parse
from eventrunner.stores.contract import Collections, Record, StoreUnavailable
from eventrunner.topics.hub import Envelope, LiveHub
from eventrunner.topics.numbered import NumberedTopic

log = logging.getLogger(__name__)

TOPIC = "checkins"
LINK, AIR = "checkin-link", "air"
PUBLISH_PER_SECOND = 4
LISTED = 5000  # records read back at most per kind and status
IDEMPOTENCY_TTL_S = 24 * 3600
# decision -> (the status it acts on, the status it gives)
CHECKIN_DECISIONS = {
    "approve": (PENDING, APPROVED),
    "reject": (PENDING, REJECTED),
    "hide": (APPROVED, HIDDEN),
}
# Each action's latest approved check-in, one store counter (action id -> its second and
# headcount in one number, so the newest wins in one step): totals count every action,
# not only those in the feed.
HEADCOUNT = "headcount"
WRITES = "checkin-writes"  # a counter of writes per kind, so readers know when to read again
PEOPLE_BITS = 21  # headcounts are at most a million


def headcount_value(latest: Headcount) -> int:
    """Ordered by time first: the larger value is the newer check-in (below 2**53)."""
    return (latest.at_ms // 1000) << PEOPLE_BITS | latest.people


def headcount_of(value: int) -> Headcount:
    return Headcount((value >> PEOPLE_BITS) * 1000, value & ((1 << PEOPLE_BITS) - 1))


def photo_key(checkin_id: str) -> str:
    return f"photo:{checkin_id}"


async def checkin_photo(collections: Collections, checkin_id: str, any_status: bool = False) -> bytes | None:
    """A check-in's photo: to anyone once the check-in is approved, to producers always."""
    record = await collections.get(CHECKIN, checkin_id)
    if record is None or not record.body.get("photo") or not (any_status or record.status == APPROVED):
        return None
    return await collections.get_blob(photo_key(checkin_id))


def air_settings(record: Record) -> AirSettings:
    return AirSettings(**{key: record.body[key] for key in AirSettings.model_fields})


def link_key(token: str) -> str:
    """What the store keeps of a check-in link: its hash (the store alone is no link)."""
    return hashlib.sha256(token.encode()).hexdigest()


class CheckinDesk:
    def __init__(
        self, collections: Collections, hub: LiveHub, clock: Callable[[], int], shared: bool = False
    ) -> None:
        """`shared`: other processes write the same store (Redis); then what is published
        is read back from the store, never only this process's own view of it."""
        self.collections = collections
        self.shared = shared
        self.clock = clock
        self.seen = Projection()
        self.topic = NumberedTopic(
            TOPIC,
            hub,
            collections,
            clock,
            render=lambda now: build_views(self.seen, now),
            load=self.load,
            # Several processes: each publication reads the store again (bounded); one:
            # only how many wait (the queue's own records stay in memory).
            reread=self.load if shared else self._count_waiting,
            per_second=PUBLISH_PER_SECOND,
        )
        self._actions_read: int | None = None  # the action writes the last load had seen

    # --- reading the store -------------------------------------------------------------

    async def load(self) -> None:
        """Read the projection from the store (at start, and when another process changed it)."""
        records = self.collections.records
        headcounts = await self.collections.counts(HEADCOUNT)
        air_record = await self.collections.get(AIR, TOPIC)
        air = AirSettings()
        pin = None
        if air_record is not None:
            air = air_settings(air_record)
            if air_record.body.get("pin"):
                pin = await self.collections.get(CHECKIN, air_record.body["pin"])
        # With several processes each check-in asks the store for its link (action_of_link).
        links = [] if self.shared else await records(LINK, APPROVED, LISTED)
        # Read at every publication when shared: what waits only as far as the queue
        # shows it, and actions only when one was written since the last read.
        queue = QUEUE_SHOWN if self.shared else LISTED
        written = (await self.collections.counts(WRITES)).get(ACTION, 0)
        if self._actions_read is None or written != self._actions_read:
            actions = {record.id: record for record in await records(ACTION, APPROVED, LISTED)}
            pending_actions = {record.id: record for record in await records(ACTION, PENDING, queue)}
            self._actions_read = written
        else:
            actions, pending_actions = self.seen.actions, self.seen.pending_actions
        self.seen = Projection(
            actions=actions,
            feed=await records(CHECKIN, APPROVED, FEED_SIZE, newest_first=True),
            pending_actions=pending_actions,
            pending_checkins={record.id: record for record in await records(CHECKIN, PENDING, queue)},
            links={record.id: str(record.body["action"]) for record in links},
            headcounts={key: headcount_of(value) for key, value in headcounts.items() if value > 0},
            air=air,
            spotlight_pin=pin,
        )
        await self._count_waiting()

    async def _count_waiting(self) -> None:
        self.seen.waiting = {
            ACTION: await self.collections.count(ACTION, PENDING),
            CHECKIN: await self.collections.count(CHECKIN, PENDING),
        }

    async def refresh(self, envelope: Envelope | None) -> None:
        await self.topic.refresh(envelope)

    async def _insert(self, record: Record) -> Record:
        """Keep a new record; a retry that lost the race to its first try gets that one."""
        if not await self.collections.insert(
            record.kind, record.id, record.status, record.body, record.created_ms
        ):
            kept = await self.collections.get(record.kind, record.id)
            if kept is None:
                raise StoreUnavailable(f"{record.kind} {record.id} was neither kept nor found")
            return kept
        await self._written(record)
        return record

    async def _written(self, record: Record) -> None:
        """A record this process wrote: shown soon, and (an action) noted for the other
        processes, which read actions again only then."""
        if record.kind == ACTION:
            await self.collections.add(WRITES, ACTION, 1)  # after the write: see load()
        self._changed(record)

    def _changed(self, record: Record | None = None) -> None:
        """A write of this process is kept: show it, soon."""
        if record is not None:
            self.seen.take(record)
        self.topic.changed()

    async def close(self) -> None:
        await self.topic.close()

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
        await self._written(changed)
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
        record = await self._insert(Record(CHECKIN, record_id, status, body, now, now))
        if record.status == APPROVED:
            await self._count_headcount(record)
        return record

    async def decide_checkin(self, checkin_id: str, decision: str) -> Record | None:
        expected, status = CHECKIN_DECISIONS[decision]
        changed = await self.collections.update(
            CHECKIN, checkin_id, self.clock(), status=status, expected_status=expected
        )
        if changed is None:
            return None
        if changed.status in (REJECTED, HIDDEN) and changed.body.get("photo"):
            # A photo nobody may see again is not kept: it may show a face.
            await self.collections.delete_blob(photo_key(checkin_id))
        self._changed(changed)
        if changed.status == APPROVED:
            await self._count_headcount(changed)
        if changed.status == HIDDEN:
            await self._after_hiding(changed)
        return changed

    async def _count_headcount(self, record: Record) -> None:
        """An approved check-in newer than its action's latest becomes the latest (in
        one store step, whichever process approves); the spotlight follows it."""
        action = str(record.body["action"])
        mine = Headcount(record.created_ms, int(record.body["headcount"]))
        newest = await self.collections.put_max(HEADCOUNT, action, headcount_value(mine))
        self.seen.headcounts[action] = headcount_of(newest)
        if action == self.seen.air.spotlight and self.seen.spotlight_pin is record:
            await self._save_air(self.seen.air, record)

    async def _after_hiding(self, hidden: Record) -> None:
        """The feed, the action's headcount and the spotlight without the hidden check-in."""
        action = str(hidden.body["action"])
        newest = await self.collections.records(CHECKIN, APPROVED, LISTED, newest_first=True)
        previous = next((record for record in newest if record.body["action"] == action), None)
        latest = None if previous is None else Headcount(previous.created_ms, previous.body["headcount"])
        # Backwards, so not raised to a maximum: a hide and an approval of one action in
        # the same instant may leave the older headcount until its next check-in.
        await self.collections.put(HEADCOUNT, action, headcount_value(latest) if latest else 0)
        if latest is None:
            self.seen.headcounts.pop(action, None)
        else:
            self.seen.headcounts[action] = latest
        self.seen.refill(newest[:FEED_SIZE])
        pin = self.seen.spotlight_pin
        if pin is not None and pin.id == hidden.id:
            await self._save_air(self.seen.air, previous if action == self.seen.air.spotlight else None)
        self._changed()

    # --- on air ------------------------------------------------------------------------

    async def set_air(self, changes: Any) -> AirSettings:
        """Producers change the delay, the kill switch or the spotlight; FormError names
        what cannot be."""
        if not isinstance(changes, dict):
            raise FormError("the body must be a JSON object")
        async with self.topic.reading:
            # What another process set a moment ago counts: read, not remembered.
            kept = await self.collections.get(AIR, TOPIC)
            current = air_settings(kept) if kept is not None else self.seen.air
            settings = parse(AirSettings, current.changed_by(changes))
            pin = None
            if settings.spotlight is not None:
                if settings.spotlight not in self.seen.actions:
                    raise FormError("spotlight: not an approved action")
                newest = await self.collections.records(CHECKIN, APPROVED, LISTED, newest_first=True)
                pin = next((r for r in newest if r.body["action"] == settings.spotlight), None)
            await self._save_air(settings, pin)
        self._changed()
        return settings

    async def _save_air(self, settings: AirSettings, pin: Record | None) -> None:
        body = {**settings.model_dump(), "pin": pin.id if pin else None}
        if not await self.collections.insert(AIR, TOPIC, APPROVED, body, self.clock()):
            await self.collections.update(AIR, TOPIC, self.clock(), body=body)
        self.seen.air, self.seen.spotlight_pin = settings, pin

    # --- what people see ---------------------------------------------------------------

    def public_actions(self) -> dict[str, Any]:
        """Approved actions as this process holds them now, and which are live (as last
        published)."""
        return {
            "actions": [public_action(record) for record in self.seen.actions.values()],
            "live": self.topic.topic.views["public"]["live"],
        }

    def public_feed(self) -> list[dict[str, Any]]:
        return [item for record in self.seen.feed if (item := public_checkin(self.seen, record)) is not None]
