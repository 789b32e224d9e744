"""How many check-ins a second the server accepts and keeps, and how fast it answers.

    .venv/bin/python bench/checkins.py --submissions 10000

Starts `eventrunner serve` on the embedded store, then on Redis (its own redis-server),
each pinned to core 0, and a bare aiohttp server that answers 201 without validating or
keeping anything (the baseline: what HTTP alone costs here). This process, on core 1,
sets up approved actions with their check-in links, then bursts text check-ins at each
server from many loopback addresses (as hosts at many rallies), a few per link, and
counts what the store holds afterwards. The output ends with one line:

    RESULT checkins_per_s=... p99_ms=... redis_checkins_per_s=... redis_p99_ms=...
           baseline_per_s=... ratio=...

(ratio: the embedded store's rate over the baseline's). Target: at least 2,000 a second
with p99 under 50 ms on the embedded store.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import redis
import uvloop
from limits import raise_nofile
from procs import BENCH_DIR, PYTHON, BenchError, Proc, free_port, start_redis

SERVER_CPU, CLIENT_CPU = 0, 1
TOKEN = "bench-token"
PRODUCER = {"Authorization": f"Bearer {TOKEN}"}
LINKS_PER_ADDRESS = 5  # the API allows an address 60 requests at once; setup and burst stay under
PER_LINK = 5  # the per-link burst


def schedule(workdir: Path) -> Path:
    start = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M")
    path = workdir / "day.yaml"
    path.write_text(
        f"event: {{title: Check-in bench, timezone: UTC, date: '{start[:10]}'}}\n"
        f"segments:\n  - {{id: day, title: Day, kind: livestream, start: '{start}', duration: 8h}}\n"
    )
    return path


def action(n: int) -> dict:
    start = datetime.now(UTC) + timedelta(hours=1)
    return {
        "title": f"Rally {n}",
        "type": "rally",
        "venue": "Federal plaza",
        "city": "Chicago",
        "state": "IL",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "description": "",
        "contact": "host@example.org",
    }


def address(index: int) -> str:
    return f"127.3.{index // 250}.{index % 250 + 1}"


class Hosts:
    """One HTTP session per source address, as hosts at many rallies."""

    def __init__(self, count: int) -> None:
        self.sessions = [
            aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(address(i), 0), limit=0))
            for i in range(count)
        ]

    async def close(self) -> None:
        for session in self.sessions:
            await session.close()


async def set_up(url: str, hosts: Hosts, links: int) -> list[str]:
    """`links` approved actions; returns their check-in paths."""

    async def one(n: int) -> str:
        session = hosts.sessions[n // LINKS_PER_ADDRESS]
        async with session.post(f"{url}/api/actions", json=action(n)) as answer:
            if answer.status != 201:
                raise BenchError(f"action refused: {answer.status} {await answer.text()}")
            created = await answer.json()
        async with session.post(f"{url}/api/actions/{created['id']}/approve", headers=PRODUCER) as answer:
            approved = await answer.json()
        # The link opens the host's page; its check-ins go to the API.
        return "api/checkin/" + str(approved["checkin_url"]).rsplit("/", 1)[1]

    paths: list[str] = []
    for start in range(0, links, 200):
        paths += await asyncio.gather(*(one(n) for n in range(start, min(links, start + 200))))
    return paths


async def burst(
    url: str, hosts: Hosts, paths: list[str], total: int, concurrency: int
) -> tuple[float, list[float]]:
    """(seconds for all, each submission's latency in ms)."""
    latencies: list[float] = []
    todo = iter(range(total))
    failures: list[str] = []

    async def worker() -> None:
        for n in todo:
            link = n % len(paths)
            session = hosts.sessions[link // LINKS_PER_ADDRESS]
            started = time.perf_counter()
            async with session.post(
                f"{url}/{paths[link]}", json={"headcount": n % 500, "message": "We are here"}
            ) as a:
                await a.read()
                if a.status != 201:
                    failures.append(f"{a.status}")
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    if failures:
        raise BenchError(f"{len(failures)} of {total} refused, e.g. HTTP {failures[0]}")
    return elapsed, latencies


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)]


