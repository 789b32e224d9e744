"""The post-count API: the count (public), the signed webhook any tool can post to, and
the producers' adjustments, goal and top post."""

from __future__ import annotations

import hashlib
import hmac
import re
from datetime import datetime
from typing import Annotated

import orjson
from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from eventrunner.access.auth import ProducerAuth
from eventrunner.core.validation import FormError, parse
from eventrunner.posts.board import Post, PostBoard
from eventrunner.posts.hashtags import normalize_tag, tags_in_text
from eventrunner.posts.tally import MINUTE_MS, RESERVED_PLATFORMS, summary
from eventrunner.web.api import error_response, json_response, producer_refusal, store_or_503
from eventrunner.web.bodies import json_body

WEBHOOK_PATH = "/api/posts/webhook"
MAX_WEBHOOK_BYTES = 64 * 1024  # the application's client_max_size
MAX_SETTINGS_BYTES = 4096
MAX_WEBHOOK_POSTS = 1000
SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")
Platform = Annotated[str, Field(pattern=r"^[a-z0-9_-]{1,20}$")]


class WebhookPost(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    platform: Platform
    id: str = Field(min_length=1, max_length=300)
    created_at: AwareDatetime
    text: str = Field(default="", max_length=5000)
    tags: list[Annotated[str, Field(max_length=200)]] = Field(default=[], max_length=100)

    @model_validator(mode="after")
    def _something_to_match(self) -> WebhookPost:
        if not self.text and not self.tags:
            raise ValueError("a post needs its text or its tags")
        if self.platform in RESERVED_PLATFORMS:
            raise ValueError(f"platform: '{self.platform}' is counted by its own source (or is adjustments)")
        return self


class WebhookBody(BaseModel):
    posts: list[WebhookPost] = Field(min_length=1, max_length=MAX_WEBHOOK_POSTS)


class Adjustment(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    by: int = Field(ge=-1_000_000, le=1_000_000, strict=True)
    reason: str = Field(min_length=1, max_length=200)

    @model_validator(mode="after")
    def _not_zero(self) -> Adjustment:
        if self.by == 0:
            raise ValueError("by: an adjustment changes the count (not 0)")
        return self


class CountSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    goal: int | None = Field(default=None, ge=1, le=1_000_000_000, strict=True)
    top: str | None = Field(default=None, min_length=1, max_length=400)  # a recent post's key


class PostRoutes:
    def __init__(self, board: PostBoard, auth: ProducerAuth, webhook_secret: str | None) -> None:
        self.board = board
        self.auth = auth
        self.secret = webhook_secret.encode() if webhook_secret else None

    def register(self, app: web.Application) -> None:
        app.router.add_get("/api/posts", self.count)
        app.router.add_post(WEBHOOK_PATH, store_or_503(self.webhook))
        app.router.add_post("/api/posts/adjust", store_or_503(self.adjust))
        app.router.add_post("/api/posts/settings", store_or_503(self.settings))

    async def count(self, request: web.Request) -> web.Response:
        tally = self.board.tally
        minutes = tally.per_minute()
        return json_response(
            {
                **summary(tally),
                "per_minute": [
                    {"at": minute * MINUTE_MS, "count": sum(counts.values()), "by_platform": counts}
                    for minute, counts in sorted(minutes.items())
                ],
                "goal": tally.goal,
                "window": {"start": tally.window.start, "end": tally.window.end},
                # What each source is doing; its errors are for producers (the console).
                "sources": [
                    {k: v for k, v in source.items() if k != "last_error"} for source in tally.sources
                ],
            }
        )

    async def webhook(self, request: web.Request) -> web.Response:
        if self.secret is None:
            return error_response(503, "the webhook has no secret yet: set EVENTRUNNER_WEBHOOK_SECRET")
        too_large = error_response(413, f"a webhook body is at most {MAX_WEBHOOK_BYTES} bytes")
        if request.content_length is not None and request.content_length > MAX_WEBHOOK_BYTES:
            return too_large
        try:
            body = await request.read()  # all of it, within client_max_size
        except web.HTTPRequestEntityTooLarge:
            return too_large
        signature = SIGNATURE.fullmatch(request.headers.get("X-Eventrunner-Signature", "").strip())
        expected = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        if signature is None or not hmac.compare_digest(signature[1].lower(), expected):
            return error_response(
                401, "X-Eventrunner-Signature: sha256=<HMAC-SHA256 of the body> is missing or wrong"
            )
        try:
            data = orjson.loads(body)
            posts = parse(WebhookBody, {"posts": data if isinstance(data, list) else [data]}).posts
        except orjson.JSONDecodeError as error:
            return error_response(400, f"the body is not JSON: {error}")
        except FormError as error:
            return error_response(400, str(error))
        wanted = normalize_tag(self.board.tally.hashtag)
        answer = {"counted": 0, "already": 0, "without_hashtag": 0}
        for post in posts:
            tags = {normalize_tag(tag) for tag in post.tags} | tags_in_text(post.text)
            if wanted not in tags:
                answer["without_hashtag"] += 1
                continue
            counted = await self.board.count(Post(post.platform, post.id, _ms(post.created_at), post.text))
            answer["counted" if counted else "already"] += 1
        return json_response(answer)

    async def adjust(self, request: web.Request) -> web.Response:
        refused = await producer_refusal(self.auth, request, "only producers adjust the count")
        if refused is not None:
            return refused
        try:
            adjustment = parse(Adjustment, await json_body(request, MAX_SETTINGS_BYTES))
        except FormError as error:
            return error_response(400, str(error))
        await self.board.adjust(adjustment.by, adjustment.reason)
        return json_response(summary(self.board.tally))

    async def settings(self, request: web.Request) -> web.Response:
        refused = await producer_refusal(self.auth, request, "only producers set the goal and the top post")
        if refused is not None:
            return refused
        try:
            data = await json_body(request, MAX_SETTINGS_BYTES)
            changes = parse(CountSettings, data)
            await self.board.set_settings(
                changes.goal, changes.top, clear_top="top" in data and changes.top is None
            )
        except FormError as error:
            return error_response(400, str(error))
        except LookupError as error:
            return error_response(404, str(error).strip("'\""))
        return json_response({"goal": self.board.tally.goal, "top": self.board.tally.top})


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)
