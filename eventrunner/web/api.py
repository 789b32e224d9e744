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

from eventrunner.access.auth import Check, ProducerAuth
from eventrunner.access.roles import CHANGERS, READERS, Role, command_refusal, may_run, refusal
from eventrunner.access.sessions import session_key
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


async def signed_in(auth: ProducerAuth, request: web.Request, why: str) -> Check | web.Response:
    """What the request proved, or the answer for one that proved nothing: 401, or 429
    while failed sign-ins have spent the budget of this address (then even the right
    token waits)."""
    check = await auth.check_request(request)
    if check.retry_after > 0:
        wait = str(math.ceil(check.retry_after))
        message = f"too many failed sign-ins; try again in {wait} s"
        return error_response(429, message, **{"Retry-After": wait})
    if not check.signed_in:
        return error_response(401, why, **{"WWW-Authenticate": "Bearer"})
    return check


def role_refusal(role: Role, why: str) -> web.Response:
    """403 for a signed-in role refused, naming the role and what it may do."""
    return json_response({"error": refusal(role, why), "role": role}, status=403)


async def producer_refusal(
    auth: ProducerAuth, request: web.Request, why: str, roles: tuple[Role, ...] = CHANGERS
) -> web.Response | None:
    """None for a request signed in as one of `roles` (by default a producer: changing
    anything is a producer's; READERS for the producers' data); else 401, 403 or 429."""
    check = await signed_in(auth, request, why)
    if isinstance(check, web.Response):
        return check
    return None if check.role in roles else role_refusal(check.role, why)


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
            # Every signed-in role reads it: the viewer's console is read-only, not blind.
            why = "the producer view needs a console session (any role) or the API token"
            refused = await producer_refusal(self.auth, request, why, READERS)
            if refused is not None:
                return refused
        return json_response({**self.dispatcher.views[audience], "server_time": self.dispatcher.clock()})

    async def post_command(self, request: web.Request) -> web.Response:
        check = await signed_in(
            self.auth, request, "sign in as a producer or send Authorization: Bearer <token>"
        )
        if isinstance(check, web.Response):
            return check
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
        name = payload.get("command") if isinstance(payload, dict) else None
        if not may_run(check.role, name):
            return json_response({"error": command_refusal(check.role, name), "role": check.role}, status=403)
        try:
            # Who, for the as-run log and for undo: a tool's token, or a console role's session.
            source = "api" if check.session is None else f"{check.role}:{session_key(check.session)[:6]}"
            version = await self.dispatcher.dispatch_payload(payload, source=source)
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
