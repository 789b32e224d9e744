"""Stopping the server: Ctrl-C or SIGTERM closes every socket and frees the data dir at once,
so a restart (a deploy, a crash loop, a producer's second try) is never kept waiting."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable

import aiohttp
import pytest
import socketio

from .process import ServerProcess

pytestmark = pytest.mark.slow

STOP_BOUND_S = 2.0  # the product's promise for a stop, clients or not
CLIENTS_PER_KIND = 34  # three kinds: 102 clients


async def socketio_client(url: str) -> Awaitable[None]:
    """A python-socketio client on /socket.io/; returns what completes when it sees the end."""
    client = socketio.AsyncClient(reconnection=False)
    gone = asyncio.Event()

    async def on_disconnect(*_: object) -> None:
        gone.set()

    client.on("disconnect", on_disconnect, namespace="/public")
    await client.connect(url, namespaces=["/public"], transports=["websocket"])

    async def closed() -> None:
        await gone.wait()
        await client.disconnect()  # nothing left to close but the client's own session

    return closed()


async def raw_client(session: aiohttp.ClientSession, url: str) -> Awaitable[None]:
    """A bare websocket that joins /public and then never answers anything (a frozen tab):
    the server may not wait for it to agree to a close."""
    ws = await session.ws_connect(url)
    assert (await ws.receive_str()).startswith("0{")  # Engine.IO open
    await ws.send_str("40/public,")
    while not (await ws.receive_str()).startswith("40/public,"):
        pass  # the join's answer, once the snapshots that may come with it are past

    async def closed() -> None:
        async for _ in ws:  # ends when the connection does
            pass
        assert ws.closed

    return closed()


async def stop_with(sig: signal.Signals, tmp_path) -> None:
    server = ServerProcess(["--demo"], tmp_path / "data").start()
    try:
        async with aiohttp.ClientSession() as session:
            lane = f"{server.url}/live/?EIO=4&transport=websocket"
            full = f"{server.url}/socket.io/?EIO=4&transport=websocket"
            clients = await asyncio.gather(
                *(socketio_client(server.url) for _ in range(CLIENTS_PER_KIND)),
                *(raw_client(session, lane) for _ in range(CLIENTS_PER_KIND)),
                *(raw_client(session, full) for _ in range(CLIENTS_PER_KIND)),
            )
            watching = [asyncio.ensure_future(closed) for closed in clients]
            assert server.process is not None
            started = time.monotonic()
            server.process.send_signal(sig)
            code = await asyncio.to_thread(server.process.wait, 15)
            took = time.monotonic() - started
            rest = server.log_after_exit()
            assert took < STOP_BOUND_S, f"stopping took {took:.2f} s:\n{rest}"
            assert code == 0, rest
            assert "Traceback" not in rest, rest
            # Every client learns its connection is over (none is left hanging).
            async with asyncio.timeout(5):
                await asyncio.gather(*watching)
        # The data dir is free: the same server starts again at once, on the same port.
        server.start()
        assert any("ready" in line for line in server.output)
    finally:
        server.kill()


async def test_sigterm_stops_at_once_with_a_hundred_clients(tmp_path):
    await stop_with(signal.SIGTERM, tmp_path)


async def test_ctrl_c_stops_at_once_with_a_hundred_clients(tmp_path):
    await stop_with(signal.SIGINT, tmp_path)
