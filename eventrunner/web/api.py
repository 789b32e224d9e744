"""The JSON API: the show snapshot, commands (Companion / Stream Deck style), health."""

from __future__ import annotations

import json
import math
import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from aiohttp import web

from eventrunner.access.auth import ProducerAuth
from eventrunner.control.commands import BadCommand
from eventrunner.control.dispatcher import Dispatcher, ShowNotSaved, VersionConflict
from eventrunner.core.show import CommandRejected
from eventrunner.stores.contract import StoreUnavailable

MAX_COMMAND_BYTES = 16 * 1024


def json_response(data: Any, status: int = 200, **headers: str) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )


def error_response(status: int, message: str, **headers: str) -> web.Response:
    return json_response({"error": message}, status=status, **headers)


async def producer_refusal(auth: ProducerAuth, request: web.Request, why: str) -> web.Response | None:
    """None for a producer; else 401, or 429 while failed sign-ins have spent the
    budget of this address (then even the right token waits)."""
    check = await auth.check_request(request)
    if check.retry_after > 0:
        wait = str(math.ceil(check.retry_after))
        message = f"too many failed sign-ins; try again in {wait} s"
        return error_response(429, message, **{"Retry-After": wait})
    if not check.producer:
        return error_response(401, why, **{"WWW-Authenticate": "Bearer"})
    return None


class ApiRoutes:
    def __init__(self, dispatcher: Dispatcher, auth: ProducerAuth) -> None:
        self.dispatcher = dispatcher
        self.auth = auth
        self.started = time.monotonic()
        # Which process answered (with several behind one address): random, so it says nothing else.
        self.process = secrets.token_hex(4)
        # Why this process cannot serve the show fully now (Redis unreachable), or None.
        self.problem: Callable[[], str | None] = lambda: None

    def register(self, app: web.Application) -> None:
        app.router.add_get("/api/show", self.get_show)
        app.router.add_post("/api/show/commands", self.post_command)
        app.router.add_get("/healthz", self.health)

    async def get_show(self, request: web.Request) -> web.Response:
        audience = request.query.get("audience", "public")
        if audience not in ("public", "producer"):
            return error_response(400, "audience is 'public' or 'producer'")
        if audience == "producer":
            refused = await self._refusal(request, "the producer view needs a producer session or API token")
            if refused is not None:
                return refused
        return json_response({**self.dispatcher.views[audience], "server_time": self.dispatcher.clock()})

    async def _refusal(self, request: web.Request, why: str) -> web.Response | None:
        return await producer_refusal(self.auth, request, why)

    async def post_command(self, request: web.Request) -> web.Response:
        refused = await self._refusal(request, "sign in as a producer or send Authorization: Bearer <token>")
        if refused is not None:
            return refused
        if request.content_type != "application/json":
            return error_response(415, "send the command as application/json")
        if request.content_length is not None and request.content_length > MAX_COMMAND_BYTES:
            return error_response(413, f"a command is at most {MAX_COMMAND_BYTES} bytes")
        try:
            # All of it (read(n) returns what has arrived so far); bounded by client_max_size,
            # and in time by the body_timeout middleware.
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            return error_response(413, f"a command is at most {MAX_COMMAND_BYTES} bytes")
        if len(body) > MAX_COMMAND_BYTES:
            return error_response(413, f"a command is at most {MAX_COMMAND_BYTES} bytes")
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            return error_response(400, f"the body is not JSON: {error}")
        try:
            version = await self.dispatcher.dispatch_payload(payload, source="api")
        except ShowNotSaved as error:
            return error_response(503, str(error))
        except VersionConflict as error:
            return json_response({"error": str(error), "version": error.current}, status=409)
        except (BadCommand, CommandRejected) as error:
            return error_response(400, str(error))
        return json_response({"ok": True, "version": version})

    async def health(self, request: web.Request) -> web.Response:
        # Only what the public view shows anyway: when the autopilot acts next would
        # reveal when producer-only note cues fire.
        state = self.dispatcher.state
        problem = self.problem()
        return json_response(
            {
                "ok": problem is None,
                **({"problem": problem} if problem else {}),
                "version": state.version,
                "phase": state.phase,
                "segment": state.segment.id,
                "held": state.held,
                "server_time": self.dispatcher.clock(),
                "uptime_s": round(time.monotonic() - self.started, 1),
                "process": self.process,
            },
            status=200 if problem is None else 503,
        )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def store_or_503(handler: Handler) -> Handler:
    """A store that cannot be reached is a 503 that says so, never a 500."""

    async def answer(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except StoreUnavailable:
            return error_response(503, "the store cannot be reached right now; try again shortly")

    return answer