def start_server(name: str, args: list[str], port: int) -> Proc:
    server = Proc(
        name,
        args,
        cpu=SERVER_CPU,
        env={"EVENTRUNNER_PRODUCER_PASSWORD": "x", "EVENTRUNNER_API_TOKEN": TOKEN},
    )
    server.wait_ready(60)
    return server


def with_log(server: Proc, error: BenchError) -> BenchError:
    """The error, with what the server said about it."""
    return BenchError(f"{error}\n{server.name} said:\n  " + "\n  ".join(server.problems()[-10:]))


async def measure(url: str, opts: argparse.Namespace, setup: bool = True) -> tuple[float, float]:
    hosts = Hosts(math.ceil(opts.links / LINKS_PER_ADDRESS))
    try:
        paths = (
            await set_up(url, hosts, opts.links)
            if setup
            else [f"api/checkin/x{n}" for n in range(opts.links)]
        )
        elapsed, latencies = await burst(url, hosts, paths, opts.submissions, opts.concurrency)
    finally:
        await hosts.close()
    return opts.submissions / elapsed, p99(latencies)


def run_server(name: str, args: list[str], opts: argparse.Namespace) -> tuple[float, float]:
    """Start a server on a free port, measure it, stop it: (check-ins a second, p99 ms)."""
    port = free_port()
    server = start_server(name, [*args, "--port", str(port)], port)
    try:
        return uvloop.run(measure(f"http://127.0.0.1:{port}", opts))
    except BenchError as error:
        raise with_log(server, error) from None
    finally:
        server.stop()


def kept_embedded(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "collections.sqlite3") as db:
        return int(db.execute("SELECT count(*) FROM records WHERE kind = 'checkin'").fetchone()[0])


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50, help="submissions in flight at once")
    opts = parser.parse_args()
    opts.links = math.ceil(opts.submissions / PER_LINK)
    raise_nofile()
    os.sched_setaffinity(0, {CLIENT_CPU % (os.cpu_count() or 1)})
    workdir = Path(tempfile.mkdtemp(prefix="checkins-"))
    results: dict[str, tuple[float, float]] = {}
    try:
        day = schedule(workdir)
        serve = [PYTHON, "-m", "eventrunner.cli", "serve", str(day)]
        results["embedded"] = run_server("embedded", [*serve, "--data-dir", str(workdir / "a")], opts)
        kept = kept_embedded(workdir / "a")
        if kept != opts.submissions:
            raise BenchError(f"the embedded store kept {kept} of {opts.submissions} accepted check-ins")

        redis_server, url = start_redis(workdir, cpu=CLIENT_CPU)
        try:
            time.sleep(0.5)  # redis-server prints no readiness line to wait on
            redis_args = [*serve, "--data-dir", str(workdir / "b"), "--redis-url", url]
            results["redis"] = run_server("redis", redis_args, opts)
            kept = redis.Redis.from_url(url).zcard("eventrunner:records:checkin:order")
            if kept != opts.submissions:
                raise BenchError(f"Redis kept {kept} of {opts.submissions} accepted check-ins")
        finally:
            redis_server.stop()

        port = free_port()
        server = start_server("baseline", [PYTHON, str(BENCH_DIR / "baseline_checkins.py"), str(port)], port)
        try:
            results["baseline"] = uvloop.run(measure(f"http://127.0.0.1:{port}", opts, setup=False))
        finally:
            server.stop()
    except BenchError as error:
        print(f"checkins: {error}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    for name, (rate, latency) in results.items():
        print(f"  {name:9} {rate:8,.0f} check-ins/s  p99 {latency:6.1f} ms  ({opts.submissions} submissions)")
    (ours, ours_p99), (on_redis, redis_p99), (base, _) = (
        results["embedded"],
        results["redis"],
        results["baseline"],
    )
    verdict = "ok" if ours >= 2000 and ours_p99 < 50 else "MISSED"
    print(f"  target: at least 2,000/s with p99 under 50 ms on the embedded store: {verdict}")
    print(
        f"RESULT checkins_per_s={ours:.0f} p99_ms={ours_p99:.1f} redis_checkins_per_s={on_redis:.0f} "
        f"redis_p99_ms={redis_p99:.1f} baseline_per_s={base:.0f} ratio={ours / base:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
