"""`eventrunner serve --workers N`: N server processes on one host and port.

Each worker is a whole server (`serve` without --workers) that binds the port with
SO_REUSEPORT, so the kernel spreads connections over them; they share the show through
Redis. This parent only starts them, restarts one that dies, and passes a stop on.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time

RESTART_PAUSE_S = 1.0
EXIT_PROBLEMS = 2  # as `eventrunner serve` exits on bad input


def worker_command(argv: list[str]) -> list[str]:
    """The same `serve` command line, as one worker: without --workers N, with --reuse-port."""
    command: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workers":
            skip = True
        elif not arg.startswith("--workers="):
            command.append(arg)
    return [sys.executable, "-m", "eventrunner.cli", *command, "--reuse-port"]


def run_workers(argv: list[str], count: int) -> int:
    command = worker_command(argv)
    workers = [subprocess.Popen(command) for _ in range(count)]
    stopping = False

    def stop(signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    while True:
        for index, worker in enumerate(workers):
            try:
                code = worker.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                continue
            if stopping:
                continue
            if code == EXIT_PROBLEMS:  # a bad schedule or setting: another start fails alike
                print(f"eventrunner: worker {worker.pid} could not start; stopping all", flush=True)
                stop(signal.SIGTERM, None)
                continue
            print(f"eventrunner: worker {worker.pid} exited with {code}; starting another", flush=True)
            time.sleep(RESTART_PAUSE_S)  # a worker that cannot start must not spin
            workers[index] = subprocess.Popen(command)
        if stopping and all(worker.poll() is not None for worker in workers):
            return EXIT_PROBLEMS if any(worker.returncode == EXIT_PROBLEMS for worker in workers) else 0
