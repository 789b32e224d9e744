"""The post board: every source's posts counted once into the store, and the coalesced
`posts` topic built from what the store holds.

A streamed post is counted in one store step that also remembers it was (count_once), so
a replay after a reconnect, a restart or a kill -9 never counts it twice, and a post is
only acknowledged (its cursor moved past) once that step is kept. Polled counts (X)
replace their minute's bucket. Producers adjust the count with a reason, set the goal and
put one recent post on air.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventrunner.posts.tally import ADJUSTMENTS, Tally, Window, bucket_key, build_views
from eventrunner.stores.contract import Collections, Record
from eventrunner.topics.hub import Envelope, LiveHub
from eventrunner.topics.numbered import NumberedTopic

TOPIC = "posts"
SEEN, BUCKETS, CURSORS = "posts-seen", "post-minutes", "post-cursors"
POST, ADJUSTMENT, SETTINGS, HEALTH = "post", "post-adjustment", "post-settings", "post-sources"
RECENT, DELETED = "recent", "deleted"
CANDIDATES_SHOWN = 50  # recent posts producers may pick from
ADJUSTMENTS_SHOWN = 20
MAX_TEXT = 500  # of a post's text, kept for producers to read


@dataclass(frozen=True)
class Post:
    platform: str
    id: str  # unique within its platform (Bluesky: did/rkey; Mastodon: the status URI)
    at_ms: int  # when it was posted: its minute bucket
    text: str = ""
    url: str | None = None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.id}"


class PostBoard:
    def __init__(
        self,
        collections: Collections,
        hub: LiveHub,
        clock: Callable[[], int],
        hashtag: str,
        goal: int | None,
        window: Callable[[], Window],
        shared: bool = False,
    ) -> None:
        self.collections = collections
        self.clock = clock
        self.window = window
        self.shared = shared
        self.tally = Tally(hashtag, window(), goal)
        self.topic = NumberedTopic(
            TOPIC, hub, collections, clock, self._render, self.load, reread=self.load if shared else None
        )

    def _render(self, now: int) -> tuple[dict[str, Any], int | None]:
        self.tally.window = self.window()
        return build_views(self.tally, now)

    async def load(self) -> None:
        """Read the tally from the store (at start, and when another process changed it)."""
        records = self.collections.records
        settings = await self.collections.get(SETTINGS, TOPIC)
        health = await self.collections.get(HEALTH, TOPIC)
        self.tally.buckets = await self.collections.counts(BUCKETS)
        self.tally.adjustments = [
            {**record.body, "at": record.created_ms}
            for record in await records(ADJUSTMENT, None, ADJUSTMENTS_SHOWN, newest_first=True)
        ]
        self.tally.candidates = [
            _candidate(record) for record in await records(POST, RECENT, CANDIDATES_SHOWN, newest_first=True)
        ]
        if settings is not None:
            self.tally.goal = settings.body.get("goal") or self.tally.goal
            self.tally.top = settings.body.get("top")
        if health is not None:
            self.tally.sources = list(health.body.get("sources", []))

    async def refresh(self, envelope: Envelope | None) -> None:
        await self.topic.refresh(envelope)

    async def close(self) -> None:
        await self.topic.close()

    # --- counting -------------------------------------------------------------------------

    async def count(self, post: Post) -> bool:
        """Count `post` once; True if it was new (False: counted before, by any process)."""
        key = bucket_key(post.platform, post.at_ms)
        recent = None
        if post.text:  # kept for producers in the same step as the count
            body = {"platform": post.platform, "text": post.text[:MAX_TEXT], "posted": post.at_ms}
            if post.url:
                body["url"] = post.url
            now = self.clock()
            recent = Record(POST, post.key, RECENT, body, now, now)
        if not await self.collections.count_once(SEEN, post.key, BUCKETS, key, keep=recent):
            return False
        self._shift(key, 1)
        if recent is not None and not self.shared:
            self.tally.candidates.insert(0, _candidate(recent))
            del self.tally.candidates[CANDIDATES_SHOWN:]
        self.topic.changed()
        return True

    async def uncount(self, platform: str, post_id: str, at_ms: int) -> bool:
        """Take a deleted post off the count, if it was counted; and off what producers may
        put on air (and off air): its author took it back."""
        key, post_key = bucket_key(platform, at_ms), f"{platform}:{post_id}"
        if not await self.collections.uncount(SEEN, post_key, BUCKETS, key):
            return False
        self._shift(key, -1)
        await self.collections.update(POST, post_key, self.clock(), status=DELETED, expected_status=RECENT)
        self.tally.candidates = [c for c in self.tally.candidates if c["key"] != post_key]
        if self.shared or self.tally.top is not None:  # alone, this process knows what is on air
            kept = await self.collections.get(SETTINGS, TOPIC)  # what is on air now, by any process
            if kept is not None and (kept.body.get("top") or {}).get("key") == post_key:
                await self.set_settings(None, None, clear_top=True)
        self.topic.changed()
        return True

    def _shift(self, key: str, by: int) -> None:
        """This process's own count moved. With several processes the next publication
        reads the store, which holds it already: applied here too, it would count twice."""
        if not self.shared:
            self.tally.buckets[key] = self.tally.buckets.get(key, 0) + by

    async def replace_minute(self, platform: str, minute_ms: int, count: int) -> None:
        """A polled count for one minute: replaces what an earlier poll said."""
        key = bucket_key(platform, minute_ms)
        if self.tally.buckets.get(key, 0) == count:
            return  # unchanged (an empty minute stays unwritten)
        await self.collections.put(BUCKETS, key, count)
        self.tally.buckets[key] = count
        self.topic.changed()

    async def counted_posts(self, prefix: str) -> set[str]:
        """The keys of the posts counted so far whose key starts with `prefix`."""
        return await self.collections.members(SEEN, prefix)

    async def cursor(self, source: str) -> int | None:
        return (await self.collections.counts(CURSORS)).get(source)

    async def save_cursor(self, source: str, value: int) -> None:
        await self.collections.put(CURSORS, source, value)

    # --- producers --------------------------------------------------------------------------

    async def adjust(self, by: int, reason: str) -> None:
        """A producer's correction, in the current minute's own bucket, with its reason logged."""
        now = self.clock()
        key = bucket_key(ADJUSTMENTS, now)
        body = {"by": by, "reason": reason}
        # The reason first: an adjustment never counts without its reason in the log.
        await self.collections.insert(ADJUSTMENT, secrets.token_urlsafe(9), "done", body, now)
        self.tally.buckets[key] = await self.collections.add(BUCKETS, key, by)  # what the store holds
        if not self.shared:
            self.tally.adjustments.insert(0, {**body, "at": now})
            del self.tally.adjustments[ADJUSTMENTS_SHOWN:]
        self.topic.changed()

    async def set_settings(self, goal: int | None, top_key: str | None, clear_top: bool) -> None:
        kept = await self.collections.get(SETTINGS, TOPIC)  # what another process set counts
        current = kept.body if kept is not None else {"goal": self.tally.goal, "top": self.tally.top}
        body = {"goal": goal or current.get("goal") or self.tally.goal, "top": current.get("top")}
        if clear_top:
            body["top"] = None
        elif top_key is not None:
            record = await self.collections.get(POST, top_key)
            if record is None or record.status != RECENT:
                raise LookupError(f"top: no recent post {top_key}")
            body["top"] = _candidate(record)
        if not await self.collections.insert(SETTINGS, TOPIC, "set", body, self.clock()):
            await self.collections.update(SETTINGS, TOPIC, self.clock(), body=body)
        self.tally.goal, self.tally.top = body["goal"], body["top"]
        self.topic.changed()

    async def save_health(self, sources: list[dict[str, Any]]) -> None:
        """The sources' health as the process that runs them sees it."""
        body = {"sources": sources}
        if not await self.collections.insert(HEALTH, TOPIC, "set", body, self.clock()):
            await self.collections.update(HEALTH, TOPIC, self.clock(), body=body)
        self.tally.sources = sources
        self.topic.changed()


def _candidate(record: Record) -> dict[str, Any]:
    """A recent post as producers see it before picking one (only ever shown as text)."""
    body = record.body
    shown = {"key": record.id, "platform": body["platform"], "text": body["text"], "at": body["posted"]}
    if body.get("url"):
        shown["url"] = body["url"]
    return shown
