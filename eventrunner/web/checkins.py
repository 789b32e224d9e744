"""The check-in API: hosting an action, checking in from it, and moderation.

Public: submit an action (it waits for a producer), list approved actions and check-ins,
open the private check-in page a producer handed the host and post check-ins from it.
Producers (session or API token): the pending queue, approve, reject, trust a host, hide a
check-in.
"""

from __future__ import annotations

import asyncio
import logging
import math
import re
from collections.abc import Awaitable
from typing import Annotated, Any, Literal

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from pydantic import BaseModel, ConfigDict, Field

from eventrunner.access.auth import SESSION_COOKIE, ProducerAuth
from eventrunner.access.offenders import OffenderLog
from eventrunner.access.ratelimit import RateLimiter
from eventrunner.access.roles import READERS
from eventrunner.checkins.desk import CHECKIN_DECISIONS, CheckinDesk, checkin_photo, link_key
from eventrunner.checkins.forms import ActionForm, CheckinForm
from eventrunner.checkins.photos import MAX_PHOTO_BYTES, PhotoRefused, clean_photo
from eventrunner.checkins.views import producer_action
from eventrunner.core import timetext
from eventrunner.core.languages import Language
from eventrunner.core.validation import FormError, parse
from eventrunner.i18n.dates import long_date
from eventrunner.i18n.negotiation import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE, choose_language
from eventrunner.stores.contract import Record, StoreUnavailable
from eventrunner.web.api import error_response, json_response, producer_refusal, store_or_503
from eventrunner.web.bodies import json_body
from eventrunner.web.rendering import Pages

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024
MAX_IDEMPOTENCY_KEY = 100
CHECKIN_PATH = "/api/checkin/"  # POST: a check-in
CHECKIN_PAGE_PATH = "/checkin/"  # GET: the page a host's link opens, which posts to the above
# The token is in the page's address: no cache keeps it, no other site is told it.
PAGE_HEADERS = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
ACTION_DECISIONS = ("approve", "reject", "trust", "relink")
MAX_BODIES_READ = 32
BATCH_MAX = 200  # decisions in one request: what the console's queue shows


