"""Process limits every process of the bench sets for itself, and the reference servers' shared start-up."""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
import uvloop

NOFILE = 20_000


def raise_nofile(limit: int = NOFILE) -> None:
    """Every process of the bench holds thousands of sockets."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def exit_after(seconds: float, name: str) -> None:
    """A hard stop whatever the orchestrator does: nothing of the bench outlives its budget."""

    def stop() -> None:
        print(f"{name}: {seconds:.0f} s budget spent, exiting", file=sys.stderr, flush=True)
        os._exit(3)

    timer = threading.Timer(seconds, stop)
    timer.daemon = True
    timer.start()


def run_reference_server(
    name: str, serve: Callable[[int, dict[str, Any], dict[str, Any]], Awaitable[None]]
) -> None:
    """The command line both reference servers share: a port, the captured payload, a budget."""
    parser = argparse.ArgumentParser(description=f"the {name} server of the fan-out bench")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--payload", required=True, help="JSON file: {'show': {...}, 'patch': {...}}")
    parser.add_argument("--max-seconds", type=float, default=900)
    args = parser.parse_args()
    raise_nofile()
    exit_after(args.max_seconds, name)
    with open(args.payload, "rb") as source:
        payload = orjson.loads(source.read())
    uvloop.run(serve(args.port, payload["show"], payload["patch"]))
