"""The command line: `eventrunner serve` runs a show, `eventrunner check` validates files."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from datetime import date
from pathlib import Path

from aiohttp import web

from eventrunner.access.lognoise import quiet_client_noise
from eventrunner.access.roles import SharedPassword
from eventrunner.cluster.workers import run_workers
from eventrunner.config import DEMO_SCHEDULE, ROLE_PASSWORD_NAMES, Settings
from eventrunner.congress.lookup import DATA_DIR as CONGRESS_DATA_DIR
from eventrunner.congress.refresh import DISTRICTS_URL, LEGISLATORS_URL, RefreshError, refresh
from eventrunner.control.opening import DataDirInUse
from eventrunner.core.schedule import ScheduleError, load_schedule
from eventrunner.openfiles import raise_open_file_limit
from eventrunner.stores.contract import StoreConflict, StoreCorrupt, StoreUnavailable
from eventrunner.stores.file import DataDirLocked
from eventrunner.web.address import checked_public_url
from eventrunner.web.listener import CappedSite, connection_limits

EXIT_PROBLEMS = 2  # bad input: starting again will not help
EXIT_RESTART = 3  # start again: the show changed under this process
LISTEN_BACKLOG = 4096
GC_THRESHOLDS = (100_000, 50, 50)
# After the shutdown hooks ask every socket to close, how long a request (a websocket is
# one) may take to finish before aiohttp cancels it; it waits at most twice this. Its
# default, 60 s, kept a stopped server holding the port and the data dir while clients
# that ignore a close (a frozen tab, a raw socket) timed out.
SHUTDOWN_GRACE_S = 0.5


def check(files: list[str]) -> int:
    """Report each file on its own: one file's failure never stops the next."""
    status = 0
    for name in files:
        ok, lines = _check_one(name)
        for line in lines:
            # A file name from argv may not be encodable (undecodable bytes): escape, never crash.
            encoding = sys.stdout.encoding or "utf-8"
            print(line.encode(encoding, "backslashreplace").decode(encoding), flush=True)
        if not ok:
            status = EXIT_PROBLEMS
    return status


def _check_one(name: str) -> tuple[bool, list[str]]:
    try:
        schedule = load_schedule(name)
    except ScheduleError as error:
        return False, error.lines()
    except Exception as error:  # a bug, not the file's fault: still a FILE:LINE problem, and go on
        return False, [f"{name}:1: cannot check the file: {type(error).__name__}"]
    return True, [f"{name}: ok ({len(schedule.plan.segments)} segments)"]


