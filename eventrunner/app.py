"""Wiring: build the aiohttp application from settings."""

from __future__ import annotations

import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from eventrunner.access.auth import ProducerAuth
from eventrunner.access.connections import ConnectionLimits
from eventrunner.config import STATIC_DIR, Secrets, Settings, load_secrets
from eventrunner.control.autopilot import Autopilot
from eventrunner.control.commands import Advance
from eventrunner.control.dispatcher import Dispatcher, wall_clock_ms
from eventrunner.control.opening import open_show
from eventrunner.core.schedule import load_schedule
from eventrunner.live.realtime import Realtime
from eventrunner.stores.file import FileStore
from eventrunner.topics.hub import LiveHub
from eventrunner.web.api import ApiRoutes
from eventrunner.web.middleware import (
    behind_proxy,
    body_timeout,
    compression,
    default_rate_limits,
    name_the_server,
    rate_limits,
    security_headers,
)
from eventrunner.web.pages import PageRoutes
from eventrunner.web.rendering import Pages
from eventrunner.web.static import StaticFiles

log = logging.getLogger(__name__)


@dataclass
class Server:
    """Everything a running server holds, for the CLI and the tests to reach."""

    app: web.Application
    dispatcher: Dispatcher
    hub: LiveHub
    autopilot: Autopilot
    realtime: Realtime
    secrets: Secrets
    new_show: bool


DISPATCHER_KEY = web.AppKey("dispatcher", Dispatcher)
BODY_TIMEOUT_S = 10  # a request with a body (a command, a sign-in) is answered by then


async def build_server(settings: Settings, clock: Callable[[], int] = wall_clock_ms) -> Server:
    schedule = load_schedule(settings.schedule)
    store = FileStore(settings.data_dir)
    try:
        schedule, ref, state, new_show = await open_show(
            schedule, store, clock(), demo=settings.demo, reset=settings.reset
        )
    except BaseException:
        store.close()
        raise
    secrets = load_secrets(settings.data_dir)
    auth = ProducerAuth(
        secrets.producer_password.value,
        secrets.api_token.value,
        secrets.session_key.value.encode(),
        data_dir=settings.data_dir,  # live sessions survive a restart; sign-outs too
    )
    hub = LiveHub(clock)
    dispatcher = Dispatcher(schedule, ref, state, store, hub, clock=clock)

    middlewares = [
        security_headers(),
        compression(),
        rate_limits(default_rate_limits()),
        body_timeout(BODY_TIMEOUT_S),
    ]
    if settings.behind_proxy:
        middlewares.insert(0, behind_proxy())
    name_the_server()
    app = web.Application(middlewares=middlewares, client_max_size=64 * 1024)
    app[DISPATCHER_KEY] = dispatcher
    limits = ConnectionLimits.for_open_files(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    realtime = Realtime(hub, dispatcher, auth, limits)
    realtime.attach(app)
    PageRoutes(dispatcher, auth, Pages()).register(app)
    ApiRoutes(dispatcher, auth).register(app)
    StaticFiles(STATIC_DIR).register(app)
    autopilot = Autopilot(dispatcher)

    async def start_autopilot(_: web.Application) -> None:
        # Catch up with the clock first (the server may have been down), then follow it.
        await dispatcher.dispatch(Advance(), source="startup")
        autopilot.start()

    async def stop_autopilot(_: web.Application) -> None:
        autopilot.stop()
        store.close()

    app.on_startup.append(start_autopilot)
    app.on_cleanup.append(stop_autopilot)
    return Server(app, dispatcher, hub, autopilot, realtime, secrets, new_show)
