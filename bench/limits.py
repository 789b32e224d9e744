"""Process limits every process of the bench sets for itself."""

from __future__ import annotations

import os
import resource
import sys
import threading

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