async def _serve(settings: Settings) -> int:
    from .app import build_server  # the web stack loads only for serve

    open_files = raise_open_file_limit()
    server = await build_server(settings)
    # What start-up allocated lives as long as the process: keep it out of the full
    # collections that would otherwise walk it in the middle of a broadcast.
    gc.collect()
    gc.freeze()
    # Collect young objects less often: with thousands of sockets, the default (700)
    # ran collections all through a broadcast, and a full one held the loop for a
    # second (crowd p99 on /socket.io/ 2.0 s -> 0.6 s, and the console no longer waits).
    gc.set_threshold(*GC_THRESHOLDS)
    runner = web.AppRunner(
        server.app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_GRACE_S,
        keepalive_timeout=settings.idle_timeout_s,
    )
    await runner.setup()
    # A restart reconnects every open page at once; the default backlog (128) makes the
    # kernel drop most of those handshakes and the clients back off for seconds.
    connections = connection_limits(open_files, settings.behind_proxy)
    site = CappedSite(runner, settings.host, settings.port, connections, backlog=LISTEN_BACKLOG)
    site.reuse_port = settings.reuse_port
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()  # stops the tasks start-up began (the bus, the lease)
        raise
    # Before "ready": whoever waits for it may stop the server at once.
    stop = asyncio.Event()
    # Another process reopened the show with another schedule: restart to take it up.
    server.dispatcher.on_stale(stop.set)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    base = f"http://{settings.host}:{settings.port}"
    state = server.dispatcher.state
    print(f"eventrunner: {server.dispatcher.schedule.model.event.title}", flush=True)
    print(
        f"  {'new show' if server.new_show else 'resumed'} at v{state.version}: "
        f"{state.phase} {state.segment.id} (data in {settings.data_dir})"
    )
    print(f"  participants  {base}/")
    print(f"  producers     {base}/producer")
    print(f"  overlays      {base}/overlays/")
    sockets = server.realtime.lane.limits
    print(
        f"  open files: {open_files}; connections up to {connections.total}, "
        f"{connections.per_address} from one address; live sockets up to {sockets.total}, "
        f"{sockets.per_address} from one address; idle connections closed after "
        f"{settings.idle_timeout_s:g} s"
    )
    for secret in (server.secrets.producer_password, server.secrets.api_token):
        if secret.origin == "generated":
            print(f"  {secret.env} is not set; generated one, kept in {secret.where}: {secret.value}")
        elif secret.origin == "kept":
            print(f"  {secret.env} is not set; using the one kept in {secret.where}")
    for role, field in (("graphics operator", "graphics_password"), ("viewer", "viewer_password")):
        if getattr(server.secrets, field) is None:
            print(f"  nobody signs in as {role}: {ROLE_PASSWORD_NAMES[field]} is not set")
    print("  ready", flush=True)
    await stop.wait()
    await runner.cleanup()
    if server.dispatcher.problem:
        print(f"eventrunner serve: {server.dispatcher.problem}", file=sys.stderr)
        return EXIT_RESTART
    return 0


def serve(args: argparse.Namespace, argv: list[str]) -> int:
    schedule = Path(args.schedule) if args.schedule else (DEMO_SCHEDULE if args.demo else None)
    if schedule is None:
        print("eventrunner serve: give a schedule file, or --demo", file=sys.stderr)
        return EXIT_PROBLEMS
    if args.workers > 1:
        if not args.redis_url:
            print(
                "eventrunner serve: --workers needs Redis (--redis-url or EVENTRUNNER_REDIS_URL): "
                "that is how the processes share the show",
                file=sys.stderr,
            )
            return EXIT_PROBLEMS
        if args.reset:
            print(
                "eventrunner serve: --reset with one process first, then start the workers", file=sys.stderr
            )
            return EXIT_PROBLEMS
        return run_workers(argv, args.workers)
    settings = Settings(
        schedule=schedule,
        data_dir=Path(args.data_dir).resolve(),  # so the start-up lines name the real place
        demo=args.demo,
        reset=args.reset,
        host=args.host,
        port=args.port,
        behind_proxy=args.behind_proxy,
        idle_timeout_s=args.idle_timeout,
        redis_url=args.redis_url or None,
        reuse_port=args.reuse_port,
        replay_posts=Path(args.replay_posts).resolve() if args.replay_posts else None,
        replay_speed=args.replay_speed,
        public_url=args.public_url,
    )
    if settings.replay_posts is not None and not settings.replay_posts.is_file():
        print(f"eventrunner serve: --replay-posts: no file {settings.replay_posts}", file=sys.stderr)
        return EXIT_PROBLEMS
    if not 0 < settings.replay_speed <= 1000:
        print("eventrunner serve: --replay-speed: a number above 0, at most 1000", file=sys.stderr)
        return EXIT_PROBLEMS
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    quiet_client_noise()
    try:
        import uvloop
    except ImportError:  # uvloop is optional (not on Windows)
        runner = asyncio.run
    else:

        def runner(coroutine):  # type: ignore[no-untyped-def]
            return uvloop.run(coroutine)

    try:
        return runner(_serve(settings))
    except ScheduleError as error:
        print("\n".join(error.lines()), file=sys.stderr)
    except (
        DataDirInUse,
        DataDirLocked,
        StoreCorrupt,
        StoreUnavailable,
        StoreConflict,
        SharedPassword,
    ) as error:
        print(f"eventrunner serve: {error}", file=sys.stderr)
    return EXIT_PROBLEMS


