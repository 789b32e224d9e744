"""Several server processes on one Redis: one show, one clock, and what happens when a
process, both processes, or Redis itself goes away."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest
from playwright.async_api import expect

from .browser import WAIT_MS, connected
from .builders import REPO
from .conftest import PASSWORD, TOKEN
from .peers import jetstream
from .peers.jetstream import JetstreamPeer
from .process import ServerProcess, show
from .redisserver import RedisServer, redis_server  # noqa: F401  (a fixture)
from .sockets import Recorder
from .test_checkins import PRODUCER, action, call
from .test_post_sources import TAG, counting_day, now_us, until_total
from .test_sessions import command_status, console_opens, producer_socket, sign_in, sign_out

pytestmark = pytest.mark.slow
ARTIFACTS = REPO / "test-artifacts"

FLASH_S = 3  # how long the flash graphic stays on air once taken


def cluster_day(path: Path) -> Path:
    """A live segment with a graphic that leaves the air by itself FLASH_S after a take."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    fmt = "%Y-%m-%d %H:%M"
    path.write_text(f"""
event: {{title: Cluster day, timezone: UTC, date: "{start:%Y-%m-%d}"}}
segments:
  - id: opening
    title: Opening
    kind: livestream
    start: "{start:{fmt}}"
    end: "{start + timedelta(hours=2):{fmt}}"
    cues:
      - {{id: host, at: 0m, kind: lower_third, name: Host}}
      - {{id: flash, at: 90m, kind: lower_third, name: Flash, on_air: {FLASH_S}s, take: manual}}
  - id: closing
    title: Closing
    kind: livestream
    start: "{start + timedelta(hours=3):{fmt}}"
    end: "{start + timedelta(hours=4):{fmt}}"
""")
    return path


def server_on(redis: RedisServer, schedule: Path, data_dir: Path) -> ServerProcess:
    return ServerProcess([str(schedule), "--redis-url", redis.url], data_dir)


async def post(url: str, body: dict) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{url}/api/show/commands", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as answer,
    ):
        return answer.status, await answer.json()


