"""Every TCP connection takes a place under the per-address and total caps at accept
time, whatever it then sends (or never reads)."""

from __future__ import annotations

import asyncio
import socket

import pytest
from aiohttp import web

from eventrunner.access.connections import ConnectionLimits
from eventrunner.web.listener import PER_ADDRESS, CappedSite, connection_limits

from .builders import live_now_schedule
from .process import ServerProcess

REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
LAST_REQUEST = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"


async def hello(request: web.Request) -> web.Response:
    return web.Response(text="hello")


async def answered(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> bytes:
    writer.write(request)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    return head + await asyncio.wait_for(reader.readexactly(5), 5)


async def test_connections_from_one_address_are_capped_at_accept_and_places_come_back():
    app = web.Application()
    app.router.add_get("/", hello)
    runner = web.AppRunner(app)
    await runner.setup()
    limits = ConnectionLimits(total=10, per_address=3)
    site = CappedSite(runner, "127.0.0.1", 0, limits, backlog=16)
    await site.start()
    port = site.port
    held = []
    try:
        for _ in range(3):  # kept alive after their answers: each still holds its place
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            assert (await answered(reader, writer, REQUEST)).endswith(b"hello")
            held.append((reader, writer))
        assert limits.count == 3

        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        refusal = await asyncio.wait_for(reader.read(), 5)  # answered, then closed
        assert refusal.startswith(b"HTTP/1.1 503 ") and b"Retry-After: 10" in refusal
        assert b"Server: eventrunner" in refusal and b"too many connections" in refusal
        writer.close()

        leaving_reader, leaving_writer = held.pop()
        assert (await answered(leaving_reader, leaving_writer, LAST_REQUEST)).endswith(b"hello")
        assert await asyncio.wait_for(leaving_reader.read(), 5) == b""  # the server closed it
        leaving_writer.close()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert (await answered(reader, writer, REQUEST)).endswith(b"hello")
        held.append((reader, writer))
        assert limits.count == 3
    finally:
        for _, writer in held:
            writer.close()
        await runner.cleanup()


def test_behind_a_proxy_only_the_total_applies():
    # Every connection then comes from the proxy: a per-address cap would cap everyone.
    direct = connection_limits(open_files=65536, behind_proxy=False)
    proxied = connection_limits(open_files=65536, behind_proxy=True)
    assert direct.per_address == PER_ADDRESS < direct.total
    assert proxied.per_address == proxied.total == direct.total


@pytest.mark.slow
def test_past_the_total_the_real_server_answers_503_even_to_a_request_already_sent(tmp_path):
    # The real server runs on uvloop: its transports are not asyncio's.
    schedule = live_now_schedule(tmp_path / "day.yaml")
    server = ServerProcess([str(schedule)], tmp_path / "data", open_files=400).start()
    total = connection_limits(400, behind_proxy=False).total
    assert any(f"connections up to {total}," in line for line in server.output)
    held: list[socket.socket] = []
    try:
        held = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(total)]
        for _ in range(10):
            with socket.create_connection(("127.0.0.1", server.port), timeout=5) as refused:
                refused.sendall(REQUEST)  # already there when the server refuses
                answer = b""
                while chunk := refused.recv(4096):
                    answer += chunk
            assert answer.startswith(b"HTTP/1.1 503 ") and b"too many connections" in answer
    finally:
        for sock in held:
            sock.close()
        server.stop()
    log = server.log_after_exit()
    assert "refused a connection" in log and "Traceback" not in log, log[-2000:]