def congress_refresh(args: argparse.Namespace) -> int:
    try:
        done = refresh(args.legislators, args.districts, Path(args.out), args.as_of)
    except RefreshError as error:
        print(f"eventrunner congress-refresh: {error}", file=sys.stderr)
        return EXIT_PROBLEMS
    print(
        f"eventrunner congress-refresh: {done.members} members as of {args.as_of}, "
        f"{done.zctas} ZIP code areas in {done.districts} districts, written to {args.out}"
    )
    for warning in done.warnings:
        print(f"  check: {warning}")
    return 0


def _public_url(text: str) -> str:
    """--public-url (or EVENTRUNNER_PUBLIC_URL), checked before anything starts."""
    try:
        return checked_public_url(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{error} (--public-url or EVENTRUNNER_PUBLIC_URL)") from None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="eventrunner", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("serve", help="run a show")
    run.add_argument("schedule", nargs="?", help="schedule file (YAML)")
    run.add_argument(
        "--demo",
        action="store_true",
        help="run the #CommunitiesNotCages day moved to start two minutes from now",
    )
    run.add_argument("--data-dir", default="data", help="where the show survives restarts (default ./data)")
    run.add_argument("--reset", action="store_true", help="replace the show held in the data dir")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8080)
    run.add_argument(
        "--behind-proxy",
        action="store_true",
        help="trust X-Forwarded-For/-Proto from the reverse proxy in front (only then)",
    )
    run.add_argument(
        "--idle-timeout",
        type=float,
        default=15.0,
        help="seconds a connection may stay without a whole request before it is closed (default 15)",
    )
    run.add_argument(
        "--redis-url",
        default=os.environ.get("EVENTRUNNER_REDIS_URL", ""),
        help="share the show with other processes through Redis (or EVENTRUNNER_REDIS_URL)",
    )
    run.add_argument(
        "--workers", type=int, default=1, help="run N processes on this host and port (needs Redis)"
    )
    run.add_argument(
        "--replay-posts",
        metavar="FILE",
        help="play a recorded stream of posts (JSON lines) into the count, for rehearsals",
    )
    run.add_argument(
        "--replay-speed", type=float, default=1.0, help="how much faster than recorded to play it (default 1)"
    )
    run.add_argument(
        "--public-url",
        type=_public_url,
        default=os.environ.get("EVENTRUNNER_PUBLIC_URL", "").strip() or None,
        metavar="URL",
        help="the address people open, like https://day.example.org: share links, QR codes and "
        "calendar files name it, not the Host of each request (or EVENTRUNNER_PUBLIC_URL)",
    )
    run.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)  # one of --workers
    validate = commands.add_parser("check", help="validate schedule files")
    validate.add_argument("files", nargs="+")
    # A machine without internet passes local copies of the two files.
    congress = commands.add_parser(
        "congress-refresh", help="rebuild the ZIP code to members of Congress data from its sources"
    )
    congress.add_argument(
        "--legislators",
        default=LEGISLATORS_URL,
        metavar="PATH_OR_URL",
        help="legislators-current.yaml of unitedstates/congress-legislators (default: %(default)s)",
    )
    congress.add_argument(
        "--districts",
        default=DISTRICTS_URL,
        metavar="PATH_OR_URL",
        help="ZIP code area to district CSV (state_abbr, zcta, cd) (default: %(default)s)",
    )
    congress.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=date.today(),
        metavar="YYYY-MM-DD",
        help="the date of the member data, shown on the page (default today; "
        "for a local copy, the date of its upstream commit)",
    )
    congress.add_argument(
        "--out", default=str(CONGRESS_DATA_DIR), help="where to write the files (default: %(default)s)"
    )
    arguments = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(arguments)
    if args.command == "check":
        return check(args.files)
    if args.command == "congress-refresh":
        return congress_refresh(args)
    return serve(args, arguments)


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
