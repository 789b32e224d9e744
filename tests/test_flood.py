"""A stranger's socket cannot exhaust the server: flooding requests that each want an
answer, and never reading, gets the socket dropped with the server's memory bounded."""

from __future__ import annotations

import asyncio
import base64
import os
import socket

import aiohttp
import pytest
from orjson import loads as orjson_loads

from eventrunner.core.views import AUDIENCES
from eventrunner.live.lane import SHED_SEND_BUFFER
from eventrunner.topics.hub import Topic

from .builders import live_now_schedule
from .process import ServerProcess
from .rawws import RawWebSocket, masked_frame

ENDPOINTS = {
    "socket.io": "/socket.io/?EIO=4&transport=websocket",
    "live": "/live/?EIO=4&transport=websocket",
}
FLOOD = 50_000
MAX_GROWTH_MB = 50


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@pytest.fixture
def server(tmp_path):
    schedule = live_now_schedule(tmp_path / "day.yaml")
    process = ServerProcess([str(schedule)], tmp_path / "data").start()
    yield process
    process.kill()


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_flood_of_requests_that_is_never_read_is_dropped(server, endpoint):
    before = rss_mb(server.process.pid)
    flooder = RawWebSocket(server.port, ENDPOINTS[endpoint])
    try:
        flooder.send_text("40/public,")
        sent = flooder.send_many([f'42/public,{n}["snapshot"]' for n in range(1, FLOOD + 1)])
        assert flooder.closed_by_server(), "the flooding socket is still open"
    finally:
        flooder.close()
    growth = rss_mb(server.process.pid) - before
    assert growth <= MAX_GROWTH_MB, f"grew {growth:.1f} MB after {sent} requests"
    async with aiohttp.ClientSession() as session, session.get(f"{server.url}/healthz") as response:
        assert response.status == 200
    server.kill()
    log = server.log_after_exit().splitlines()
    dropped = [line for line in log if "dropped" in line]
    assert len(dropped) == 1 and "budget" in dropped[0], log[-5:]
    assert not [line for line in log if "Traceback" in line], log


async def open_quiet_socket(port: int, path: str, read_limit: int = 1 << 22):
    """A websocket that joins /public following every topic, then never reads again."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=read_limit)
    writer.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    writer.write(masked_frame(b'40/public,{"topics":"*"}'))
    await writer.drain()
    return reader, writer


def open_connections(running, endpoint: str) -> int:
    realtime = running.server.realtime
    return realtime.lane.connection_count if endpoint == "live" else len(realtime.sio.eio.sockets)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
async def test_a_socket_that_never_reads_is_dropped_not_queued_for(running, endpoint):
    bulky = {"text": "x" * 100_000}
    running.server.hub.add_topic(Topic("bulk", {"producer": bulky, "public": bulky}, version=1))
    reader, writer = await open_quiet_socket(running.http.port, ENDPOINTS[endpoint])
    try:
        async with asyncio.timeout(5):
            await reader.readuntil(b"40/public,")  # joined; from here on it reads nothing
        changes = 0
        while open_connections(running, endpoint) and changes < 400:  # up to 40 MB it never reads
            changes += 1
            running.server.hub.publish("bulk", {a: {"text": f"{changes}" + "x" * 100_000} for a in AUDIENCES})
            await asyncio.sleep(0.005)  # a change at a time, each delivered before the next
        assert open_connections(running, endpoint) == 0, "the socket that never reads is still served"
        assert changes < 400
    finally:
        writer.close()


@pytest.mark.slow
async def test_a_flood_of_engineio_upgrade_probes_is_dropped(server):
    """Engine.IO packets are answered below python-socketio: they spend the budget too."""
    before = rss_mb(server.process.pid)
    flooder = RawWebSocket(server.port, ENDPOINTS["socket.io"])
    try:
        flooder.send_text("40/public,")
        flooder.send_many(["5"] * 200_000)
        assert flooder.closed_by_server(), "the flooding socket is still open"
    finally:
        flooder.close()
    growth = rss_mb(server.process.pid) - before
    assert growth <= MAX_GROWTH_MB, f"grew {growth:.1f} MB"
    server.kill()
    log = server.log_after_exit()
    assert log.count("dropped") == 1 and "budget" in log, log[-2000:]


@pytest.mark.slow
async def test_a_socket_that_polled_before_upgrading_loses_its_connection_when_dropped(server):
    # The socket.io client's default: a polling handshake, then an upgrade to websocket.
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{server.url}/socket.io/?EIO=4&transport=polling") as response,
    ):
        opened = await response.text()
    sid = orjson_loads(opened[1:])["sid"]
    flooder = RawWebSocket(server.port, f"/socket.io/?EIO=4&transport=websocket&sid={sid}")
    try:
        flooder.send_text("2probe")
        flooder.send_text("5")
        flooder.send_text("40/public,")
        flooder.send_many([f'42/public,{n}["snapshot"]' for n in range(1, 5_000)])
        assert flooder.closed_by_server(), "the upgraded socket kept its connection after the drop"
    finally:
        flooder.close()


async def test_when_the_lane_holds_too_much_in_all_slow_sockets_are_shed_early(running):
    """Each socket may fall MAX_SEND_BUFFER behind; past the server-wide budget, the lane
    drops the slow ones at SHED_SEND_BUFFER instead, so many sockets cannot add up."""
    lane = running.server.realtime.lane
    lane.send_buffers.budget = 256 * 1024
    frame = 100_000
    bulky = {"text": "x" * frame}
    running.server.hub.add_topic(Topic("bulk", {"producer": bulky, "public": bulky}, version=1))
    quiet = [
        await open_quiet_socket(running.http.port, ENDPOINTS["live"], read_limit=16 * 1024) for _ in range(6)
    ]
    try:
        for reader, _ in quiet:
            async with asyncio.timeout(5):
                await reader.readuntil(b"40/public,")
        peak, changes = 0, 0
        while lane.connection_count and changes < 1000:
            changes += 1
            running.server.hub.publish("bulk", {a: {"text": f"{changes}" + "x" * frame} for a in AUDIENCES})
            await asyncio.sleep(0.005)  # a change at a time, each delivered before the next
            peak = max(peak, lane.send_buffers.total)
        assert lane.connection_count == 0, "slow sockets are still served"
        assert peak > lane.send_buffers.budget  # the budget was reached ...
        # ... and from then on nobody got past the shed mark (without it: 6 x 512 KiB).
        assert peak <= len(quiet) * (SHED_SEND_BUFFER + frame + 1024), peak
        assert lane.send_buffers.total == 0  # what dropped sockets held is given back
    finally:
        for _, writer in quiet:
            writer.close()
