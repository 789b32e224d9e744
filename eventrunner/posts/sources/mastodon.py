"""Mastodon: one instance's hashtag stream over a websocket (with a user token; since 4.2
streaming needs one), or its public tag timeline, polled, without one. Reblogs are not
posts. A status is counted once by its URI, whichever instance delivered it.

No gaps: the newest status id handled is kept in the store; on every (re)connect the tag
timeline is read from there (`min_id`, oldest first) before and while the stream runs,
so what was posted while the connection was down is counted too.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp
import orjson

from eventrunner.access.offenders import OffenderLog
from eventrunner.core.timeparse import instant_ms
from eventrunner.posts.board import Post, PostBoard
from eventrunner.posts.hashtags import normalize_tag
from eventrunner.posts.sources.supervisor import Health, checkpoints

log = logging.getLogger(__name__)

PAGE = 40  # the most a tag timeline page holds
REWIND_MS = 5 * 60_000  # how far back a catch-up reads before the newest id handled
SNOWFLAKE_SHIFT = 16  # Mastodon ids are ms << 16 (plus a sequence)
MAX_CATCH_UP_PAGES = 50
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=30)
REMEMBERED = 10_000  # statuses whose id -> URI is kept, to take a deleted one off


class MastodonSource:
    platform = "mastodon"

    def __init__(
        self, instance: str, board: PostBoard, hashtag: str, token: str | None, poll_every_s: float = 10.0
    ) -> None:
        self.instance = instance.rstrip("/")
        self.host = urlsplit(self.instance).netloc.lower()
        self.name = f"mastodon:{self.host}"
        self.board = board
        self.token = token
        self.poll_every_s = poll_every_s
        self.tag = hashtag.lstrip("#")
        self.wanted = normalize_tag(hashtag)
        self.problems = OffenderLog(log)
        self._counted: OrderedDict[str, tuple[str, int]] = OrderedDict()  # status id -> (URI, minute)
        self._newest: int | None = None  # the newest status id handled
        self._saved: int | None = None

    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def run(self, health: Health) -> None:
        self._newest = self._saved = await self.board.cursor(self.name)
        async with aiohttp.ClientSession(headers=self._headers()) as session:
            if self.token:
                try:
                    await self._stream(session, health)
                except aiohttp.WSServerHandshakeError as refused:
                    if refused.status not in (401, 403, 404):
                        raise
                    # The token is refused, or streaming lives on another host (its
                    # redirect drops the token): the tag timeline still counts.
                    health.failed(refused)
                    self.problems.note(
                        "posts: %s: streaming refused (%s); polling instead", self.name, refused.status
                    )
            await self._poll(session, health)

    async def _poll(self, session: aiohttp.ClientSession, health: Health) -> None:
        while True:
            health.state = "polling"
            await self._catch_up(session, health)
            await self.checkpoint()
            await asyncio.sleep(self.poll_every_s)

    async def _stream(self, session: aiohttp.ClientSession, health: Health) -> None:
        scheme = "wss" if self.instance.startswith("https") else "ws"
        url = f"{scheme}://{self.host}/api/v1/streaming"
        health.state = "connecting"
        async with session.ws_connect(
            url, params={"stream": "hashtag", "tag": self.tag}, heartbeat=30
        ) as socket:
            health.state = "live"
            async with checkpoints(self.checkpoint):
                await self._catch_up(session, health)  # what was posted while it was down
                async for message in socket:
                    if message.type is not aiohttp.WSMsgType.TEXT:
                        break
                    await self.handle_frame(message.data, health)
        raise ConnectionError(f"the stream closed ({socket.close_code or 'no close code'})")

    async def _catch_up(self, session: aiohttp.ClientSession, health: Health) -> None:
        """The tag timeline from a few minutes before the newest status handled, oldest
        first, page by page (without a cursor: the newest page only, to start from now).
        A status from another server gets its id from its own created_at, so one that
        arrives late sits below the newest id: the rewind finds it, and the URI counts
        each status once."""
        url = f"{self.instance}/api/v1/timelines/tag/{quote(self.tag)}"
        since = None if self._newest is None else max(0, self._newest - (REWIND_MS << SNOWFLAKE_SHIFT))
        for _ in range(MAX_CATCH_UP_PAGES):  # a server that ignores min_id must not spin
            params = {"limit": str(PAGE)}
            if since is not None:
                params["min_id"] = str(since)
            async with session.get(url, params=params, timeout=HTTP_TIMEOUT) as answer:
                if answer.status != 200:
                    raise ConnectionError(f"the tag timeline answered {answer.status}")
                page = orjson.loads(await answer.read())
            if not isinstance(page, list):
                raise ValueError("the tag timeline did not answer with a list of statuses")
            for status in sorted(page, key=_id_order):  # oldest first: the cursor only moves on
                await self.handle_status(status, health)
            highest = max((_id_order(status) for status in page), default=0)
            if since is None or len(page) < PAGE or highest <= since:
                return
            since = highest

    async def handle_frame(self, raw: str, health: Health) -> None:
        """One streaming frame; bad ones are logged and skipped."""
        try:
            frame = orjson.loads(raw)
            if "error" in frame:
                raise ConnectionError(f"the stream refused: {frame['error']}")
            event, payload = frame.get("event"), frame.get("payload")
            if event == "update":
                await self.handle_status(orjson.loads(payload), health)
            elif event == "delete":
                await self._deleted(str(payload), health)
        except ConnectionError:
            raise
        except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError, KeyError) as error:
            health.skipped += 1
            self.problems.note("posts: %s: skipped a frame that is not a status: %s", self.name, error)

    async def handle_status(self, status: Any, health: Health) -> None:
        try:
            status_id = int(status["id"])
            uri = str(status["uri"])
            at_ms = instant_ms(str(status["created_at"]))
            tags = {normalize_tag(str(tag["name"])) for tag in status.get("tags") or []}
            reblog = status.get("reblog")
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            health.skipped += 1
            self.problems.note("posts: %s: skipped a status that cannot be read: %s", self.name, error)
            return
        health.last_event_ms = at_ms
        health.lag_ms = max(0, int(time.time() * 1000) - at_ms)
        if not reblog and self.wanted in tags:  # a reblog repeats a post; without the tag: not ours
            url = status.get("url")
            text = text_of(str(status.get("content") or ""))
            if await self.board.count(Post(self.platform, uri, at_ms, text, url if _web(url) else None)):
                health.counted += 1
            self._counted[str(status_id)] = (uri, at_ms)
            while len(self._counted) > REMEMBERED:
                self._counted.popitem(last=False)
        # Only now, counted: a cursor never passes a status that was not.
        self._newest = status_id if self._newest is None else max(self._newest, status_id)

    async def _deleted(self, status_id: str, health: Health) -> None:
        known = self._counted.pop(status_id, None)
        if known is not None and await self.board.uncount(self.platform, *known):
            health.counted -= 1

    async def checkpoint(self) -> None:
        if self._newest is not None and self._newest != self._saved:
            await self.board.save_cursor(self.name, self._newest)
            self._saved = self._newest


def _id_order(status: Any) -> int:
    try:
        return int(status["id"])
    except (KeyError, TypeError, ValueError):
        return 0  # read (and skipped) first


def _web(url: Any) -> bool:
    return isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) < 2000


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("br", "p") and self.parts:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def text_of(content: str) -> str:
    """A status's HTML as plain text (shown to producers as text, never as markup)."""
    parser = _Text()
    parser.feed(content)
    parser.close()
    return " ".join("".join(parser.parts).split())
