"""GET /api/representatives?zip=NNNNN[&district=ST-NN]: a viewer's members of Congress
(eventrunner/congress/lookup.py), for the participant page's "email your members of
Congress" panel (static/js/congress.js).

What the viewer asks stays theirs: nothing here logs or keeps it (the server runs without
an access log), and the answer is neither cached nor passed on as a referrer."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable

from aiohttp import web

from eventrunner.access.ratelimit import AddressAndOverall
from eventrunner.congress.lookup import BadQuery, Directory
from eventrunner.web.api import error_response, json_response

PATH = "/api/representatives"
PRIVATE = {"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"}
# (per minute, burst). A watch party of hundreds behind one address looks up at about the
# same time, and a lookup costs microseconds; the overall cap bounds a flood of addresses.
PER_ADDRESS = (1200.0, 400)
OVERALL = (30_000.0, 5000)


@functools.cache
def shipped_directory() -> Directory:
    """The package's data, read once per process (about 0.1 s and a few MB)."""
    return Directory.load()


class RepresentativeRoutes:
    def __init__(
        self, directory: Directory | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.directory = directory or shipped_directory()
        self._budget = AddressAndOverall(PER_ADDRESS, OVERALL, clock)

    def register(self, app: web.Application) -> None:
        app.router.add_get(PATH, self.representatives)

    async def representatives(self, request: web.Request) -> web.Response:
        wait = self._budget.take(request.remote or "unknown")
        if wait > 0:
            seconds = str(math.ceil(wait))
            message = f"many people are looking up their members of Congress; try again in {seconds} s"
            return error_response(429, message, **PRIVATE, **{"Retry-After": seconds})
        try:
            found = self.directory.lookup(request.query.get("zip", ""), request.query.get("district"))
        except BadQuery as error:
            return error_response(400, str(error), **PRIVATE)
        return json_response(found.as_json(), status=200 if found.found else 404, **PRIVATE)
