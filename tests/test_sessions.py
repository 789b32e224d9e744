"""Producer sessions end on sign-out, survive restarts, and every way in shares one
budget of failed sign-ins: the form, the HTTP API and socket handshakes."""

from __future__ import annotations

import asyncio
import json
import logging
import stat
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
import pytest
import socketio

from eventrunner.access.auth import ProducerAuth
from eventrunner.access.ratelimit import SignInBudget
from eventrunner.access.sessions import FILENAME, SessionStore

from .conftest import PASSWORD, TOKEN, Running

REFUSED = {"message": "sign in at /producer first"}
AUTH_LOGGER = "eventrunner.access.auth"


def auth_of(running: Running) -> ProducerAuth:
    return running.server.realtime.sio.namespace_handlers["/producer"].auth


def freeze_budget(running: Running) -> None:
    """The default budget on a clock that stands still: nothing refills mid-test."""
    auth_of(running).budget = SignInBudget(clock=lambda: 1000.0)


@asynccontextmanager
async def http_from(address: str = "127.0.0.1") -> AsyncIterator[aiohttp.ClientSession]:
    """A client whose requests come from `address` (any of 127/8 reaches the server)."""
    connector = aiohttp.TCPConnector(local_addr=(address, 0))
    async with aiohttp.ClientSession(connector=connector) as session:
        yield session


async def sign_in(url: str, address: str = "127.0.0.1", password: str = PASSWORD) -> tuple[int, str]:
    """(status, the Cookie header to send back, or '')."""
    async with http_from(address) as http:
        response = await http.post(
            f"{url}/producer/login", data={"password": password}, allow_redirects=False
        )
        cookie = response.cookies.get("eventrunner_producer")
        return response.status, f"eventrunner_producer={cookie.value}" if cookie else ""


async def sign_out(url: str, cookie: str) -> aiohttp.ClientResponse:
    async with http_from() as http:
        return await http.post(f"{url}/producer/logout", headers={"Cookie": cookie}, allow_redirects=False)


async def command_status(
    url: str, headers: dict[str, str], address: str = "127.0.0.1", command: str = "hold"
) -> int:
    async with http_from(address) as http:
        response = await http.post(f"{url}/api/show/commands", json={"command": command}, headers=headers)
        return response.status


async def console_opens(url: str, cookie: str) -> bool:
    async with http_from() as http, http.get(f"{url}/producer", headers={"Cookie": cookie}) as response:
        html = await response.text()
    assert response.status == 200
    return 'action="/producer/login"' not in html and "/static/js/producer.js" in html


@asynccontextmanager
async def producer_socket(
    url: str, address: str = "127.0.0.1", **kwargs: object
) -> AsyncIterator[tuple[socketio.AsyncClient, asyncio.Event]]:
    """A connected /producer client and an event set when the server disconnects it."""
    async with http_from(address) as http:
        client = socketio.AsyncClient(reconnection=False, http_session=http)
        gone = asyncio.Event()
        client.on("disconnect", lambda *_: gone.set(), namespace="/producer")
        await client.connect(url, namespaces=["/producer"], transports=["websocket"], **kwargs)
        try:
            yield client, gone
        finally:
            await client.disconnect()


async def socket_refusal(url: str, address: str = "127.0.0.1", **kwargs: object) -> dict | None:
    """The connect_error a /producer handshake gets, or None if it is let in."""
    async with http_from(address) as http:
        client = socketio.AsyncClient(reconnection=False, http_session=http)
        refusals: list[dict] = []
        client.on("connect_error", refusals.append, namespace="/producer")
        try:
            await client.connect(url, namespaces=["/producer"], transports=["websocket"], **kwargs)
        except socketio.exceptions.ConnectionError:
            assert len(refusals) == 1
            return refusals[0]
        finally:
            await client.disconnect()
    return None


