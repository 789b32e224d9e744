"""What one Redis carries for the change bus: publishes per second and bytes, for real
show changes, from one publishing process to subscribers.

Starts its own redis-server on a free loopback port (AOF on, fsync every second, as a
deployment would), builds the envelope of a real change of the #CommunitiesNotCages show
(eventrunner's own encoder), and measures, in the same run:

- ours: PUBLISH of that envelope, pipelined the way the bus sends a burst, with S
  subscribers receiving every message;
- baseline: PUBLISH of a 1-byte message the same way (what Redis does for no payload).

The output ends with one line:

    RESULT envelope_bytes=... publishes_per_s=... mb_per_s=... baseline_publishes_per_s=... ratio=...

    .venv/bin/python bench/redisbus.py --messages 20000 --subscribers 4
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import redis.asyncio as aioredis  # noqa: E402

from eventrunner.cluster import envelope  # noqa: E402
from eventrunner.control.commands import Next, apply_command  # noqa: E402
from eventrunner.core.schedule import load_schedule  # noqa: E402
from eventrunner.core.show import start_show  # noqa: E402
from eventrunner.core.views import AUDIENCES, DocumentBuilder  # noqa: E402
from eventrunner.topics.hub import Topic  # noqa: E402

CHANNEL = "bench:changes"
BURST = 100  # publishes in flight at once, as a burst of changes leaves the bus's queue


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def real_envelope() -> bytes:
    """The envelope of `next` on the shipped #CommunitiesNotCages day, mid-show."""
    schedule = load_schedule(REPO / "schedules" / "2022-03-03-communities-not-cages.yaml")
    builder = DocumentBuilder(schedule.model)
    state = start_show(schedule.plan, schedule.plan.start_ms + 60_000)
    topic = Topic("show", {a: builder.view(state, a) for a in AUDIENCES}, version=state.version)
    moved = apply_command(state, Next(command="next"), schedule, schedule.plan.start_ms + 90_000)
    change = topic.change_to({a: builder.view(moved, a) for a in AUDIENCES}, state.version + 1, 0)
    assert change is not None
    return envelope.encode(change, origin="bench", render=schedule.sha256)


async def measure(url: str, payload: bytes, messages: int, subscribers: int) -> float:
    """Publishes per second with every subscriber receiving every message."""
    readers = [aioredis.Redis.from_url(url) for _ in range(subscribers)]
    subs = [reader.pubsub() for reader in readers]
    for sub in subs:
        await sub.subscribe(CHANNEL)
        await sub.get_message(timeout=1)  # the subscribe confirmation

    async def drain(sub: aioredis.client.PubSub) -> None:
        received = 0
        while received < messages:
            message = await sub.get_message(ignore_subscribe_messages=True, timeout=5)
            if message is None:
                raise RuntimeError(f"a subscriber got {received} of {messages}")
            received += 1

    writer = aioredis.Redis.from_url(url)
    started = time.perf_counter()
    draining = [asyncio.create_task(drain(sub)) for sub in subs]
    for offset in range(0, messages, BURST):
        async with writer.pipeline(transaction=False) as pipe:
            for _ in range(min(BURST, messages - offset)):
                pipe.publish(CHANNEL, payload)
            await pipe.execute()
    await asyncio.gather(*draining)
    elapsed = time.perf_counter() - started
    for sub in subs:
        await sub.aclose()
    for client in (*readers, writer):
        await client.aclose()
    return messages / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--subscribers", type=int, default=4, help="server processes following the bus")
    opts = parser.parse_args()
    server_binary = shutil.which("redis-server")
    if server_binary is None:
        sys.exit("redis-server is missing: apt-get install redis-server")
    port = free_port()
    with tempfile.TemporaryDirectory() as directory:
        redis_process = subprocess.Popen(
            [server_binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", directory,
             "--appendonly", "yes", "--appendfsync", "everysec", "--save", ""],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            url = f"redis://127.0.0.1:{port}/0"
            asyncio.run(wait_for_redis(url))
            payload = real_envelope()
            ours = asyncio.run(measure(url, payload, opts.messages, opts.subscribers))
            baseline = asyncio.run(measure(url, b"x", opts.messages, opts.subscribers))
        finally:
            redis_process.kill()
            redis_process.wait()
    mb = ours * len(payload) / 1e6
    print(
        f"redisbus: {opts.messages} messages, {opts.subscribers} subscribers, envelope {len(payload)} bytes"
    )
    print(f"  ours:     {ours:,.0f} publishes/s ({mb:.1f} MB/s in, x{opts.subscribers} out)")
    print(f"  baseline: {baseline:,.0f} publishes/s of 1 byte")
    print(
        f"RESULT envelope_bytes={len(payload)} publishes_per_s={ours:.0f} mb_per_s={mb:.1f} "
        f"baseline_publishes_per_s={baseline:.0f} ratio={ours / baseline:.2f}"
    )


async def wait_for_redis(url: str) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        for _ in range(200):
            try:
                await client.ping()
                return
            except (ConnectionError, OSError, aioredis.ConnectionError):
                await asyncio.sleep(0.02)  # redis-server offers no readiness event
        raise RuntimeError("redis-server did not start")
    finally:
        await client.aclose()


if __name__ == "__main__":
    main()
