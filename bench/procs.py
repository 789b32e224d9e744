"""Child processes of the bench: servers and the load generator, each pinned to its core.

Every child dies with the orchestrator (PR_SET_PDEATHSIG) and has its own time budget,
so an interrupted run leaves nothing behind.
"""

from __future__ import annotations

import ctypes
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import orjson

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
PYTHON = str(REPO / ".venv" / "bin" / "python")
PR_SET_PDEATHSIG = 1
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PROBLEM_WORDS = ("Traceback", "ERROR", "Error", "WARNING", "Exception", "exception")
_LIBC = ctypes.CDLL(None, use_errno=True)  # loaded here: a forked child must not load libraries


class BenchError(Exception):
    """The measurement cannot go on (a server did not start, a reply never came)."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def tcp_counters() -> dict[str, int]:
    """The kernel's TCP counters that tell of a full listen backlog (system-wide, from
    /proc/net/netstat): dropped SYNs make clients wait 1, 3, 7, 15 s before retrying."""
    lines = [line.split() for line in Path("/proc/net/netstat").read_text().splitlines()]
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names[0] == "TcpExt:":
            counters = dict(zip(names[1:], map(int, values[1:]), strict=True))
            return {k: counters.get(k, 0) for k in ("ListenOverflows", "TCPSynRetrans")}
    return {}


def _child_setup(cpu: int | None) -> Any:
    def setup() -> None:
        _LIBC.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if cpu is not None and cpu < (os.cpu_count() or 1):
            os.sched_setaffinity(0, {cpu})

    return setup


class Proc:
    """A child process whose output is drained by a thread (a full pipe would stall it)."""

    def __init__(
        self,
        name: str,
        args: list[str],
        cpu: int | None,
        env: dict[str, str] | None = None,
        control: bool = False,
    ) -> None:
        self.name = name
        self.output: list[str] = []
        self.ready = threading.Event()
        self.replies: queue.Queue[bytes] = queue.Queue()
        self.popen = subprocess.Popen(
            args,
            cwd=REPO,
            env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
            stdin=subprocess.PIPE if control else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE if control else subprocess.STDOUT,
            preexec_fn=_child_setup(cpu),  # only prctl and affinity: safe after fork
        )
        assert self.popen.stdout is not None
        if control:
            assert self.popen.stderr is not None
            self._thread(self._read_replies, self.popen.stdout)
            self._thread(self._drain, self.popen.stderr)
        else:
            self._thread(self._drain, self.popen.stdout)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def _thread(self, target: Any, stream: Any) -> None:
        threading.Thread(target=target, args=(stream,), daemon=True).start()

    def _drain(self, stream: Any) -> None:
        for raw in stream:
            line = raw.decode(errors="replace").rstrip("\n")
            self.output.append(line)
            if line.strip() == "ready":
                self.ready.set()

    def _read_replies(self, stream: Any) -> None:
        for raw in stream:
            self.replies.put(raw)

    def wait_ready(self, limit_s: float) -> float:
        """Seconds until the child printed `ready`; raises if it died or took too long."""
        started = time.monotonic()
        while not self.ready.wait(0.05):
            if self.popen.poll() is not None or time.monotonic() - started > limit_s:
                tail = "\n".join(self.output[-20:])
                raise BenchError(f"{self.name} did not become ready (exit {self.popen.poll()}):\n{tail}")
        return time.monotonic() - started

    def request(self, op: str, **fields: Any) -> dict[str, Any]:
        """One request/reply with the load generator; a `limit_s` field bounds the wait too."""
        within_s = fields.get("limit_s", 60) + 30
        assert self.popen.stdin is not None
        self.popen.stdin.write(orjson.dumps({"op": op, **fields}) + b"\n")
        self.popen.stdin.flush()
        try:
            reply: dict[str, Any] = orjson.loads(self.replies.get(timeout=within_s))
        except queue.Empty:
            raise BenchError(f"{self.name}: no reply to {op} in {within_s:.0f} s") from None
        if "error" in reply:
            raise BenchError(f"{self.name}: {op} failed: {reply['error']}")
        return reply

    def cpu_times(self) -> tuple[float, float]:
        """(utime, stime) of the whole process (all threads) in seconds, from /proc/<pid>/stat."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return int(fields[11]) / CLOCK_TICKS, int(fields[12]) / CLOCK_TICKS  # fields 14, 15 of proc(5)

    def cpu_seconds(self) -> float:
        return sum(self.cpu_times())

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def problems(self) -> list[str]:
        return [line for line in self.output if any(word in line for word in PROBLEM_WORDS)]

    def kill(self) -> None:
        """kill -9, as a crash or an OOM kill would."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait(timeout=15)

    def stop(self, grace_s: float = 10) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=grace_s)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=15)
        if self.popen.stdin is not None:
            self.popen.stdin.close()


def start_redis(workdir: Path, cpu: int) -> tuple[Proc, str]:
    """A redis-server for a bench run (AOF, fsync every second, as a deployment would);
    returns it and its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise BenchError("redis-server is missing: apt-get install redis-server")
    port = free_port()
    redis = Proc(
        "redis",
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
         "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
        cpu=cpu,
    )  # fmt: skip
    return redis, f"redis://127.0.0.1:{port}/0"
