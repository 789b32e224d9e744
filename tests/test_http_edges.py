"""HTTP edges a stranger can reach: slow bodies, HEAD requests, split bodies, forged
forwarding headers."""

from __future__ import annotations

import asyncio
import re

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from eventrunner.access.connections import ConnectionLimits
from eventrunner.access.ratelimit import RateLimiter
from eventrunner.web.middleware import behind_proxy, body_timeout, rate_limits

from .conftest import TOKEN


async def serve(middlewares, handler) -> TestServer:
    app = web.Application(middlewares=middlewares)
    app.router.add_route("*", "/{tail:.*}", handler)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    return server


async def test_a_body_that_trickles_in_gets_408_not_a_held_socket():
    async def read_all(request: web.Request) -> web.Response:
        return web.Response(text=str(len(await request.read())))

    server = await serve([body_timeout(0.5)], read_all)
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST /producer/login HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\npassword=")
        await writer.drain()  # ...and the rest never comes
        async with asyncio.timeout(5):
            status = await reader.readline()
        assert status.startswith(b"HTTP/1.1 408"), status
        writer.close()
    finally:
        await server.close()


async def test_head_requests_spend_the_page_budget_as_gets_do():
    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<html>a page</html>", content_type="text/html")

    limiter = RateLimiter(per_minute=1, burst=2)
    server = await serve([rate_limits([(re.compile(r"/"), "GET", limiter)])], page)
    try:
        async with aiohttp.ClientSession() as session:
            statuses = [(await session.head(server.make_url("/"))).status for _ in range(3)]
        assert statuses == [200, 200, 429]
    finally:
        await server.close()


async def test_forwarded_for_takes_the_last_hop_of_every_line_and_only_addresses():
    async def who(request: web.Request) -> web.Response:
        return web.Response(text=request.remote or "")

    server = await serve([behind_proxy()], who)
    try:
        async with aiohttp.ClientSession() as session:

            async def remote(*lines: str) -> str:
                headers = [("X-Forwarded-For", line) for line in lines]
                async with session.get(server.make_url("/"), headers=headers) as response:
                    return await response.text()

            # The client wrote the first line; the proxy appended its own.
            assert await remote("10.9.0.1", "203.0.113.7") == "203.0.113.7"
            assert await remote("198.51.100.2, 2001:db8::1") == "2001:db8::1"
            assert await remote("not-an-address" + "x" * 5000) == "127.0.0.1"  # ignored
    finally:
        await server.close()


async def test_a_command_whose_body_arrives_in_pieces_is_read_whole(running):
    body = b'{"command": "hold"}'
    reader, writer = await asyncio.open_connection("127.0.0.1", running.http.port)
    writer.write(
        b"POST /api/show/commands HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Authorization: Bearer {TOKEN}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
        + body[:7]
    )
    await writer.drain()
    await asyncio.sleep(0.05)  # the scenario itself: the rest comes in a later segment
    writer.write(body[7:])
    await writer.drain()
    async with asyncio.timeout(5):
        answer = await reader.read()
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert running.server.dispatcher.state.held


def test_ipv6_clients_are_limited_per_64_and_a_flood_of_addresses_keeps_the_busy_ones():
    limiter = RateLimiter(per_minute=1, burst=1, max_keys=4, clock=lambda: 0.0)
    assert limiter.retry_after("2001:db8:1:2::1") == 0
    assert limiter.retry_after("2001:db8:1:2::ffff") > 0  # the same /64: the same client
    assert limiter.retry_after("2001:db8:1:3::1") == 0  # the next /64: another one
    assert limiter.retry_after("::ffff:192.0.2.1") == 0
    assert limiter.retry_after("192.0.2.1") > 0  # IPv4 written as mapped IPv6: the same
    for n in range(10):  # more addresses than it keeps: it keeps some, never forgets all
        limiter.retry_after(f"198.51.100.{n}")
    assert limiter.retry_after("198.51.100.9") > 0


def test_socket_caps_count_an_ipv6_64_as_one_client():
    limits = ConnectionLimits(total=10, per_address=2)
    assert limits.admit("2001:db8::1") is None and limits.admit("2001:db8::2") is None
    assert "limit of 2" in (limits.admit("2001:db8::3") or "")
    limits.release("2001:db8::1")
    assert limits.admit("2001:db8::9") is None
