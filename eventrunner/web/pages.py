"""Page routes: the participant page, producer sign-in and console, the overlays."""

from __future__ import annotations

import logging
import math
from functools import partial
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from eventrunner.access.auth import SESSION_COOKIE, ProducerAuth
from eventrunner.access.roles import SCOPES, TITLES, commands_of
from eventrunner.checkins.forms import ACTION_TYPES
from eventrunner.checkins.places import FIELD_OFFICES, STATES
from eventrunner.control.dispatcher import Dispatcher
from eventrunner.core.languages import DEFAULT_LANGUAGE, LANGUAGES, Language
from eventrunner.core.views import Audience
from eventrunner.i18n import dates
from eventrunner.i18n.negotiation import LANGUAGE_COOKIE, LANGUAGE_COOKIE_MAX_AGE, choose_language, spoken
from eventrunner.stores.contract import StoreUnavailable
from eventrunner.web.address import page_url
from eventrunner.web.overlays import OVERLAYS, OVERLAYS_BY_NAME
from eventrunner.web.rendering import Pages, event_time_formatter

log = logging.getLogger(__name__)


def _refuse_cross_site(request: web.Request) -> None:
    """Sign-in and sign-out only from our own pages: a form on another site must not be
    able to sign a producer out mid-show (or in, to an attacker's session)."""
    site = request.headers.get("Sec-Fetch-Site")
    origin = request.headers.get("Origin")
    if site not in (None, "same-origin", "none") or (
        origin is not None and urlsplit(origin).netloc != request.host
    ):
        raise web.HTTPForbidden(text="sign in and out from this server's own pages")


class PageRoutes:
    def __init__(self, dispatcher: Dispatcher, auth: ProducerAuth, pages: Pages) -> None:
        self.dispatcher = dispatcher
        self.auth = auth
        self.pages = pages
        zone = dispatcher.schedule.model.event.timezone
        self.event_time = {language: event_time_formatter(zone, language) for language in LANGUAGES}

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.participant)
        app.router.add_get("/producer", self.producer)
        app.router.add_get("/producer/login", self.login_page)
        app.router.add_post("/producer/login", self.login)
        app.router.add_post("/producer/logout", self.logout)
        app.router.add_get("/overlays/", self.overlay_index)
        app.router.add_get("/overlays", self.overlay_index)
        app.router.add_get("/overlays/{name}", self.overlay)

    def _context(
        self, audience: Audience, language: Language = DEFAULT_LANGUAGE, **extra: Any
    ) -> dict[str, Any]:
        doc = {**self.dispatcher.views[audience], "server_time": self.dispatcher.clock()}
        return {
            "doc": doc,
            "event_time": self.event_time[language],
            "long_date": partial(dates.long_date, language=language),
            **extra,
        }

    def _localized(self, request: web.Request, template: str, **context: Any) -> web.Response:
        """A participant's page in their language: `?lang=` switches and is remembered in
        a cookie, else the browser's Accept-Language."""
        asked = request.query.get("lang")
        language = choose_language(
            asked, request.cookies.get(LANGUAGE_COOKIE), request.headers.get("Accept-Language")
        )
        response = self._render(template, language, **context)
        response.headers["Vary"] = "Accept-Language, Cookie"
        if spoken(asked) == language:
            response.set_cookie(
                LANGUAGE_COOKIE, language, max_age=LANGUAGE_COOKIE_MAX_AGE, path="/", samesite="Lax"
            )
        return response

    def _render(self, template: str, language: Language, **context: Any) -> web.Response:
        return self.pages.render(template, language=language, **self._context("public", language), **context)

    async def participant(self, request: web.Request) -> web.Response:
        return self._localized(
            request,
            "participant.html",
            states=STATES,
            action_types=ACTION_TYPES,
            field_offices=FIELD_OFFICES,
            page_url=page_url(request),
        )

    async def producer(self, request: web.Request) -> web.Response:
        check = await self.auth.check_request(request)
        if not check.signed_in:
            return self.pages.render("login.html", error=None, **self._context("public"))
        overlays = [overlay.as_context() for overlay in OVERLAYS]
        # The page shows what the role may do; the server refuses the rest whatever it shows.
        commands = commands_of(check.role)
        role = {
            "name": check.role,
            "producer": check.role == "producer",
            "title": TITLES[check.role],
            "scope": SCOPES[check.role],
            "commands": " ".join(commands) if commands is not None else "*",
        }
        return self.pages.render("producer.html", **self._context("producer", overlays=overlays, role=role))

    async def login_page(self, request: web.Request) -> web.StreamResponse:
        # A bookmarked or reloaded sign-in address: /producer signs in, or is the console.
        raise web.HTTPSeeOther("/producer")

    async def login(self, request: web.Request) -> web.StreamResponse:
        _refuse_cross_site(request)
        form = await request.post()
        password = form.get("password")
        # Only wrong passwords (and API tokens) spend the budget; once it is spent, nobody
        # signs in from that address until it refills (else a correct guess would get in).
        try:
            attempt = await self.auth.sign_in(
                password if isinstance(password, str) else "", request.remote or "unknown"
            )
        except StoreUnavailable:
            error = (
                "Signing in is not possible right now (the server cannot reach its store); try again shortly."
            )
            return self.pages.render("login.html", status=503, error=error, **self._context("public"))
        if attempt.retry_after > 0:
            error = f"Too many wrong passwords; try again in {math.ceil(attempt.retry_after)} s."
            return self.pages.render("login.html", status=429, error=error, **self._context("public"))
        if attempt.cookie is None:
            return self.pages.render(
                "login.html",
                status=401,
                error="That password is not right.",
                **self._context("public"),
            )
        response = web.HTTPSeeOther("/producer")
        self.auth.set_session_cookie(response, attempt.cookie, secure=request.secure)
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
        _refuse_cross_site(request)
        # Ends the session on the server and closes its consoles: a copy of the cookie
        # is worth nothing from here on.
        try:
            await self.auth.sign_out(request.cookies.get(SESSION_COOKIE))
        except StoreUnavailable:
            # The browser forgets the cookie all the same; the session ends with its age.
            log.warning("sign-out: the store cannot be reached; the session stays live on the server")
        response = web.HTTPSeeOther("/producer")
        response.del_cookie(SESSION_COOKIE, path="/")
        raise response

    async def overlay_index(self, request: web.Request) -> web.Response:
        overlays = [overlay.as_context() for overlay in OVERLAYS]
        return self.pages.render("overlays/index.html", overlays=overlays, **self._context("public"))

    async def overlay(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in OVERLAYS_BY_NAME:
            raise web.HTTPNotFound(text=f"no overlay named '{name}'; see /overlays/")
        overlay = OVERLAYS_BY_NAME[name].as_context()
        # Only the address sets an overlay's language: OBS's browser sources share one
        # cookie jar and the machine's Accept-Language, and each source is its own choice.
        language = choose_language(request.query.get("lang"), None, None)
        return self._render(f"overlays/{name}.html", language, overlay=overlay)