async def health(url: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/healthz") as answer:
        return answer.status, await answer.json()


def leads(server: ServerProcess) -> bool:
    leading = False
    for line in list(server.output):
        if "this process leads" in line:
            leading = True
        elif "no longer leads" in line:
            leading = False
    return leading


async def wait_until(condition, timeout_s: float, what: str) -> float:
    """Wait for a condition on another process's output or state; returns when it held."""
    deadline = time.monotonic() + timeout_s
    while not await condition():
        assert time.monotonic() < deadline, f"{what} did not happen within {timeout_s} s"
        await asyncio.sleep(0.05)  # polling another process: there is no event to await
    return time.monotonic()


@pytest.fixture
def two(tmp_path, redis_server):  # noqa: F811
    schedule = cluster_day(tmp_path / "day.yaml")
    first = server_on(redis_server, schedule, tmp_path / "a").start()
    second = server_on(redis_server, schedule, tmp_path / "b").start()
    yield first, second
    first.kill()
    second.kill()


async def test_a_command_to_one_process_reaches_the_crowd_of_the_other_on_both_endpoints(two):
    a, b = two
    assert "new show" in "".join(a.output) and "resumed" in "".join(b.output)  # the second joined
    lane, sio = Recorder(), Recorder()
    await lane.connect(b.url, ["/public"], socketio_path="live")
    await sio.connect(b.url, ["/public", "/overlay"])
    try:
        before = (await show(b.url))["version"]
        status, answer = await post(a.url, {"command": "take", "cue": "flash"})
        assert status == 200 and answer["version"] == before + 1
        for recorder, namespace in ((lane, "/public"), (sio, "/public"), (sio, "/overlay")):
            doc = await recorder.wait_for(namespace, lambda d: d["version"] == before + 1)
            assert "flash" in str(doc["graphics"])
        assert (await show(a.url))["version"] == (await show(b.url))["version"] == before + 1
        # And back the other way, through the producers' own namespace on A.
        console = Recorder()
        await console.connect(a.url, ["/producer"], auth={"token": TOKEN})
        try:
            status, _ = await post(b.url, {"command": "hold"})
            assert status == 200
            held = await console.wait_for("/producer", lambda d: d["version"] == before + 2)
            assert held["program"]["held"] is True
        finally:
            await console.close()
    finally:
        await lane.close()
        await sio.close()


async def test_when_the_leader_dies_the_other_fires_what_fell_due_within_5_s_exactly_once(two):
    a, b = two
    leader, other = (a, b) if leads(a) else (b, a)
    assert leads(leader) and not leads(other)
    status, taken = await post(other.url, {"command": "take", "cue": "flash"})
    assert status == 200
    due = time.monotonic() + FLASH_S  # the flash leaves the air then, whoever leads
    leader.kill()  # SIGKILL: its lease runs out in Redis, nobody releases it

    async def flash_gone() -> bool:
        return "flash" not in str((await show(other.url))["graphics"])

    gone_at = await wait_until(flash_gone, FLASH_S + 10, "the flash leaving the air")
    assert gone_at - due < 5, f"fired {gone_at - due:.1f} s after it fell due"
    assert leads(other)
    assert (await show(other.url))["version"] == taken["version"] + 1  # one change: fired once
    await asyncio.sleep(1)  # nothing more is due: a second firing would show up here
    assert (await show(other.url))["version"] == taken["version"] + 1
    fired = [line for line in other.output if re.search(r"v\d+ advance by autopilot", line)]
    assert len(fired) == 1, fired


async def test_kill_9_of_every_process_and_of_redis_loses_nothing_acknowledged(two, redis_server):  # noqa: F811
    a, b = two
    acknowledged = None
    # No timed graphic: a restart slower than its time on air would rightly clear it.
    for body, url in (({"command": "extend", "minutes": 5}, a.url), ({"command": "hold"}, b.url)):
        status, answer = await post(url, body)
        assert status == 200
        acknowledged = answer["version"]
    before = await show(b.url)  # the process that acknowledged last
    a.kill()
    b.kill()
    redis_server.kill()  # AOF with fsync on every write: what was acknowledged is on disk
    redis_server.start()
    a.start()
    b.start()
    for server in (a, b):
        after = await show(server.url)
        assert after["version"] == acknowledged
        assert after["program"] == before["program"] and after["timing"] == before["timing"]
    status, answer = await post(b.url, {"command": "resume"})
    assert status == 200 and answer["version"] == acknowledged + 1


async def test_a_redis_outage_keeps_clients_refuses_commands_and_heals_itself(two, redis_server):  # noqa: F811
    a, b = two
    watcher = Recorder()
    await watcher.connect(b.url, ["/public"], socketio_path="live")
    try:
        version = (await show(b.url))["version"]
        redis_server.stop()

        async def degraded() -> bool:
            status, body = await health(a.url)
            return status == 503 and "Redis" in body.get("problem", "")

        await wait_until(degraded, 10, "/healthz reporting the outage")
        status, answer = await post(a.url, {"command": "hold"})
        assert status == 503 and "nothing changed" in answer["error"]
        # The crowd keeps its connection and what it holds.
        assert watcher.client.connected and watcher.docs["/public"]["version"] == version
        assert (await show(b.url))["version"] == version

        redis_server.start()

        async def healthy() -> bool:
            return all([(await health(server.url))[0] == 200 for server in (a, b)])

        await wait_until(healthy, 15, "both processes healing")
        status, answer = await post(a.url, {"command": "hold"})
        assert status == 200 and answer["version"] == version + 1
        doc = await watcher.wait_for("/public", lambda d: d["version"] == version + 1)
        assert doc["program"]["held"] is True
    finally:
        await watcher.close()


async def test_a_sign_in_counts_at_every_process_and_a_sign_out_ends_it_everywhere(two):
    a, b = two
    status, cookie = await sign_in(a.url)
    assert status == 303 and cookie
    assert await console_opens(b.url, cookie)  # signed in at A, welcome at B
    assert await command_status(b.url, {"Cookie": cookie}) == 200
    async with producer_socket(a.url, headers={"Cookie": cookie}) as (_console, closed):
        assert (await sign_out(b.url, cookie)).status == 303  # signed out at B ...
        async with asyncio.timeout(5):
            await closed.wait()  # ... closes the console that A holds
    for server in (a, b):
        assert await command_status(server.url, {"Cookie": cookie}) == 401
        assert not await console_opens(server.url, cookie)


async def test_workers_share_one_port_and_one_show(tmp_path, redis_server):  # noqa: F811
    schedule = cluster_day(tmp_path / "day.yaml")
    workers = ServerProcess(
        [str(schedule), "--redis-url", redis_server.url, "--workers", "2"], tmp_path / "w"
    )
    workers.start()
    try:

        async def both_ready() -> bool:
            return sum(line.strip() == "ready" for line in list(workers.output)) == 2

        await wait_until(both_ready, 30, "both workers starting")
        # The kernel spreads connections over both; each answers, and only one leads.
        answered = set()
        for _ in range(40):
            _, body = await health(workers.url)
            answered.add(body["process"])
        assert len(answered) == 2
        status, answer = await post(workers.url, {"command": "hold"})
        assert status == 200

        async def every_worker_has_it() -> bool:
            # Whichever worker answers: the other learns of the change over Redis.
            seen = [(await show(workers.url))["version"] for _ in range(10)]
            return all(version == answer["version"] for version in seen)

        await wait_until(every_worker_has_it, 2, "the change reaching both workers")
        assert sum("this process leads" in line for line in list(workers.output)) == 1
    finally:
        workers.stop()
    assert workers.process.returncode == 0


def test_workers_need_redis(tmp_path):
    schedule = cluster_day(tmp_path / "day.yaml")
    refused = subprocess.run(
        [sys.executable, "-m", "eventrunner.cli", "serve", str(schedule), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=30,
        env={k: v for k, v in os.environ.items() if k != "EVENTRUNNER_REDIS_URL"},
    )
    assert refused.returncode == 2 and "--workers needs Redis" in refused.stderr


@pytest.mark.browser
async def test_the_console_says_degraded_while_redis_is_down_and_recovers(browser, tmp_path, redis_server):  # noqa: F811
    server = server_on(redis_server, cluster_day(tmp_path / "day.yaml"), tmp_path / "a").start()
    ARTIFACTS.mkdir(exist_ok=True)
    try:
        console = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
        await console.goto(f"{server.url}/producer")
        await console.fill("input[name=password]", PASSWORD)
        await console.click("button[type=submit]")
        await connected(console)
        banner = console.locator(".conn-banner")
        await expect(console.locator("[data-field=connection]")).to_have_text("Connected", timeout=WAIT_MS)
        await expect(banner).to_be_hidden()

        redis_server.stop()
        await expect(console.locator("[data-field=connection]")).to_have_text(
            "Connected — degraded", timeout=WAIT_MS
        )
        await expect(banner).to_be_visible()
        await expect(banner).to_contain_text("Degraded.")
        await expect(banner).to_contain_text("Redis")
        await expect(console.locator("[data-command=next]").first).to_be_disabled()
        await console.screenshot(path=str(ARTIFACTS / "console-degraded.png"))  # for people to look at

        redis_server.start()
        await expect(console.locator("[data-field=connection]")).to_have_text("Connected", timeout=WAIT_MS)
        await expect(banner).to_be_hidden()
        await expect(console.locator("[data-command=next]").first).to_be_enabled()
    finally:
        server.kill()


async def test_a_show_reopened_with_an_edited_schedule_sends_the_old_processes_to_restart(two, tmp_path):
    a, b = two
    b.kill()
    schedule = tmp_path / "day.yaml"
    schedule.write_text(schedule.read_text().replace("title: Closing", "title: Closing words"))
    b.start()  # carries the show over to the edited schedule, in Redis
    # A renders with the old schedule: it must neither save over the new show nor serve it.
    assert a.process.wait(timeout=10) == 3
    assert "reopened with another schedule" in a.log_after_exit()
    status, _ = await post(b.url, {"command": "hold"})
    assert status == 200
    assert "Closing words" in str((await show(b.url))["rundown"])


async def test_a_store_that_lost_the_show_gets_it_back_from_the_processes(two, redis_server):  # noqa: F811
    a, b = two
    status, answer = await post(a.url, {"command": "hold"})
    assert status == 200
    version = answer["version"]
    flush = await asyncio.create_subprocess_exec("redis-cli", "-p", str(redis_server.port), "flushall")
    assert await flush.wait() == 0  # Redis restarted without its file, say
    status, answer = await post(b.url, {"command": "resume"})
    assert status == 200 and answer["version"] == version + 1  # versions never go back

    async def both_agree() -> bool:
        return (await show(a.url))["version"] == (await show(b.url))["version"] == version + 1

    await wait_until(both_agree, 5, "both processes on the restored show")


async def test_check_ins_decided_on_one_process_go_on_air_from_the_other(two):
    a, b = two
    overlay = Recorder(["checkins"])
    await overlay.connect(b.url, ["/overlay"], expect=("checkins",), socketio_path="live")
    try:
        status, created = await call(a.url, "POST", "/api/actions", action())
        assert status == 201
        status, approved = await call(b.url, "POST", f"/api/actions/{created['id']}/approve", **PRODUCER)
        assert status == 200
        # The link works on either process; the check-in is approved on the other.
        path = "/api/checkin/" + approved["checkin_url"].rsplit("/", 1)[1]
        for people, url in ((25, a.url), (30, b.url)):
            status, checkin = await call(
                url, "POST", path, {"headcount": people, "message": f"{people} here"}
            )
            assert status == 201
            decider = b.url if url == a.url else a.url
            assert (await call(decider, "POST", f"/api/checkins/{checkin['id']}/approve", **PRODUCER))[
                0
            ] == 200
        doc = await overlay.wait_for("/overlay", lambda d: d["totals"]["people"] == 30, "checkins")
        assert doc["totals"]["live"] == 1 and len(doc["air"]["feed"]) == 2
        status, _ = await call(
            a.url, "POST", "/api/checkins/air", {"killed": True, "spotlight": created["id"]}, **PRODUCER
        )
        assert status == 200
        doc = await overlay.wait_for("/overlay", lambda d: d["air"]["killed"], "checkins")
        assert doc["air"]["feed"] == [] and "spotlight" not in doc["air"]
        await call(b.url, "POST", "/api/checkins/air", {"killed": False}, **PRODUCER)
        doc = await overlay.wait_for("/overlay", lambda d: "spotlight" in d["air"], "checkins")
        assert doc["air"]["spotlight"]["checkin"]["headcount"] == 30  # the spotlight A set is kept
    finally:
        await overlay.close()


async def test_only_the_leader_reads_the_platforms_and_the_next_one_goes_on_without_gaps(
    tmp_path,
    redis_server,  # noqa: F811
):
    async with JetstreamPeer() as peer:
        schedule = counting_day(tmp_path / "day.yaml", f"    bluesky: {{url: '{peer.url}'}}")
        first = server_on(redis_server, schedule, tmp_path / "a").start()
        second = server_on(redis_server, schedule, tmp_path / "b").start()
        try:
            await peer.wait_connected(1)
            leader, other = (first, second) if leads(first) else (second, first)
            assert leads(leader) and not leads(other) and len(peer.connections) == 1
            base, truth = now_us(), 0
            for n in range(100):
                key = jetstream.tid(base + n * 1000)
                peer.publish(jetstream.post(f"did:plc:u{n}", key, f"#{n} {TAG}", time_us=base + n))
                truth += 1
            await until_total(other.url, truth)  # counted by the leader, seen from the other
            leader.kill()
            for n in range(100, 150):
                key = jetstream.tid(base + n * 1000)
                peer.publish(jetstream.post(f"did:plc:u{n}", key, f"#{n} {TAG}", time_us=base + n))
                truth += 1
            await peer.wait_connected(2)  # the other took the lease, and the platform, over
            assert leads(other) and "cursor" in peer.connections[1]
            assert (await until_total(other.url, truth))["by_platform"] == {"bluesky": truth}
        finally:
            first.kill()
            second.kill()
