"""A recorded stream of posts played back, at its own pace or faster, for rehearsals: one
JSON object a line, `{"at": <ISO 8601 or epoch ms>, "platform", "id", "text" or "tags"}`.
Each post is counted at the moment it plays (on the show's clock, so it lands in the
counting window of a rehearsal); the line reached is kept, so a restart goes on from
there."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from eventrunner.core.timeparse import instant_ms
from eventrunner.posts.board import Post, PostBoard
from eventrunner.posts.hashtags import normalize_tag, tags_in_text
from eventrunner.posts.sources.supervisor import Health
from eventrunner.posts.tally import RESERVED_PLATFORMS

CHECKPOINT_S = 1.0


class ReplaySource:
    name = "replay"
    platform = "replay"

    def __init__(
        self, path: Path, board: PostBoard, hashtag: str, speed: float, clock: Callable[[], int]
    ) -> None:
        self.path = path
        self.board = board
        self.wanted = normalize_tag(hashtag)
        self.speed = speed
        self.clock = clock

    async def run(self, health: Health) -> None:
        lines = self.path.read_bytes().splitlines()
        reached = await self.board.cursor(self.name) or 0
        health.state = "playing"
        started, first_at = time.monotonic(), None
        saved_at = time.monotonic()
        for number in range(reached, len(lines)):
            line = lines[number].strip()
            post = _read(line)
            if post is None:
                health.skipped += bool(line)
                continue
            at_ms, platform, post_id, text, tags = post
            if platform in RESERVED_PLATFORMS:
                health.skipped += 1  # X's minutes are its polls'; adjustments are producers'
                continue
            first_at = at_ms if first_at is None else first_at
            wait = started + (at_ms - first_at) / 1000 / self.speed - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if self.wanted in tags | tags_in_text(text):
                now = self.clock()
                if await self.board.count(Post(platform, post_id, now, text)):
                    health.counted += 1
                health.last_event_ms, health.lag_ms = now, 0
            if time.monotonic() - saved_at >= CHECKPOINT_S:
                await self.board.save_cursor(self.name, number + 1)
                saved_at = time.monotonic()
        await self.board.save_cursor(self.name, len(lines))


def _read(line: bytes) -> tuple[int, str, str, str, set[str]] | None:
    """(at ms, platform, id, text, tags) of a line, or None for one that is not a post."""
    try:
        data: Any = orjson.loads(line)
        at = data["at"]
        at_ms = int(at) if isinstance(at, int | float) and not isinstance(at, bool) else instant_ms(str(at))
        tags = {normalize_tag(str(tag)) for tag in data.get("tags") or []}
        return at_ms, str(data["platform"]), str(data["id"]), str(data.get("text") or ""), tags
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
        return None
