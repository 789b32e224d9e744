"""Wiring: build the aiohttp application from settings."""

from __future__ import annotations

import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from eventrunner.access.auth import SESSION_MAX_AGE_S, ProducerAuth
from eventrunner.access.connections import ConnectionLimits
from eventrunner.checkins.desk import CheckinDesk
from eventrunner.cluster.node import ClusterNode
from eventrunner.cluster.secrets import shared_secrets
from eventrunner.cluster.sessions import RedisSessions
from eventrunner.config import STATIC_DIR, PostCredentials, Secrets, Settings, load_secrets
from eventrunner.control.autopilot import Autopilot
from eventrunner.control.dispatcher import Dispatcher, wall_clock_ms
from eventrunner.control.opening import open_show
from eventrunner.core.schedule import PostCounting, ScheduleModel, load_schedule
from eventrunner.live.realtime import Realtime
from eventrunner.posts.board import PostBoard
from eventrunner.posts.sources.configured import configured_sources
from eventrunner.posts.sources.supervisor import Supervisor
from eventrunner.posts.tally import day_window, segments_window
from eventrunner.stores.contract import Store, StoreConflict
from eventrunner.stores.embedded import EmbeddedStore
from eventrunner.stores.redis import RedisStore
from eventrunner.topics.hub import LiveHub
from eventrunner.web.api import ApiRoutes
from eventrunner.web.asrun import AsRunLog, AsRunRoutes
from eventrunner.web.bundles import bundles
from eventrunner.web.calendar import CalendarRoutes
from eventrunner.web.checkins import CHECKIN_PATH, CheckinRoutes
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
from eventrunner.web.posts import PostRoutes
from eventrunner.web.rendering import Pages
from eventrunner.web.representatives import RepresentativeRoutes
from eventrunner.web.share import ShareRoutes
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
    desk: CheckinDesk
    board: PostBoard | None
    supervisor: Supervisor | None


DISPATCHER_KEY = web.AppKey("dispatcher", Dispatcher)
BODY_TIMEOUT_S = 10  # a request with a body (a command, a sign-in) is answered by then
UPLOAD_TIMEOUT_S = 120  # a check-in with a 10 MB photo, sent from a rally over a phone network


async def build_server(settings: Settings, clock: Callable[[], int] = wall_clock_ms) -> Server:
    schedule = load_schedule(settings.schedule)
    redis_store = RedisStore(settings.redis_url) if settings.redis_url else None
    store: Store = redis_store or EmbeddedStore(settings.data_dir)
    try:
        try:
            opened = await open_show(schedule, store.show, clock(), demo=settings.demo, reset=settings.reset)
        except StoreConflict:
            if settings.reset:
                raise  # a reset that lost to another writer must say so, not join quietly
            # Another process of this show created it first: join that one.
            opened = await open_show(schedule, store.show, clock(), demo=settings.demo, reset=False)
        schedule, ref, state, new_show = opened
        secrets = await shared_secrets(redis_store) if redis_store else load_secrets(settings.data_dir)
    except BaseException:
        await store.close()
        raise
    # Live sessions survive a restart, and sign-outs too; on Redis every process shares them.
    sessions = (
        RedisSessions(redis_store.client, redis_store.prefix, SESSION_MAX_AGE_S) if redis_store else None
    )
    auth = ProducerAuth(
        secrets.producer_password.value,
        secrets.api_token.value,
        secrets.session_key.value.encode(),
        data_dir=settings.data_dir,
        sessions=sessions,
        role_passwords=secrets.role_passwords(),
    )
    hub = LiveHub(clock)
    dispatcher = Dispatcher(schedule, ref, state, store.show, hub, clock=clock)

    middlewares = [
        security_headers(),
        compression(),
        # Check-ins are limited per link and per address by their handler: the hosts of a
        # rally behind one venue address each check in with their own link.
        rate_limits(default_rate_limits(self_limited=(CHECKIN_PATH, "POST"))),
        body_timeout(BODY_TIMEOUT_S, uploads=(CHECKIN_PATH, UPLOAD_TIMEOUT_S)),
    ]
    if settings.behind_proxy:
        middlewares.insert(0, behind_proxy())
    name_the_server()
    app = web.Application(middlewares=middlewares, client_max_size=64 * 1024)
    app[DISPATCHER_KEY] = dispatcher
    limits = ConnectionLimits.for_open_files(resource.getrlimit(resource.RLIMIT_NOFILE)[0])
    realtime = Realtime(hub, dispatcher, auth, limits)
    realtime.attach(app)
    static = StaticFiles(STATIC_DIR)
    static.add(bundles(static.assets))
    pages = Pages(static.url)
    PageRoutes(dispatcher, auth, pages).register(app)
    CalendarRoutes(dispatcher, settings.public_url).register(app)
    ShareRoutes(dispatcher, settings.public_url).register(app)
    api = ApiRoutes(dispatcher, auth)
    api.register(app)
    AsRunRoutes(AsRunLog(dispatcher, store.collections, opened=new_show), auth).register(app)
    desk = CheckinDesk(store.collections, hub, clock, shared=store.show.shared)
    await desk.refresh(None)  # what was submitted and decided before this start
    CheckinRoutes(desk, auth, pages).register(app)
    RepresentativeRoutes().register(app)
    board, supervisor = post_counting(schedule.model, settings, dispatcher, store, hub, clock)
    if board is not None:
        await board.refresh(None)  # what was counted before this start
        PostRoutes(board, auth, PostCredentials.from_environment().webhook_secret).register(app)
    static.register(app)
    autopilot = Autopilot(dispatcher)
    node = None
    if redis_store and sessions:
        render = f"{ref.sha256}@{ref.shift_ms}"  # what this process renders the show from
        duties = [supervisor] if supervisor is not None else []
        node = ClusterNode(redis_store, hub, autopilot, auth, sessions, render, duties)
    api.problem = lambda: dispatcher.problem or (node.problem if node else None)

    async def start_clock(_: web.Application) -> None:
        if node is not None:
            await node.start()  # the leader's autopilot starts when it takes the lease
        else:
            await autopilot.start()
            if supervisor is not None:
                await supervisor.start()

    async def stop_clock(_: web.Application) -> None:
        if node is not None:
            await node.stop()
        autopilot.close()
        await desk.close()
        if supervisor is not None:
            await supervisor.close()
        if board is not None:
            await board.close()
        await store.close()

    app.on_startup.append(start_clock)
    app.on_cleanup.append(stop_clock)
    return Server(app, dispatcher, hub, autopilot, realtime, secrets, new_show, desk, board, supervisor)


def post_counting(
    model: ScheduleModel,
    settings: Settings,
    dispatcher: Dispatcher,
    store: Store,
    hub: LiveHub,
    clock: Callable[[], int],
) -> tuple[PostBoard | None, Supervisor | None]:
    """The post count and the sources that feed it, for a show with a hashtag to count."""
    counting = model.posts or PostCounting()
    hashtag = counting.hashtag or (model.event.hashtags[0] if model.event.hashtags else None)
    if hashtag is None:
        return None, None
    day = day_window(model.event.date, model.event.timezone)
    segments = counting.window
    window = (lambda: segments_window(dispatcher.state, segments, clock())) if segments else (lambda: day)
    board = PostBoard(store.collections, hub, clock, hashtag, counting.goal, window, shared=store.show.shared)
    replay = (settings.replay_posts, settings.replay_speed) if settings.replay_posts else None
    credentials = PostCredentials.from_environment()
    sources = configured_sources(counting, hashtag, board, credentials, window, clock, replay)
    return board, Supervisor(sources, board, clock)
