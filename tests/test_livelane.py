"""The live lane's own edges: what it refuses, its heartbeat, and hostile input."""

from __future__ import annotations

import aiohttp
import orjson
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from eventrunner.access.connections import ConnectionLimits
from eventrunner.live.lane import LiveLane, event_message


async def expect_text(ws: aiohttp.ClientWebSocketResponse, prefix: str) -> str:
    """The next text message, skipping Engine.IO pings unless they are what is expected."""
    message = await ws.receive(timeout=5)
    while prefix not in ("", "2") and message.type == WSMsgType.TEXT and message.data == "2":
        message = await ws.receive(timeout=5)
    assert message.type == WSMsgType.TEXT, message
    assert message.data.startswith(prefix), message.data
    return message.data


@pytest.fixture
async def lane():
    lane = LiveLane(
        ("/public",),
        on_connect=lambda namespace, auth: (("show",), [event_message(namespace, "show", b'{"version":1}')]),
        handlers={"echo": lambda namespace, data: {"namespace": namespace, "data": data}},
        limits=ConnectionLimits(total=100, per_address=3),
        ping_interval_s=0.2,
        ping_timeout_s=0.3,
    )
    app = web.Application()
    lane.attach(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    lane.url = str(server.make_url("/live/?EIO=4&transport=websocket"))
    yield lane
    await server.close()


async def open_socket(session: aiohttp.ClientSession, lane: LiveLane) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(lane.url)
    handshake = orjson.loads((await expect_text(ws, "0"))[1:])
    assert handshake["pingInterval"] == 200 and handshake["upgrades"] == []
    return ws


async def test_connect_events_acks_and_broadcast(lane):
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, lane)
        await ws.send_str("40/public,")
        await expect_text(ws, '40/public,{"sid":')
        assert await expect_text(ws, "42/public,") == '42/public,["show",{"version":1}]'
        await ws.send_str('42/public,7["echo",{"x":[1,2]}]')
        assert (
            await expect_text(ws, "43/public,7") == '43/public,7[{"namespace":"/public","data":{"x":[1,2]}}]'
        )
        assert (
            await lane.broadcast("/public", "show", event_message("/public", "patch", b'{"version":2}')) == 1
        )
        assert await expect_text(ws, "42/public,") == '42/public,["patch",{"version":2}]'
        await ws.send_str("41/public,")  # leave the namespace: no more broadcasts
        await ws.send_str('42/public,8["echo",null]')
        await ws.send_str("40/public,")
        await expect_text(ws, "40/public,")
        await expect_text(ws, '42/public,["show"')
        assert lane.connection_count == 1
        await ws.close()


async def test_refusals(lane):
    async with aiohttp.ClientSession() as session:
        response = await session.get(lane.url.replace("transport=websocket", "transport=polling"))
        assert response.status == 400 and "websocket only" in await response.text()
        ws = await open_socket(session, lane)
        await ws.send_str("40/producer,")
        assert (
            await expect_text(ws, "44/producer,")
            == '44/producer,{"message":"this endpoint serves /public only"}'
        )
        await ws.close()


async def test_garbage_is_ignored_and_binary_closes(lane):
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, lane)
        for garbage in (
            "",
            "4",
            "42/public,[",
            '42/public,1["echo"',
            "42/public,9999999999999999[]",
            "9zzz",
            '42/public,1{"not":"a list"}',
            '42/nowhere,1["echo",1]',
        ):
            await ws.send_str(garbage)
        await ws.send_str("40/public,")
        await expect_text(ws, "40/public,")
        await ws.send_str('42/public,3["echo",1]')
        await expect_text(ws, "42/public,")  # the greeting
        assert await expect_text(ws, "43/public,3") == '43/public,3[{"namespace":"/public","data":1}]'
        await ws.send_bytes(b"\x00\x01")
        assert (await ws.receive(timeout=5)).type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.CLOSING)


async def test_the_heartbeat_keeps_answering_clients_and_drops_silent_ones(lane):
    async with aiohttp.ClientSession() as session:
        alive, silent = await open_socket(session, lane), await open_socket(session, lane)
        for ws in (alive, silent):
            await ws.send_str("40/public,")
        for _ in range(3):  # three ping rounds, answered
            while (await expect_text(alive, "")) != "2":
                pass
            await alive.send_str("3")
        # The silent one was pinged and never answered: it has been dropped by now.
        while True:
            message = await silent.receive(timeout=5)
            if message.type != WSMsgType.TEXT:
                break
        assert lane.connection_count == 1
        await alive.close()


async def answers_until_closed(ws: aiohttp.ClientWebSocketResponse) -> list[str]:
    """Everything the server sent (pings aside) until it closed the socket."""
    answered = []
    while (message := await ws.receive(timeout=5)).type == WSMsgType.TEXT:
        if message.data != "2":
            answered.append(message.data)
    return answered


@pytest.mark.parametrize("spam", ['42/public,{n}["echo",{n}]', "40/public,"])
async def test_a_client_asking_too_often_is_answered_only_within_its_budget(lane, spam):
    async with aiohttp.ClientSession() as session:
        ws = await open_socket(session, lane)
        await ws.send_str("40/public,")
        await expect_text(ws, "40/public,")
        await expect_text(ws, '42/public,["show"')
        for n in range(1, 201):
            await ws.send_str(spam.format(n=n))
        await ws.send_bytes(b"end")  # the lane closes on binary frames: a marker after the spam
        answered = await answers_until_closed(ws)
        # The burst (20, one already spent on joining) and what refilled meanwhile; far from 200.
        replies = len(answered) if spam.startswith("42") else len(answered) // 2
        assert 19 <= replies < 60, len(answered)


async def test_sockets_from_one_address_are_capped_and_places_come_back(lane):
    async with aiohttp.ClientSession() as session:
        held = [await open_socket(session, lane) for _ in range(3)]
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(lane.url)
        assert refused.value.status == 503
        # A binary frame makes the server drop that socket; its place is free by the time
        # the client sees the connection end.
        leaving = held.pop()
        await leaving.send_bytes(b"bye")
        assert (await leaving.receive(timeout=5)).type in (WSMsgType.CLOSE, WSMsgType.CLOSED, WSMsgType.ERROR)
        assert lane.limits.count == 2
        held.append(await open_socket(session, lane))
        for ws in held:
            await ws.close()