class RawSocket:
    """One websocket speaking socket.io packets by hand, as the attacker did: a namespace
    join (`40/producer,{auth}`) again and again on the same connection."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws

    @classmethod
    @asynccontextmanager
    async def open(cls, url: str, address: str = "127.0.0.1") -> AsyncIterator[RawSocket]:
        async with (
            http_from(address) as http,
            http.ws_connect(f"{url}/socket.io/?EIO=4&transport=websocket") as ws,
        ):
            assert (await ws.receive_str(timeout=5)).startswith("0{")  # engine.io open
            yield cls(ws)

    async def join(self, auth: dict[str, str]) -> bool:
        """True if the server lets this socket into /producer."""
        await self.ws.send_str("40/producer," + json.dumps(auth))
        while True:
            packet = await self.ws.receive_str(timeout=5)
            if packet.startswith("40/producer,"):
                return True
            if packet.startswith("44/producer,"):
                assert json.loads(packet.removeprefix("44/producer,")) == REFUSED
                return False
            # Anything else (the snapshot sent while joining, a ping) is not the answer.


def refusal_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    records = [r for r in caplog.records if r.name == AUTH_LOGGER]
    for record in records:
        assert record.levelno == logging.WARNING and record.exc_info is None and record.exc_text is None
        assert "\n" not in record.getMessage() and TOKEN not in record.getMessage()
    return [r.getMessage() for r in records]


# --- signing out ------------------------------------------------------------------------


async def test_signing_out_ends_the_session_and_closes_its_consoles(running):
    _, copied = await sign_in(running.url)
    _, other = await sign_in(running.url)  # another producer's browser
    assert await command_status(running.url, {"Cookie": copied}) == 200
    async with (
        producer_socket(running.url, headers={"Cookie": copied}) as (_console, closed),
        producer_socket(running.url, headers={"Cookie": other}) as (other_console, other_closed),
        producer_socket(running.url, auth={"token": TOKEN}) as (tool, tool_closed),
    ):
        response = await sign_out(running.url, copied)
        assert response.status == 303
        assert response.cookies["eventrunner_producer"].value == ""  # the browser forgets it too
        async with asyncio.timeout(5):
            await closed.wait()
        # Only that session's sockets close: other producers and tools keep the show.
        assert not other_closed.is_set() and not tool_closed.is_set()
        ack = await other_console.call("command", {"command": "resume"}, namespace="/producer", timeout=5)
        assert ack["ok"] is True
        assert await tool.call("sync", {"t": 1}, namespace="/producer", timeout=5) == {
            "t": 1,
            "server_time": running.clock.now,
        }
    # The copied cookie is worth nothing now, on every way in.
    assert await command_status(running.url, {"Cookie": copied}) == 401
    assert not await console_opens(running.url, copied)
    assert await socket_refusal(running.url, headers={"Cookie": copied}) == REFUSED
    assert await console_opens(running.url, other)


async def test_a_restart_keeps_sign_outs_and_sign_ins(start_server, tmp_path):
    first = await start_server()
    _, signed_out = await sign_in(first.url)
    _, kept = await sign_in(first.url)
    assert (await sign_out(first.url, signed_out)).status == 303
    await first.http.close()

    again = await start_server()  # the same data dir
    assert await command_status(again.url, {"Cookie": kept}) == 200, "build_server: ProducerAuth(data_dir=)"
    assert await socket_refusal(again.url, headers={"Cookie": kept}) is None
    assert await console_opens(again.url, kept)
    assert await command_status(again.url, {"Cookie": signed_out}) == 401
    assert await socket_refusal(again.url, headers={"Cookie": signed_out}) == REFUSED

    kept_file = tmp_path / "data" / FILENAME
    assert stat.S_IMODE(kept_file.stat().st_mode) == 0o600
    assert kept.split("=", 1)[1].split(".")[0] not in kept_file.read_text()  # only hashes are kept


def test_live_sessions_are_bounded_oldest_out_and_kept_private(tmp_path):
    async def scenario() -> None:
        store = SessionStore.in_data_dir(tmp_path, max_age_s=3600)
        store.max_live = 3
        started = [await store.start() for _ in range(5)]
        assert [await store.is_live(s) for s in started] == [False, False, True, True, True]
        reloaded = SessionStore.in_data_dir(tmp_path, max_age_s=3600)
        assert [await reloaded.is_live(s) for s in started] == [False, False, True, True, True]
        assert await reloaded.end(started[3]) and not await reloaded.end(started[3])
        assert not await SessionStore.in_data_dir(tmp_path, max_age_s=3600).is_live(started[3])
        assert stat.S_IMODE((tmp_path / FILENAME).stat().st_mode) == 0o600
        # An unreadable file signs everyone out rather than letting anyone in.
        (tmp_path / FILENAME).write_text("{not json")
        assert len(SessionStore.in_data_dir(tmp_path, max_age_s=3600)) == 0

    asyncio.run(scenario())


# --- the budget of failed sign-ins ------------------------------------------------------


async def test_guessing_tokens_on_one_websocket_is_stopped_and_logged(running, caplog):
    caplog.set_level(logging.WARNING, logger=AUTH_LOGGER)
    freeze_budget(running)
    async with RawSocket.open(running.url) as attacker:
        answers = [await attacker.join({"token": f"guess-{n}"}) for n in range(8)]
        assert answers == [False] * 8
        # The budget is spent: the right token from this address is refused too, else
        # one right guess among many would get through.
        assert await attacker.join({"token": TOKEN}) is False
    lines = refusal_lines(caplog)
    assert len(lines) == 9  # one line for every refusal
    assert all(line.startswith("producer sign-in: refused socket from 127.0.0.1: ") for line in lines)
    assert [line.rsplit(": ", 1)[1] for line in lines] == ["wrong API token"] * 5 + [
        "too many failed sign-ins from this address"
    ] * 4

    # Another address has its own budget; the server-wide one is not spent yet.
    assert await socket_refusal(running.url, "127.0.0.2", auth={"token": TOKEN}) is None
    async with RawSocket.open(running.url, "127.0.0.2") as colleague:
        assert await colleague.join({"token": TOKEN}) is True

    # A flood of refusals writes a few lines a minute, not one each.
    async with RawSocket.open(running.url) as attacker:
        for n in range(20):
            assert await attacker.join({"token": f"more-{n}"}) is False
    assert len(refusal_lines(caplog)) == 10


async def test_the_form_the_api_and_sockets_share_one_budget(running):
    freeze_budget(running)
    _, cookie = await sign_in(running.url)
    for _ in range(5):
        assert await command_status(running.url, {"Authorization": "Bearer nope"}) == 401
    # Spent by the API: the form, sockets and even a live session are refused here...
    assert await sign_in(running.url) == (429, "")
    assert await socket_refusal(running.url, auth={"token": TOKEN}) == REFUSED
    assert await socket_refusal(running.url, headers={"Cookie": cookie}) == REFUSED
    # (the API says so with 429 and Retry-After rather than a plain 401)
    assert await command_status(running.url, {"Authorization": f"Bearer {TOKEN}"}) == 429
    # ...and from anywhere else all is well.
    assert (await sign_in(running.url, "127.0.0.2"))[0] == 303
    assert await command_status(running.url, {"Authorization": f"Bearer {TOKEN}"}, "127.0.0.2") == 200
    assert await socket_refusal(running.url, "127.0.0.2", headers={"Cookie": cookie}) is None


async def test_a_correct_token_or_session_spends_nothing(running):
    freeze_budget(running)
    _, cookie = await sign_in(running.url)
    _, signed_out = await sign_in(running.url)
    assert (await sign_out(running.url, signed_out)).status == 303
    for _ in range(12):
        assert await socket_refusal(running.url, auth={"token": TOKEN}) is None
    # A signed-out or forged cookie is refused but is not a guess (a cookie is signed):
    # a console left open after a sign-out must not lock its producers out.
    for stale in [signed_out, "eventrunner_producer=x.y.z"] * 6:
        assert await socket_refusal(running.url, headers={"Cookie": stale}) == REFUSED
    assert await socket_refusal(running.url, auth={"token": TOKEN}) is None
    assert await command_status(running.url, {"Cookie": cookie}) == 200


async def test_many_addresses_cannot_share_out_the_guessing(running):
    freeze_budget(running)
    _, cookie = await sign_in(running.url)
    statuses = [
        (await sign_in(running.url, f"127.0.0.{host}", password="guess"))[0]
        for host in range(10, 17)
        for _ in range(5)
    ]
    # 30 wrong passwords in all, from any number of addresses, then no more tries.
    assert statuses.count(401) == 30 and statuses[-5:] == [429] * 5
    fresh = "127.0.0.99"
    assert await sign_in(running.url, fresh) == (429, "")
    # The right token still runs the show (tools must keep working through an attack)...
    assert await command_status(running.url, {"Authorization": f"Bearer {TOKEN}"}, fresh, "clear") == 200
    # ...while a wrong one from anywhere waits.
    assert await command_status(running.url, {"Authorization": "Bearer guess"}, fresh) == 429
    assert await socket_refusal(running.url, fresh, auth={"token": TOKEN}) is None
    # A signed-in producer is not a guess: the show goes on through the attack.
    assert await command_status(running.url, {"Cookie": cookie}, fresh) == 200
    assert await socket_refusal(running.url, fresh, headers={"Cookie": cookie}) is None


async def test_behind_a_proxy_sockets_spend_the_forwarded_clients_budget(start_server):
    running = await start_server(behind_proxy=True)
    freeze_budget(running)

    def via_proxy(client: str) -> dict[str, str]:
        return {"X-Forwarded-For": f"203.0.113.9, {client}", "X-Forwarded-Proto": "https"}

    for _ in range(5):
        refusal = await socket_refusal(
            running.url, auth={"token": "guess"}, headers=via_proxy("198.51.100.1")
        )
        assert refusal == REFUSED
    assert (
        await socket_refusal(running.url, auth={"token": TOKEN}, headers=via_proxy("198.51.100.1")) == REFUSED
    )
    # Everyone comes through the proxy's one address; only the guesser is stopped.
    assert await socket_refusal(running.url, auth={"token": TOKEN}, headers=via_proxy("198.51.100.2")) is None
