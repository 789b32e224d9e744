"""X: recent post counts, polled with an app bearer token. X counts, it does not stream
here: each poll asks for the per-minute counts over the counting window (as far back as
the API allows, 7 days) and each minute's count replaces what an earlier poll said, since
X corrects recent minutes after the fact.

Accepts both names X has used for the figure (`tweet_count`, and `post_count` since the
2026-08 spec). Inside the documented limit of 300 requests per 15 minutes: a poll every
`every` (at least 3 s; a window past a day may take a second page); a 429 waits until
`x-rate-limit-reset`; ten minutes after the window closes, it stops asking.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp
import orjson

from eventrunner.core.timeparse import instant_ms
from eventrunner.posts.board import PostBoard
from eventrunner.posts.sources.supervisor import Health, RetryAfter
from eventrunner.posts.tally import MINUTE_MS, Window

COUNTS_PATH = "/2/tweets/counts/recent"
MIN_EVERY_S = 3.0
REACH_MS = 7 * 24 * 3_600_000 - 5 * MINUTE_MS  # how far back recent counts reach, with room
SETTLED_MS = 30_000  # X counts up to about 30 s before now
SETTLED_AFTER_MS = 10 * MINUTE_MS  # how long after the window X may still correct a minute
MAX_PAGES = 20
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)


class WindowOver(Exception):
    """The counting window closed long enough ago: nothing more to ask X."""


class XCountsSource:
    platform = "x"
    name = "x"

    def __init__(
        self,
        api: str,
        board: PostBoard,
        query: str,
        token: str,
        every_s: float,
        window: Callable[[], Window],
        clock: Callable[[], int],
    ) -> None:
        self.url = api.rstrip("/") + COUNTS_PATH
        self.board = board
        self.query = query
        self.token = token
        self.every_s = max(MIN_EVERY_S, every_s)
        self.window = window
        self.clock = clock

    async def run(self, health: Health) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with aiohttp.ClientSession(headers=headers, timeout=HTTP_TIMEOUT) as session:
            while True:
                try:
                    await self.poll(session, health)
                except WindowOver:
                    return  # done: the supervisor marks it so
                await asyncio.sleep(self.every_s)

    async def poll(self, session: aiohttp.ClientSession, health: Health) -> None:
        now = self.clock()
        window = self.window()
        start = max(window.start, now - REACH_MS) // MINUTE_MS * MINUTE_MS
        end = min(window.end, now - SETTLED_MS)
        if end <= start:
            health.state = "waiting for the window"
            return
        if now > window.end + SETTLED_AFTER_MS:
            # The window closed and X has settled its counts: no more requests (they cost).
            raise WindowOver
        params = {
            "query": self.query,
            "granularity": "minute",
            "start_time": _stamp(start),
            "end_time": _stamp(end),
        }
        for _ in range(MAX_PAGES):
            page = await self._get(session, params)
            for bucket in page.get("data") or []:
                try:
                    minute, count = _bucket(bucket)
                except (KeyError, TypeError, ValueError, AttributeError):
                    health.skipped += 1  # one unreadable minute; the others still count
                    continue
                await self.board.replace_minute(self.platform, minute, count)
            token = (page.get("meta") or {}).get("next_token")
            if not token:
                break
            params["next_token"] = str(token)
        health.state = "polling"
        health.last_event_ms = end
        health.lag_ms = max(0, now - end)

    async def _get(self, session: aiohttp.ClientSession, params: dict[str, str]) -> dict[str, Any]:
        async with session.get(self.url, params=params) as answer:
            body = await answer.read()
            if answer.status == 429:
                reset = _number(answer.headers.get("x-rate-limit-reset"))
                wait = max(1.0, reset - time.time()) if reset else 60.0
                raise RetryAfter(min(wait, 900.0), "X's rate limit: waiting for its reset")
            if answer.status == 401:
                raise PermissionError("X refused the bearer token (401)")
            if answer.status != 200:
                raise ConnectionError(f"X answered {answer.status}: {body[:200]!r}")
        page = orjson.loads(body)
        if not isinstance(page, dict):
            raise ValueError("X's counts are not a JSON object")
        return page


def _bucket(bucket: Any) -> tuple[int, int]:
    """(the minute's start in ms, its count) from one of X's buckets."""
    count = bucket.get("post_count", bucket.get("tweet_count"))
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise ValueError(f"a bucket without a count: {bucket!r}"[:200])
    return instant_ms(str(bucket["start"])) // MINUTE_MS * MINUTE_MS, count


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
