"""Bluesky, through Jetstream (v1 wire format): every post on the network arrives on one
websocket, and posts with the hashtag (in a tag facet, the post's extra tags, or its
text) are counted; a deletion of a counted post takes it off again.

The firehose is mostly other posts: a message is parsed only when its raw text holds the
tag's letters in ASCII (any case), or a character that NFKC folds into them (full-width,
mathematical, ligatures), or is a deletion of a post this source counted; the rest is
passed over unparsed. Store steps run while the loop reads on (the store commits them
together), one post's in order.
Resuming: the `time_us` of the newest message is kept in the store every second, once
every store step before it is kept; a reconnect asks Jetstream to replay from a few
seconds before it (delivery is at least once, and the store counts each post once).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections import deque
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

import aiohttp
import orjson

from eventrunner.access.offenders import OffenderLog
from eventrunner.posts.board import Post, PostBoard
from eventrunner.posts.hashtags import HASH_SIGNS, ascii_probe, lookalikes, normalize_tag, tags_in_text
from eventrunner.posts.sources.supervisor import Health, checkpoints

log = logging.getLogger(__name__)

POSTS = "app.bsky.feed.post"
REWIND_US = 5_000_000  # replay this much before the saved cursor on a reconnect
MAX_MESSAGE = 4 << 20  # Jetstream's events are a few KB; far larger is not one
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID_VALUES = {char: value for value, char in enumerate(TID_ALPHABET)}
_TID = re.compile(r"[2-7a-j][2-7a-z]{12}")
_TIME_US = re.compile(r'"time_us"\s*:\s*(\d+)')
MAX_STEPS = 512  # store steps under way at once
IDLE_S = 60.0  # a firehose this long silent is a broken connection
DELETE_WITHIN = 512  # characters: a deletion (no record) says so well within its first 512


def _has_wide_hash(raw: str) -> bool:
    """A number sign other than '#' that NFKC folds to it."""
    return any(sign in raw for sign in HASH_SIGNS[1:])


def tid_time_ms(rkey: str) -> int | None:
    """The instant a TID record key was made (Bluesky posts' keys are TIDs), or None."""
    if not _TID.fullmatch(rkey):
        return None
    value = 0
    for char in rkey:
        value = value * 32 + _TID_VALUES[char]
    return (value >> 10) // 1000


class JetstreamSource:
    platform = "bluesky"

    def __init__(self, url: str, board: PostBoard, hashtag: str, name: str = "bluesky") -> None:
        self.url = url
        self.board = board
        self.name = name
        self.wanted = normalize_tag(hashtag)
        probe = ascii_probe(hashtag)
        self._probe = probe.decode() if probe else None
        self._lookalikes = lookalikes(hashtag) if probe else None
        self.problems = OffenderLog(log)
        self._last = ""  # the newest message read (its time_us is read when a cursor is kept)
        self._last_seen, self._idle_since = "", time.monotonic()  # for the silence watchdog
        self._saved_us: int | None = None
        # Store steps under way, in order: the loop reads on while they are kept, and the
        # store commits them together. A cursor is kept only once those before it are.
        self._steps: deque[asyncio.Task[None]] = deque()
        self._steps_by_post: dict[str, asyncio.Task[None]] = {}
        self._counted: set[str] = set()  # did/rkey of the posts counted: a deletion of another is no news
        self._broken = False  # a store step failed or was cut short: no cursor may pass it
        self._authors: set[str | None] = {None}  # their authors (None: a message whose did is unread)

    async def run(self, health: Health) -> None:
        # A new connection starts clean: nothing from the last one may move the cursor.
        self._last, self._saved_us, self._broken = "", None, False
        self._counted = {
            member.split(":", 1)[1] for member in await self.board.counted_posts(f"{self.platform}:")
        }
        self._authors = {None, *(post_id.rsplit("/", 1)[0] for post_id in self._counted)}
        cursor = await self.board.cursor(self.name)
        params: list[tuple[str, str]] = [("wantedCollections", POSTS)]
        if cursor:
            params.append(("cursor", str(max(0, cursor - REWIND_US))))
        health.state = "connecting"
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.ws_connect(self.url, params=params, heartbeat=30, max_msg_size=MAX_MESSAGE) as socket,
            ):
                health.state = "live"
                self._idle_since = time.monotonic()

                async def keep(
                    health: Health = health, socket: aiohttp.ClientWebSocketResponse = socket
                ) -> None:
                    if self._quiet(IDLE_S):
                        # Connected but silent: a host blind to the network (the firehose
                        # never stops). Close, and the supervisor connects again.
                        await socket.close()
                    await self.checkpoint(health)

                async with checkpoints(keep):
                    async for message in socket:
                        if message.type is aiohttp.WSMsgType.TEXT:
                            work = self.take(message.data, health)
                            if work is not None:
                                await work
                        elif message.type is aiohttp.WSMsgType.BINARY:
                            health.skipped += 1  # compression was not asked for: not ours to read
                        else:
                            break
        finally:
            self._broken = True  # what is left is not kept: no cursor past it
            for step in self._steps:
                step.cancel()
            self._steps.clear()
            self._steps_by_post.clear()
        raise ConnectionError(f"the stream closed ({socket.close_code or 'no close code'})")

    async def checkpoint(self, health: Health | None = None) -> None:
        """Keep the newest message's time once every step before it is kept: a restart
        resumes a little before it, and nothing after the cursor was left uncounted."""
        found = _TIME_US.search(self._last, 0, 400)  # near the start (after a did:web, too)
        if found is None:
            return
        newest = int(found[1])
        await self.drain()
        if self._broken:
            raise ConnectionError("a store step failed: the cursor stays before it")
        if newest != self._saved_us:
            await self.board.save_cursor(self.name, newest)
            self._saved_us = newest
        if health is not None:
            health.last_event_ms = newest // 1000
            health.lag_ms = max(0, int(time.time() * 1000) - health.last_event_ms)

    def _quiet(self, seconds: float) -> bool:
        """No message for `seconds` (checked once a second: the hot path keeps no clock)."""
        if self._last is not self._last_seen:
            self._last_seen, self._idle_since = self._last, time.monotonic()
        return time.monotonic() - self._idle_since >= seconds

    async def drain(self) -> None:
        """Wait for the store steps under way now, without taking them off the list (the
        read loop does, and fails on a failed one); a wait cut short cancels none."""
        steps = list(self._steps)
        if steps:
            await asyncio.wait(steps)
        if any(step.cancelled() or step.exception() is not None for step in steps):
            self._broken = True

    def take(self, raw: str, health: Health) -> Coroutine[Any, Any, None] | None:
        """One message. Most of the firehose is passed over here, at once (None); what
        may count or uncount a post comes back as the work to await."""
        self._last = raw
        while self._steps and self._steps[0].done():
            self._steps.popleft().result()  # a store step that failed fails the source here
        return self._handle(raw, health) if self._might_matter(raw) else None

    async def _handle(self, raw: str, health: Health) -> None:
        """A message that may count or uncount a post. What it holds is read first (bad
        input is logged and passed over); the store's work comes after, and its errors
        are the store's: they fail the source, and the cursor stays before them."""
        try:
            work = self._work_of(orjson.loads(raw), health)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
            health.skipped += 1
            self.problems.note("posts: %s: skipped what is no Jetstream event: %s", self.name, error)
            return
        if work is not None:
            await self._step(*work)

    def _work_of(self, event: dict[str, Any], health: Health) -> tuple[str, Coroutine[Any, Any, None]] | None:
        """(the post's id, the store step) an event asks for, or None."""
        int(event["time_us"])  # an event without its time is no Jetstream event
        if event.get("kind") != "commit":
            return None
        did, commit = str(event["did"]), event["commit"]
        if commit.get("collection") != POSTS:
            return None
        rkey = str(commit["rkey"])
        post_id = f"{did}/{rkey}"
        operation = commit.get("operation")
        if operation == "create" and self._has_tag(commit["record"]):
            record = commit["record"]
            at_ms = tid_time_ms(rkey) or _created_ms(record) or int(event["time_us"]) // 1000
            url = f"https://bsky.app/profile/{did}/post/{rkey}"
            post = Post(self.platform, post_id, at_ms, str(record.get("text", "")), url=url)
            self._counted.add(post_id)
            self._authors.add(did)
            return post_id, self._count(post, health)
        if operation == "delete" and post_id in self._counted:
            at_ms = tid_time_ms(rkey)  # counted in the minute its key was made: found there
            if at_ms is not None:
                self._counted.discard(post_id)
                return post_id, self._uncount(post_id, at_ms, health)
        return None

    def _might_matter(self, raw: str) -> bool:
        """Could this message hold the tag, or delete a post? Most of the firehose cannot:
        it is passed over without being parsed. A tag in the text comes after a number
        sign, a tag facet's type names one ("…facet#tag"), and extra tags come as "tags":
        a message with none of these holds no tag at all."""
        if raw.find('"operation":"delete"', 0, DELETE_WITHIN) >= 0 and self._author_of(raw) in self._authors:
            return True  # only a deletion by the author of a counted post matters
        if self._probe is None:
            return True
        if "#" not in raw and '"tags"' not in raw and (raw.isascii() or not _has_wide_hash(raw)):
            return False
        if self._probe in raw.lower():
            return True
        return not raw.isascii() and self._lookalikes is not None and self._lookalikes.search(raw) is not None

    @staticmethod
    def _author_of(raw: str) -> str | None:
        """The `did` of a message, read without parsing it (None: not found, then parse)."""
        start = raw.find('"did":"')
        end = raw.find('"', start + 7) if start >= 0 else -1
        return raw[start + 7 : end] if end > 0 else None

    async def _count(self, post: Post, health: Health) -> None:
        if await self.board.count(post):
            health.counted += 1

    async def _uncount(self, post_id: str, at_ms: int, health: Health) -> None:
        if await self.board.uncount(self.platform, post_id, at_ms):
            health.counted -= 1

    async def _step(self, post_id: str, work: Coroutine[Any, Any, None]) -> None:
        """Start a store step; one post's steps run one after the other, and at most
        MAX_STEPS are under way."""
        before = self._steps_by_post.get(post_id)
        if before is not None and not before.done():
            await asyncio.wait([before])  # a deletion waits for its post's count (its failure: see take)
        step = asyncio.create_task(work)
        self._steps.append(step)
        self._steps_by_post[post_id] = step
        step.add_done_callback(lambda done: self._forget(post_id, done))
        if len(self._steps) > MAX_STEPS:
            await asyncio.wait([self._steps[0]])  # the read loop takes it off (and fails on it)

    def _forget(self, post_id: str, step: asyncio.Task[None]) -> None:
        if self._steps_by_post.get(post_id) is step:
            del self._steps_by_post[post_id]

    def _has_tag(self, record: dict[str, Any]) -> bool:
        tags = {normalize_tag(str(tag)) for tag in record.get("tags") or []}
        for facet in record.get("facets") or []:
            for feature in facet.get("features") or []:
                if feature.get("$type") == "app.bsky.richtext.facet#tag":
                    tags.add(normalize_tag(str(feature.get("tag", ""))))
        return self.wanted in tags or self.wanted in tags_in_text(str(record.get("text", "")))


def _created_ms(record: dict[str, Any]) -> int | None:
    try:
        return int(datetime.fromisoformat(str(record["createdAt"])).timestamp() * 1000)
    except (KeyError, ValueError):
        return None
