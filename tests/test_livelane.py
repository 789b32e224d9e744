"""The live lane's own edges: what it refuses, its heartbeat, and hostile input."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
from collections.abc import Callable

import aiohttp
import orjson
import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer
from yarl import URL

from eventrunner.access.connections import ConnectionLimits
from eventrunner.live.lane import MAX_CLIENT_MESSAGE, LiveLane, event_message
from eventrunner.live.wsframe import FrameError, read_frame
from eventrunner.web.listener import CappedSite


async def expect_text(ws: aiohttp.ClientWebSocketResponse, prefix: str) -> str:
    """The next text message, skipping Engine.IO pings unless they are what is expected."""
    message = await ws.receive(timeout=5)
    while prefix not in ("", "2") and message.type == WSMsgType.TEXT and message.data == "2":
        message = await ws.receive(timeout=5)
    assert message.type == WSMsgType.TEXT, message
    assert message.data.startswith(prefix), message.data
    return message.data


async def serve_lane(ping_interval_s: float, ping_timeout_s: float):
    lane = LiveLane(
        ("/public",),
        on_connect=lambda namespace, auth: (("show",), [event_message(namespace, "show", b'{"version":1}')]),
        handlers={"echo": lambda namespace, data: {"namespace": namespace, "data": data}},
        limits=ConnectionLimits(total=100, per_address=3),
        ping_interval_s=ping_interval_s,
        ping_timeout_s=ping_timeout_s,
    )
    app = web.Application()
    lane.attach(app)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    lane.url = str(server.make_url("/live/?EIO=4&transport=websocket"))
    lane.server = server
    return lane


@pytest.fixture
async def lane():
    lane = await serve_lane(ping_interval_s=0.2, ping_timeout_s=0.3)
    yield lane
    await lane.server.close()


@pytest.fixture
async def calm_lane():
    """Pings far apart: a raw client need not answer them."""
    lane = await serve_lane(ping_interval_s=25, ping_timeout_s=20)
    yield lane
    await lane.server.close()


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


# --- the lane's own websocket framing, at the byte level -------------------------------

UPGRADE = (
    "GET /live/?EIO=4&transport=websocket HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
TEXT, CONTINUATION, CLOSE, PING, PONG = 0x1, 0x0, 0x8, 0x9, 0xA


def client_frame(payload: bytes, opcode: int = TEXT, fin: bool = True, masked: bool = True) -> bytes:
    """A frame as a client sends it: masked, as RFC 6455 asks (unless told otherwise)."""
    size, mask_bit = len(payload), 0x80 if masked else 0
    header = bytes([(0x80 if fin else 0) | opcode])
    header += bytes([mask_bit | size]) if size < 126 else bytes([mask_bit | 126]) + size.to_bytes(2, "big")
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + bytes(byte ^ mask[i % 4] for i, byte in enumerate(payload))


async def server_frame(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    """The next frame from the server: (FIN and opcode, payload)."""
    first, second = await asyncio.wait_for(reader.readexactly(2), 5)
    size = second & 0x7F
    if size == 126:
        size = int.from_bytes(await reader.readexactly(2), "big")
    elif size == 127:
        size = int.from_bytes(await reader.readexactly(8), "big")
    return first, await asyncio.wait_for(reader.readexactly(size), 5)


async def raw_socket(
    lane: LiveLane, behind: bytes = b""
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A websocket opened by hand; `behind`: frames sent right behind the upgrade request."""
    reader, writer = await asyncio.open_connection("127.0.0.1", URL(lane.url).port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(UPGRADE.format(key=key).encode() + behind)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    accept = base64.b64encode(hashlib.sha1(key.encode() + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
    assert head.startswith(b"HTTP/1.1 101 ") and b"\r\nSec-WebSocket-Accept: " + accept + b"\r\n" in head
    first, opened = await server_frame(reader)
    assert first == 0x81 and opened.startswith(b'0{"sid":')
    return reader, writer


async def until(condition: Callable[[], bool]) -> None:
    """A close reaches the lane a turn of the loop or more after the client's."""
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("not within 5 s")


async def test_frames_in_pieces_unmasked_or_right_behind_the_upgrade_are_read(calm_lane):
    reader, writer = await raw_socket(calm_lane, behind=client_frame(b"40/public,"))
    assert (await server_frame(reader))[1].startswith(b'40/public,{"sid":')
    assert (await server_frame(reader))[1] == b'42/public,["show",{"version":1}]'
    # One message in three frames, with a ping between them: the ping is answered first.
    writer.write(
        client_frame(b"42/pub", fin=False)
        + client_frame(b"hi", opcode=PING)
        + client_frame(b'lic,5["echo",', opcode=CONTINUATION, fin=False)
        + client_frame(b'{"n":1}]', opcode=CONTINUATION)
    )
    assert await server_frame(reader) == (0x80 | PONG, b"hi")
    assert await server_frame(reader) == (0x81, b'43/public,5[{"namespace":"/public","data":{"n":1}}]')
    # An unmasked frame, arriving a byte at a time.
    for byte in client_frame(b'42/public,6["echo",2]', masked=False):
        writer.write(bytes([byte]))
        await writer.drain()
        await asyncio.sleep(0)
    assert await server_frame(reader) == (0x81, b'43/public,6[{"namespace":"/public","data":2}]')
    # The largest message taken: exactly MAX_CLIENT_MESSAGE bytes.
    prefix, suffix = b'42/public,7["echo","', b'"]'
    padding = b"x" * (MAX_CLIENT_MESSAGE - len(prefix) - len(suffix))
    writer.write(client_frame(prefix + padding + suffix))
    first, answer = await server_frame(reader)
    assert first == 0x81 and answer.startswith(b'43/public,7[{"namespace":"/public","data":"xxx')
    writer.write(client_frame(b"", opcode=PONG))  # unasked: ignored
    writer.write(client_frame((1001).to_bytes(2, "big"), opcode=CLOSE))  # "going away"
    assert await server_frame(reader) == (0x80 | CLOSE, (1000).to_bytes(2, "big"))  # answered in kind
    assert await asyncio.wait_for(reader.read(), 5) == b""  # and closed
    writer.close()
    await until(lambda: calm_lane.connection_count == 0 and calm_lane.limits.count == 0)


TOO_BIG = MAX_CLIENT_MESSAGE + 1


@pytest.mark.parametrize(
    ("frames", "code"),
    [
        (client_frame(b"x" * TOO_BIG), 1009),
        (client_frame(b"x" * 10_000, fin=False) + client_frame(b"x" * 7_000, opcode=CONTINUATION), 1009),
        (client_frame(b"4\xff\xfe"), 1007),
        (bytes([0xC1]) + client_frame(b"4")[1:], 1002),  # a reserved bit set
        (client_frame(b"4", opcode=0x3), 1002),  # an opcode RFC 6455 does not define
        (client_frame(b"4", opcode=CONTINUATION), 1002),  # the rest of no message
        (client_frame(b"4", fin=False) + client_frame(b"4"), 1002),  # a message inside another
        (client_frame(b"x" * 126, opcode=PING), 1002),  # control frames carry at most 125 bytes
        (client_frame(b"x", opcode=PING, fin=False), 1002),  # and are never fragmented
    ],
    ids=[
        "oversized",
        "oversized-in-pieces",
        "not-utf8",
        "reserved-bit",
        "unknown-opcode",
        "stray-continuation",
        "nested-message",
        "long-ping",
        "fragmented-ping",
    ],
)
async def test_broken_framing_is_closed_with_its_code(calm_lane, frames, code):
    reader, writer = await raw_socket(calm_lane)
    writer.write(frames)
    assert await server_frame(reader) == (0x80 | CLOSE, code.to_bytes(2, "big"))
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    await until(lambda: calm_lane.connection_count == 0 and calm_lane.limits.count == 0)


async def test_a_client_dropped_while_the_lane_takes_its_socket_gives_its_place_back(calm_lane):
    reader, writer = await raw_socket(calm_lane, behind=client_frame(b"\x00", opcode=0x2))
    assert await asyncio.wait_for(reader.read(), 5) == b""  # a binary frame: dropped at once
    writer.close()
    await until(lambda: calm_lane.connection_count == 0 and calm_lane.limits.count == 0)


async def test_aiohttp_keeps_nothing_for_a_lane_socket(calm_lane):
    tasks = len(asyncio.all_tasks())
    held = [await raw_socket(calm_lane) for _ in range(3)]
    # No request handler runs for them, and aiohttp's server no longer counts them.
    await until(lambda: len(asyncio.all_tasks()) == tasks and not calm_lane.server.runner.server.connections)
    assert calm_lane.connection_count == 3
    for _, writer in held:
        writer.close()
    await until(lambda: calm_lane.connection_count == 0 and calm_lane.limits.count == 0)


async def test_the_listener_still_hears_when_a_lane_socket_closes():
    lane = LiveLane(
        ("/public",), on_connect=lambda *_: ((), []), handlers={}, limits=ConnectionLimits(total=10)
    )
    app = web.Application()
    lane.attach(app)
    runner = web.AppRunner(app)
    await runner.setup()
    accepted = ConnectionLimits(total=10)
    site = CappedSite(runner, "127.0.0.1", 0, accepted, backlog=16)
    await site.start()
    lane.url = f"http://127.0.0.1:{site.port}/live/?EIO=4&transport=websocket"
    try:
        _, writer = await raw_socket(lane)
        assert accepted.count == 1 and lane.limits.count == 1
        writer.close()
        await until(lambda: accepted.count == 0 and lane.limits.count == 0)
    finally:
        await runner.cleanup()


def test_a_frame_is_read_whole_or_not_at_all():
    mask = os.urandom(4)
    masked = bytes(byte ^ mask[i % 4] for i, byte in enumerate(b"hello"))
    # A 64-bit length for 5 bytes: wasteful, but a length all the same.
    frame = bytes([0x81, 0x80 | 127]) + (5).to_bytes(8, "big") + mask + masked
    for cut in range(len(frame)):
        assert read_frame(frame[:cut], 0, 100) is None
    assert read_frame(b"xx" + frame + b"\x81", 2, 100) == (TEXT, True, b"hello", 2 + len(frame))
    with pytest.raises(FrameError) as huge:  # refused from its header alone
        read_frame(bytes([0x81, 127]) + (2**63).to_bytes(8, "big"), 0, 100)
    assert huge.value.code == 1009