class CheckinRoutes:
    def __init__(self, desk: CheckinDesk, auth: ProducerAuth, pages: Pages) -> None:
        self.desk = desk
        self.auth = auth
        self.pages = pages
        # A watch party shares one address: room for a few dozen hosts behind it.
        self.submissions = RateLimiter(per_minute=30, burst=20)
        # One link is one host's phone: a check-in every few seconds is plenty.
        self.per_link = RateLimiter(per_minute=12, burst=5)
        # The same for opening its page, in a bucket of its own: reloading the page never
        # spends what the host's next check-in needs.
        self.page_per_link = RateLimiter(per_minute=12, burst=5)
        # Hosts behind one venue or carrier address each have their own link: the address
        # limit for check-ins only stops a script that tries links.
        self.checkins_per_address = RateLimiter(per_minute=600, burst=200)
        self.problems = OffenderLog(log)
        self.decoding = asyncio.Semaphore(1)
        # Check-in bodies read at once: what uploads in flight may hold in memory (photos
        # are up to 10 MB each).
        self.reading = asyncio.Semaphore(MAX_BODIES_READ)

    def register(self, app: web.Application) -> None:
        app.router.add_post("/api/actions", store_or_503(self.submit_action))
        app.router.add_get("/api/actions", store_or_503(self.list_actions))
        app.router.add_post("/api/actions/{id}/{decision}", store_or_503(self.decide_action))
        app.router.add_post(CHECKIN_PATH + "{token}", store_or_503(self.submit_checkin))
        app.router.add_get(CHECKIN_PAGE_PATH + "{token}", self.checkin_page)
        app.router.add_get("/api/checkins", self.list_checkins)
        app.router.add_get("/api/photos/{id}.jpg", store_or_503(self.photo))
        app.router.add_post("/api/checkins/{id}/{decision}", store_or_503(self.decide_checkin))
        app.router.add_post("/api/checkins/air", store_or_503(self.set_air))
        app.router.add_post("/api/decisions", store_or_503(self.decide_batch))

    # --- the public ---------------------------------------------------------------------

    async def submit_action(self, request: web.Request) -> web.Response:
        limited = _limited(self.submissions, request.remote or "unknown")
        if limited is not None:
            return limited
        try:
            form = parse(ActionForm, await json_body(request, MAX_BODY))
            record = await self.desk.submit_action(form, _idempotency_key(request))
        except FormError as error:
            return error_response(400, str(error))
        except StoreUnavailable as error:
            self.problems.note("checkins: an action could not be kept: %s", error)
            return error_response(503, "the action could not be kept right now; try again shortly")
        return json_response({"id": record.id, "status": record.status}, status=201)

    async def list_actions(self, request: web.Request) -> web.Response:
        status = request.query.get("status")
        if status is None:
            return json_response(self.desk.public_actions())
        # Reading what waits is for every console role; deciding, a producer's.
        why = "only a console session sees actions that wait"
        refused = await producer_refusal(self.auth, request, why, READERS)
        if refused is not None:
            return refused
        if status not in ("pending", "approved", "rejected"):
            return error_response(400, "status: one of pending, approved, rejected")
        records = await self.desk.collections.records("action", status)
        return json_response({"actions": [producer_action(record) for record in records]})

    async def submit_checkin(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        limited = _limited(self.per_link, link_key(token)) or _limited(
            self.checkins_per_address, request.remote or "unknown"
        )
        if limited is not None:
            return limited
        try:
            # The link first: a body (up to a 10 MB photo) is only read for a real one.
            action = await self.desk.action_of_link(token)
            if action is None:
                return error_response(404, "this check-in link is not valid")
            if self.reading.locked():
                return error_response(
                    503, "too many check-ins are arriving at once; try again shortly", **{"Retry-After": "2"}
                )
            async with self.reading:
                fields, photo = await _readable(_checkin_body(request))
            form = parse(CheckinForm, fields)
            cleaned = None
            if photo is not None:
                async with self.decoding:  # one photo decoded at a time: a bomb costs one at most
                    cleaned = await asyncio.to_thread(clean_photo, photo)
            record = await self.desk.submit_checkin(action, form, _idempotency_key(request), cleaned)
        except TooLarge as error:
            return error_response(413, str(error))
        except (FormError, PhotoRefused) as error:
            return error_response(400, str(error))
        except StoreUnavailable as error:
            self.problems.note("checkins: a check-in could not be kept: %s", error)
            return error_response(503, "the check-in could not be kept right now; try again shortly")
        return json_response({"id": record.id, "status": record.status}, status=201)

    async def checkin_page(self, request: web.Request) -> web.Response:
        """The page a host's link opens: their action, and the check-in form
        (static/js/checkin.js posts it to the API)."""
        token = request.match_info["token"]
        asked = request.query.get("lang")
        language = choose_language(
            asked, request.cookies.get(LANGUAGE_COOKIE), request.headers.get("Accept-Language")
        )
        # As the check-in itself: per link, and per address against a script trying links.
        wait = self.page_per_link.retry_after(link_key(token)) or self.checkins_per_address.retry_after(
            request.remote or "unknown"
        )
        if wait > 0:
            seconds = str(math.ceil(wait))
            response = self._page(language, 429, problem="busy", seconds=seconds)
            response.headers["Retry-After"] = seconds
            return response
        try:
            action = await self.desk.action_of_link(token)
        except StoreUnavailable:
            return self._page(language, 503, problem="unavailable")
        if action is None:
            return self._page(language, 404, problem="invalid")
        response = self._page(
            language, 200, action=_page_action(action, language), post_url=CHECKIN_PATH + token
        )
        if asked == language:  # a switch on this page is remembered, as on the participant page
            response.set_cookie(
                LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_MAX_AGE, path="/", samesite="Lax"
            )
        return response

    def _page(self, language: Language, status: int, **context: Any) -> web.Response:
        context = {"action": None, "problem": None, **context}
        response = self.pages.render("checkin.html", status=status, language=language, **context)
        response.headers.update(PAGE_HEADERS)
        return response

    async def list_checkins(self, request: web.Request) -> web.Response:
        return json_response({"checkins": self.desk.public_feed()})

    async def photo(self, request: web.Request) -> web.Response:
        # Consoles (any role: it is reading) see a photo while it waits for a producer;
        # everyone else once it is approved.
        presented = "Authorization" in request.headers or SESSION_COOKIE in request.cookies
        console = presented and (await self.auth.check_request(request)).signed_in
        data = await checkin_photo(self.desk.collections, request.match_info["id"], any_status=console)
        if data is None:
            return error_response(404, "no photo here")
        # A photo a producer hides must leave caches at once: they ask again each time.
        cache = "private, no-store" if console else "public, no-cache"
        return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": cache})

    # --- producers ----------------------------------------------------------------------

    async def _decision(
        self, request: web.Request, what: str, allowed: tuple[str, ...]
    ) -> str | web.Response:
        """The producer's decision named in the path, or the answer that refuses it."""
        refused = await producer_refusal(self.auth, request, f"only producers decide on {what}s")
        if refused is not None:
            return refused
        decision = request.match_info["decision"]
        if decision not in allowed:
            return error_response(404, f"a {what} can take: {', '.join(allowed)}")
        return decision

    async def decide_action(self, request: web.Request) -> web.Response:
        decision = await self._decision(request, "action", ACTION_DECISIONS)
        if isinstance(decision, web.Response):
            return decision
        answer = await self._decide_action(request, request.match_info["id"], decision)
        if answer is None:
            return error_response(409, _undecidable("action", decision))
        return json_response(answer)

    async def _decide_action(
        self, request: web.Request, action_id: str, decision: str
    ) -> dict[str, Any] | None:
        decided = await self.desk.decide_action(action_id, decision)
        if decided is None:
            return None
        record, token = decided
        answer: dict[str, Any] = {**producer_action(record)}
        if token is not None:
            # Shown this once: the store keeps only its hash.
            answer["checkin_url"] = f"{request.scheme}://{request.host}{CHECKIN_PAGE_PATH}{token}"
        return answer

    async def decide_checkin(self, request: web.Request) -> web.Response:
        decision = await self._decision(request, "check-in", CHECKIN_DECISIONS)
        if isinstance(decision, web.Response):
            return decision
        record = await self.desk.decide_checkin(request.match_info["id"], decision)
        if record is None:
            return error_response(409, _undecidable("check-in", decision))
        return json_response(_checkin_for_producers(record))

    async def decide_batch(self, request: web.Request) -> web.Response:
        """One decision on many (the console's keyboard batches): one request, so a batch
        never runs into the per-address limit of the API."""
        refused = await producer_refusal(self.auth, request, "only producers decide")
        if refused is not None:
            return refused
        try:
            batch = parse(Batch, await json_body(request, MAX_BODY))
        except FormError as error:
            return error_response(400, str(error))
        if batch.actions and batch.decision not in ("approve", "reject"):
            return error_response(400, "decision: actions take approve or reject in a batch")
        if batch.checkins and batch.decision not in CHECKIN_DECISIONS:
            return error_response(400, f"decision: check-ins take {', '.join(CHECKIN_DECISIONS)}")
        decided: list[dict[str, Any]] = []
        undecided: list[dict[str, str]] = []
        for kind, ids in (("action", batch.actions), ("check-in", batch.checkins)):
            for item_id in ids:
                try:
                    answer = await self._decide_one(request, kind, item_id, batch.decision)
                except StoreUnavailable:
                    # Each one reported on its own: what was decided keeps its answer
                    # (an approved action's check-in link is shown only here).
                    undecided.append({"id": item_id, "error": "the store cannot be reached; try again"})
                    continue
                if answer is None:
                    undecided.append({"id": item_id, "error": _undecidable(kind, batch.decision)})
                else:
                    decided.append(answer)
        return json_response({"decided": decided, "undecided": undecided})

    async def _decide_one(
        self, request: web.Request, kind: str, item_id: str, decision: str
    ) -> dict[str, Any] | None:
        if kind == "action":
            return await self._decide_action(request, item_id, decision)
        record = await self.desk.decide_checkin(item_id, decision)
        return None if record is None else _checkin_for_producers(record)

    async def set_air(self, request: web.Request) -> web.Response:
        """The on-air delay, the kill switch and the spotlight, any of them at once."""
        refused = await producer_refusal(self.auth, request, "only producers decide what goes on air")
        if refused is not None:
            return refused
        try:
            settings = await self.desk.set_air(await json_body(request, MAX_BODY))
        except FormError as error:
            return error_response(400, str(error))
        return json_response(settings.model_dump())


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject", "hide"]
    actions: list[Annotated[str, Field(max_length=40)]] = Field(default=[], max_length=BATCH_MAX)
    checkins: list[Annotated[str, Field(max_length=40)]] = Field(default=[], max_length=BATCH_MAX)


def _undecidable(what: str, decision: str) -> str:
    return f"that {what} cannot take '{decision}' now (not found, or decided already)"


def _checkin_for_producers(record: Record) -> dict[str, Any]:
    return {"id": record.id, "status": record.status, **record.body}


def _limited(limiter: RateLimiter, key: str) -> web.Response | None:
    wait = limiter.retry_after(key)
    if wait <= 0:
        return None
    seconds = str(math.ceil(wait))
    return error_response(429, f"too many submissions; try again in {seconds} s", **{"Retry-After": seconds})


def _page_action(action: Record, language: Language) -> dict[str, str]:
    """What the check-in page shows of its action: the host's own words (autoescaped by
    the template), and its times in the action's zone, where the host is."""
    body = action.body
    zone = timetext.zone_of(str(body.get("timezone") or "UTC"))
    starts, ends = int(body["starts_ms"]), int(body["ends_ms"])
    start_day = timetext.local_time(starts, zone).date()
    end_day = timetext.local_time(ends, zone).date()
    until = timetext.event_time(ends, zone, language)
    return {
        "title": str(body["title"]),
        "place": f"{body['venue']} · {body['city']}, {body['state']}",
        "starts": timetext.iso_datetime(starts, zone),
        "ends": timetext.iso_datetime(ends, zone),
        "start_text": f"{long_date(start_day, language)}, {timetext.clock_time(starts, zone, language)}",
        # Past midnight the end names its own day.
        "end_text": until if end_day == start_day else f"{long_date(end_day, language)}, {until}",
    }


def _idempotency_key(request: web.Request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    return key[:MAX_IDEMPOTENCY_KEY] or None


async def _readable(reading: Awaitable[tuple[Any, bytes | None]]) -> tuple[Any, bytes | None]:
    """A check-in's body, or FormError when it cannot be read as one."""
    try:
        return await reading
    except FormError:
        raise
    except (ValueError, HttpProcessingError) as error:  # a multipart body that does not parse
        raise FormError(f"the form cannot be read: {error}") from None


class TooLarge(Exception):
    """A body past its size limit."""


async def _checkin_body(request: web.Request) -> tuple[Any, bytes | None]:
    """The check-in's fields and its photo: JSON without one, multipart form data with one."""
    if request.content_type != "multipart/form-data":
        return await json_body(request, MAX_BODY), None
    fields: dict[str, Any] = {}
    photo = None
    reader = await request.multipart()
    async for part in reader:
        if not isinstance(part, BodyPartReader):
            raise FormError("a check-in's form has no nested parts")
        if part.name == "photo":
            if photo is not None:
                raise FormError("photo: one photo per check-in")
            photo = await _read_part(part, MAX_PHOTO_BYTES, "a photo is at most 10 MB")
        elif part.name in ("headcount", "message"):
            text = (await _read_part(part, MAX_BODY, "a field is too long")).decode("utf-8", "replace")
            headcount = part.name == "headcount" and re.fullmatch(r"[0-9]{1,7}", text.strip())
            # A browser sends a textarea's line breaks as CRLF: counted as one, as typed.
            fields[part.name] = int(text) if headcount else text.replace("\r\n", "\n")
        else:
            raise FormError(f"{part.name}: not a field of a check-in")
    return fields, photo or None


async def _read_part(part: BodyPartReader, limit: int, too_large: str) -> bytes:
    data = bytearray()
    while chunk := await part.read_chunk(64 * 1024):
        data += chunk
        if len(data) > limit:
            raise TooLarge(too_large)
    return bytes(data)
