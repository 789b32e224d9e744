"""The check-in API: hosting an action, checking in from it, and moderation.

Public: submit an action (it waits for a producer), list approved actions and check-ins,
post a check-in with the private link a producer handed the host. Producers (session or
API token): the pending queue, approve, reject, trust a host, hide a check-in.
"""

from __future__ import annotations

import json
import math
from typing import Any

from aiohttp import web

from eventrunner.access.auth import ProducerAuth
from eventrunner.access.ratelimit import RateLimiter
from eventrunner.checkins.desk import CheckinDesk, link_key, producer_action
from eventrunner.checkins.forms import ActionForm, CheckinForm, FormError, parse
from eventrunner.stores.contract import Record, StoreUnavailable
from eventrunner.web.api import error_response, json_response, producer_refusal

MAX_BODY = 16 * 1024
MAX_IDEMPOTENCY_KEY = 100
CHECKIN_PATH = "/api/checkin/"
ACTION_DECISIONS = ("approve", "reject", "trust")
CHECKIN_DECISIONS = ("approve", "reject", "hide")


class CheckinRoutes:
    def __init__(self, desk: CheckinDesk, auth: ProducerAuth) -> None:
        self.desk = desk
        self.auth = auth
        # A watch party shares one address: room for a few dozen hosts behind it.
        self.submissions = RateLimiter(per_minute=30, burst=20)
        # One link is one host's phone: a check-in every few seconds is plenty.
        self.per_link = RateLimiter(per_minute=12, burst=5)

    def register(self, app: web.Application) -> None:
        app.router.add_post("/api/actions", self.submit_action)
        app.router.add_get("/api/actions", self.list_actions)
        app.router.add_post("/api/actions/{id}/{decision}", self.decide_action)
        app.router.add_post(CHECKIN_PATH + "{token}", self.submit_checkin)
        app.router.add_get("/api/checkins", self.list_checkins)
        app.router.add_post("/api/checkins/{id}/{decision}", self.decide_checkin)

    # --- the public ---------------------------------------------------------------------

    async def submit_action(self, request: web.Request) -> web.Response:
        limited = _limited(self.submissions, request.remote or "unknown")
        if limited is not None:
            return limited
        try:
            form = parse(ActionForm, await _json_body(request))
            record = await self.desk.submit_action(form, _idempotency_key(request))
        except FormError as error:
            return error_response(400, str(error))
        except StoreUnavailable:
            return error_response(503, "the action could not be kept right now; try again shortly")
        return json_response({"id": record.id, "status": record.status}, status=201)

    async def list_actions(self, request: web.Request) -> web.Response:
        status = request.query.get("status")
        if status is None:
            return json_response({"actions": self.desk.public_actions()})
        refused = await producer_refusal(self.auth, request, "only producers see actions that wait")
        if refused is not None:
            return refused
        if status not in ("pending", "approved", "rejected"):
            return error_response(400, "status: one of pending, approved, rejected")
        records = await self.desk.collections.records("action", status)
        return json_response({"actions": [producer_action(record) for record in records]})

    async def submit_checkin(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        limited = _limited(self.per_link, link_key(token)) or _limited(
            self.submissions, request.remote or "unknown"
        )
        if limited is not None:
            return limited
        try:
            form = parse(CheckinForm, await _json_body(request))
            action = await self.desk.action_of_link(token)
            if action is None:
                return error_response(404, "this check-in link is not valid")
            record = await self.desk.submit_checkin(action, form, _idempotency_key(request))
        except FormError as error:
            return error_response(400, str(error))
        except StoreUnavailable:
            return error_response(503, "the check-in could not be kept right now; try again shortly")
        return json_response({"id": record.id, "status": record.status}, status=201)

    async def list_checkins(self, request: web.Request) -> web.Response:
        return json_response({"checkins": self.desk.public_feed()})

    # --- producers ----------------------------------------------------------------------

    async def decide_action(self, request: web.Request) -> web.Response:
        refused = await producer_refusal(self.auth, request, "only producers decide on actions")
        if refused is not None:
            return refused
        decision = request.match_info["decision"]
        if decision not in ACTION_DECISIONS:
            return error_response(404, f"an action can be: {', '.join(ACTION_DECISIONS)}")
        decided = await self.desk.decide_action(request.match_info["id"], decision)
        if decided is None:
            return error_response(
                409, f"that action cannot be {decision}ed now (not found, or decided already)"
            )
        record, token = decided
        answer: dict[str, Any] = {**producer_action(record)}
        if token is not None:
            # Shown this once: the store keeps only its hash.
            answer["checkin_url"] = f"{request.scheme}://{request.host}{CHECKIN_PATH}{token}"
        return json_response(answer)

    async def decide_checkin(self, request: web.Request) -> web.Response:
        refused = await producer_refusal(self.auth, request, "only producers moderate check-ins")
        if refused is not None:
            return refused
        decision = request.match_info["decision"]
        if decision not in CHECKIN_DECISIONS:
            return error_response(404, f"a check-in can be: {', '.join(CHECKIN_DECISIONS)}")
        record = await self.desk.decide_checkin(request.match_info["id"], decision)
        if record is None:
            return error_response(
                409, f"that check-in cannot be {decision}d now (not found, or decided already)"
            )
        return json_response(_checkin_for_producers(record))


def _checkin_for_producers(record: Record) -> dict[str, Any]:
    return {"id": record.id, "status": record.status, **record.body}


def _limited(limiter: RateLimiter, key: str) -> web.Response | None:
    wait = limiter.retry_after(key)
    if wait <= 0:
        return None
    seconds = str(math.ceil(wait))
    return error_response(429, f"too many submissions; try again in {seconds} s", **{"Retry-After": seconds})


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    return key[:MAX_IDEMPOTENCY_KEY] or None


async def _json_body(request: web.Request) -> Any:
    if request.content_type != "application/json":
        raise FormError("the body must be JSON (Content-Type: application/json)")
    body = await request.read()
    if len(body) > MAX_BODY:
        raise FormError(f"the body is at most {MAX_BODY} bytes")
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise FormError(f"the body is not JSON: {error}") from None
