"""Page routes: the participant page, producer sign-in and console, the overlays."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..auth import SESSION_COOKIE, ProducerAuth
from ..commands import Dispatcher
from ..document import Audience
from .overlays import OVERLAYS, OVERLAYS_BY_NAME
from .rendering import Pages, event_time_formatter


class PageRoutes:
    def __init__(self, dispatcher: Dispatcher, auth: ProducerAuth, pages: Pages) -> None:
        self.dispatcher = dispatcher
        self.auth = auth
        self.pages = pages
        self.event_time = event_time_formatter(dispatcher.schedule.model.event.timezone)

    def register(self, app: web.Application) -> None:
        app.router.add_get("/", self.participant)
        app.router.add_get("/producer", self.producer)
        app.router.add_post("/producer/login", self.login)
        app.router.add_post("/producer/logout", self.logout)
        app.router.add_get("/overlays/", self.overlay_index)
        app.router.add_get("/overlays", self.overlay_index)
        app.router.add_get("/overlays/{name}", self.overlay)

    def _context(self, audience: Audience, **extra: Any) -> dict[str, Any]:
        doc = {**self.dispatcher.views[audience], "server_time": self.dispatcher.clock()}
        return {"doc": doc, "event_time": self.event_time, **extra}

    async def participant(self, request: web.Request) -> web.Response:
        return self.pages.render("participant.html", **self._context("public"))

    async def producer(self, request: web.Request) -> web.Response:
        if not self.auth.request_is_producer(request):
            return self.pages.render("login.html", error=None, **self._context("public"))
        overlays = [overlay.as_context() for overlay in OVERLAYS]
        return self.pages.render("producer.html", **self._context("producer", overlays=overlays))

    async def login(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        password = form.get("password")
        if not isinstance(password, str) or not self.auth.password_matches(password):
            return self.pages.render(
                "login.html",
                status=401,
                error="That password is not right.",
                **self._context("public"),
            )
        response = web.HTTPSeeOther("/producer")
        self.auth.set_session_cookie(response, secure=request.secure)
        raise response

    async def logout(self, request: web.Request) -> web.StreamResponse:
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
        return self.pages.render(f"overlays/{name}.html", overlay=overlay, **self._context("public"))
