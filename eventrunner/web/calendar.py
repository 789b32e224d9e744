"""The schedule for people's calendars: the whole day or one segment as an .ics file, and
a segment's "add to Google Calendar" link. Always the show's current plan, with the
schedule's texts in the visitor's language, chosen as for the participant page."""

from __future__ import annotations

from aiohttp import web

from eventrunner.control.dispatcher import Dispatcher
from eventrunner.core.calendar import calendar_ics, google_calendar_link
from eventrunner.core.languages import Language
from eventrunner.i18n.negotiation import LANGUAGE_COOKIE, choose_language
from eventrunner.web.address import page_url, use_public_url

CALENDAR_TYPE = "text/calendar"


class CalendarRoutes:
    def __init__(self, dispatcher: Dispatcher, public_url: str | None = None) -> None:
        self.dispatcher = dispatcher
        self.public_url = public_url

    def register(self, app: web.Application) -> None:
        use_public_url(app, self.public_url)
        app.router.add_get("/schedule.ics", self.day)
        app.router.add_get("/schedule/{segment_id}.ics", self.segment)
        app.router.add_get("/schedule/{segment_id}/google", self.google)

    def _ics(self, request: web.Request, segment_id: str | None) -> web.Response:
        doc = self.dispatcher.views["public"]
        try:
            ics = calendar_ics(
                doc, page_url(request), self.dispatcher.clock(), _language(request), segment_id
            )
        except LookupError as error:
            raise _not_found(error) from None
        name = f"{segment_id or 'schedule'}-{doc['event']['date']}.ics"  # ids are [a-z0-9-]
        return web.Response(
            body=ics,
            content_type=CALENDAR_TYPE,
            charset="utf-8",
            headers={
                "Content-Disposition": f'attachment; filename="{name}"',
                # Times follow the producers' plan, and UIDs and URLs name the Host the
                # client sent (without --public-url): fetched afresh, never from a shared cache.
                "Cache-Control": "private, no-cache",
                "Vary": "Accept-Language, Cookie",
            },
        )

    async def day(self, request: web.Request) -> web.Response:
        return self._ics(request, None)

    async def segment(self, request: web.Request) -> web.Response:
        return self._ics(request, request.match_info["segment_id"])

    async def google(self, request: web.Request) -> web.StreamResponse:
        """A redirect, so a page's link always carries the current plan's times."""
        try:
            link = google_calendar_link(
                self.dispatcher.views["public"],
                request.match_info["segment_id"],
                page_url(request),
                _language(request),
            )
        except LookupError as error:
            raise _not_found(error) from None
        raise web.HTTPFound(
            link, headers={"Cache-Control": "private, no-cache", "Vary": "Accept-Language, Cookie"}
        )


def _language(request: web.Request) -> Language:
    """`?lang=es`, else the page's remembered language, else the browser's (as the
    participant page chooses, web/pages.py), so its links need not name one."""
    return choose_language(
        request.query.get("lang"),
        request.cookies.get(LANGUAGE_COOKIE),
        request.headers.get("Accept-Language"),
    )


def _not_found(error: LookupError) -> web.HTTPNotFound:
    return web.HTTPNotFound(text=f"{error.args[0]}; /schedule.ics has every segment")
