"""Bluesky, through Jetstream (v1 wire format): every post on the network arrives on one
websocket, and posts with the hashtag (in a tag facet, the post's extra tags, or its
text) are counted; a deletion of a counted post takes it off again.

The firehose is mostly other posts: a message is only parsed when its raw text could hold
the hashtag (or is a deletion), which makes the filter far cheaper than parsing all.
Resuming: the `time_us` of the newest handled event is kept in the store every second
(and at once for the first);
a reconnect asks Jetstream to replay from a few seconds before it (delivery is at least
once, and the store counts each post once).
"""

from __future__ import annotations

import logging
import re
import time
from datetime import datetime
from typing import Any

import aiohttp
import orjson

from eventrunner.access.offenders import OffenderLog
from eventrunner.posts.board import Post, PostBoard
from eventrunner.posts.hashtags import ascii_probe, normalize_tag, tags_in_text
from eventrunner.posts.sources.supervisor import Health, checkpoints

log = logging.getLogger(__name__)

POSTS = "app.bsky.feed.post"
REWIND_US = 5_000_000  # replay this much before the saved cursor on a reconnect
MAX_MESSAGE = 1 << 20  # Jetstream's events are a few KB; anything larger is not one
TID_ALPHABET = "234567abcdefghijklmnopqrstuvwxyz"
_TID_VALUES = {char: value for value, char in enumerate(TID_ALPHABET)}
_TID = re.compile(r"[2-7a-j][2-7a-z]{12}")
_TIME_US = re.compile(r'"time_us"\s*:\s*(\d+)')
# Full-width letters and the full-width number sign fold to ASCII under NFKC: a message
# holding any of them is parsed, whatever the quick probe says.
_FULL_WIDTH = re.compile("[\uff03\uff10-\uff5a]")


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
        self._probe = re.compile(re.escape(probe.decode()), re.IGNORECASE) if probe else None
        self.problems = OffenderLog(log)
        self._newest_us: int | None = None  # time_us of the newest handled event
        self._saved_us: int | None = None

    async def run(self, health: Health) -> None:
        cursor = await self.board.cursor(self.name)
        params: list[tuple[str, str]] = [("wantedCollections", POSTS)]
        if cursor:
            params.append(("cursor", str(max(0, cursor - REWIND_US))))
        health.state = "connecting"
        async with (
            aiohttp.ClientSession() as session,
            session.ws_connect(self.url, params=params, heartbeat=30, max_msg_size=MAX_MESSAGE) as socket,
        ):
            health.state = "live"
            async with checkpoints(self.checkpoint):
                async for message in socket:
                    if message.type is aiohttp.WSMsgType.TEXT:
                        await self.handle(message.data, health)
                    elif message.type is aiohttp.WSMsgType.BINARY:
                        health.skipped += 1  # compression was not asked for: not ours to read
                    else:
                        break
        raise ConnectionError(f"the stream closed ({socket.close_code or 'no close code'})")

    async def checkpoint(self) -> None:
        """Keep the newest handled event's time: a restart resumes a little before it."""
        if self._newest_us is not None and self._newest_us != self._saved_us:
            await self.board.save_cursor(self.name, self._newest_us)
            self._saved_us = self._newest_us

    async def handle(self, raw: str, health: Health) -> None:
        """One message: counted, uncounted, or passed over; never raises for bad input."""
        if not self._might_matter(raw):
            found = _TIME_US.search(raw, 0, 200)  # near the start in Jetstream's layout
            if found:
                self._seen(int(found[1]), health)
            return
        try:
            event = orjson.loads(raw)
            time_us = int(event["time_us"])
            if event.get("kind") == "commit":
                await self._commit(event["did"], event["commit"], time_us, health)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as error:
            health.skipped += 1
            self.problems.note("posts: %s: skipped what is no Jetstream event: %s", self.name, error)
            return
        self._seen(time_us, health)

    def _might_matter(self, raw: str) -> bool:
        if self._probe is None or '"delete"' in raw:
            return True
        return bool(self._probe.search(raw) or _FULL_WIDTH.search(raw))

    def _seen(self, time_us: int, health: Health) -> None:
        self._newest_us = time_us if self._newest_us is None else max(self._newest_us, time_us)
        health.last_event_ms = time_us // 1000
        health.lag_ms = max(0, int(time.time() * 1000) - health.last_event_ms)

    async def _commit(self, did: str, commit: dict[str, Any], time_us: int, health: Health) -> None:
        if commit.get("collection") != POSTS:
            return
        rkey = str(commit["rkey"])
        operation = commit.get("operation")
        if operation == "create" and self._has_tag(commit["record"]):
            record = commit["record"]
            at_ms = tid_time_ms(rkey) or _created_ms(record) or time_us // 1000
            post = Post(
                self.platform,
                f"{did}/{rkey}",
                at_ms,
                str(record.get("text", "")),
                url=f"https://bsky.app/profile/{did}/post/{rkey}",
            )
            if await self.board.count(post):
                health.counted += 1
        elif operation == "delete":
            # Counted in the minute its key was made: the deletion finds it there.
            at_ms = tid_time_ms(rkey)
            if at_ms is not None and await self.board.uncount(self.platform, f"{did}/{rkey}", at_ms):
                health.counted -= 1

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
