"""socket.io and HTTP against a real server on loopback, with python-socketio clients."""

from __future__ import annotations

import aiohttp
import pytest
import socketio

from .conftest import PASSWORD, TOKEN
from .sockets import Recorder


async def producer_cookie(url: str) -> str:
    async with aiohttp.ClientSession() as session:
        response = await session.post(
            f"{url}/producer/login", data={"password": PASSWORD}, allow_redirects=False
        )
        assert response.status == 303
        cookie = response.cookies["eventrunner_producer"]
        assert cookie["httponly"] and cookie["samesite"] == "Strict"
        return f"eventrunner_producer={cookie.value}"


# Viewers can use either endpoint: python-socketio, or the live lane built for the crowd.
VIEWER_PATHS = ["socket.io", "live"]


async def get_show(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/api/show") as response:
        assert response.status == 200
        return await response.json()


async def post_command(url: str, body, headers=None) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {TOKEN}", **(headers or {})}
    async with aiohttp.ClientSession() as session:
        kwargs = {"data": body} if isinstance(body, str | bytes) else {"json": body}
        async with session.post(f"{url}/api/show/commands", headers=headers, **kwargs) as response:
            return response.status, await response.json()


@pytest.mark.parametrize("path", VIEWER_PATHS)
async def test_every_namespace_gets_a_snapshot_on_connect(running, path):
    public, producer = Recorder(), Recorder()
    await public.connect(running.url, ["/public", "/overlay"], socketio_path=path)
    await producer.connect(running.url, ["/producer"], headers={"Cookie": await producer_cookie(running.url)})
    try:
        for namespace, doc in [*public.docs.items(), *producer.docs.items()]:
            assert doc["version"] == running.version, namespace
            assert doc["program"]["segment"] == "livestream"
            assert doc["program"]["phase"] == "live"
        # Producer notes and note cues stay with the producers.
        assert "notes" in producer.docs["/producer"]["rundown"][0]
        assert "notes" not in public.docs["/public"]["rundown"][0]
        public_cues = {c["id"] for c in public.docs["/public"]["rundown"][0]["cues"]}
        assert "roll-testimony" not in public_cues and "welcome" in public_cues
        snapshot = await public.call("snapshot", None, "/public")
        assert snapshot["server_time"] == running.clock.now
        assert {k: v for k, v in snapshot.items() if k != "server_time"} == public.docs["/public"]
    finally:
        await public.close()
        await producer.close()


@pytest.mark.parametrize("path", VIEWER_PATHS)
async def test_a_producer_command_reaches_all_three_namespaces(running, path):
    viewers, producer = Recorder(), Recorder()
    await viewers.connect(running.url, ["/public", "/overlay"], socketio_path=path)
    await producer.connect(running.url, ["/producer"], auth={"token": TOKEN})
    before = running.version
    try:
        cue_before = viewers.docs["/public"]["program"]["cue"]
        ack = await producer.call("command", {"command": "next"}, "/producer")
        assert ack == {"ok": True, "version": before + 1}
        for recorder, namespace in [(viewers, "/public"), (viewers, "/overlay"), (producer, "/producer")]:
            doc = await recorder.wait_for(namespace, lambda d: d["version"] == before + 1)
            assert doc["program"]["cue"] != cue_before
        # The patched copy is exactly what a fresh snapshot says.
        fresh = await get_show(running.url)
        fresh.pop("server_time")
        assert viewers.docs["/public"] == fresh
        # Overlays hear of it before the public (producers first of all).
        assert viewers.patches["/overlay"][0]["version"] == before + 1
    finally:
        await viewers.close()
        await producer.close()


@pytest.mark.parametrize("path", VIEWER_PATHS)
@pytest.mark.parametrize("namespace", ["/public", "/overlay"])
async def test_viewers_cannot_issue_commands(running, namespace, path):
    viewer = Recorder()
    await viewer.connect(running.url, [namespace], socketio_path=path)
    before = running.version
    try:
        for command in ({"command": "next"}, {"command": "reset"}, "next", None):
            ack = await viewer.call("command", command, namespace)
            assert ack["ok"] is False and "producer" in ack["error"]
        assert running.version == before
        assert (await get_show(running.url))["version"] == before
    finally:
        await viewer.close()


async def test_the_producer_namespace_refuses_strangers(running):
    for kwargs in (
        {},
        {"auth": {"token": "wrong"}},
        {"headers": {"Cookie": "eventrunner_producer=forged.sig"}},
    ):
        client = socketio.AsyncClient(reconnection=False)
        refusals = []
        client.on("connect_error", refusals.append, namespace="/producer")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await client.connect(running.url, namespaces=["/producer"], transports=["websocket"], **kwargs)
        assert refusals == [{"message": "sign in at /producer first"}]
        await client.disconnect()


async def test_bad_socket_commands_get_reasons_and_change_nothing(running):
    producer = Recorder()
    await producer.connect(running.url, ["/producer"], auth={"token": TOKEN})
    before = running.version
    try:
        cases = {
            "dance": "unknown command 'dance'",
            "jump-nowhere": "no segment with id 'nowhere'",
            "extend-text": "minutes: Input should be a valid integer",
            "extra-field": "Extra inputs are not permitted",
            "not-an-object": "a command is a JSON object",
        }
        payloads = {
            "dance": {"command": "dance"},
            "jump-nowhere": {"command": "jump", "segment": "nowhere"},
            "extend-text": {"command": "extend", "minutes": "5"},
            "extra-field": {"command": "next", "force": True},
            "not-an-object": ["next"],
        }
        for name, expected in cases.items():
            ack = await producer.call("command", payloads[name], "/producer")
            assert ack["ok"] is False and expected in ack["error"], (name, ack)
        assert running.version == before
    finally:
        await producer.close()


async def test_http_commands_need_auth_and_explain_bad_input(running):
    url = running.url
    before = running.version
    async with aiohttp.ClientSession() as session:
        response = await session.post(f"{url}/api/show/commands", json={"command": "next"})
        assert response.status == 401 and "Bearer" in (await response.json())["error"]
        response = await session.post(
            f"{url}/api/show/commands", json={"command": "next"}, headers={"Authorization": "Bearer nope"}
        )
        assert response.status == 401
    assert await post_command(url, "{not json", {"Content-Type": "application/json"}) == (
        400,
        {
            "error": "the body is not JSON: Expecting property name enclosed in double quotes: "
            "line 1 column 2 (char 1)"
        },
    )
    status, body = await post_command(
        url, "command=next", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert (status, body["error"]) == (415, "send the command as application/json")
    status, body = await post_command(url, {"command": "take", "cue": "roll-testimony"})
    assert (status, body["error"]) == (400, "cue 'roll-testimony' is not a graphic")
    status, body = await post_command(url, {"command": "shorten", "minutes": -3})
    assert status == 400 and body["error"].startswith("shorten: minutes:")
    assert running.version == before

    status, body = await post_command(url, {"command": "hold"})
    assert (status, body) == (200, {"ok": True, "version": before + 1})
    status, body = await post_command(url, {"command": "hold"})
    assert (status, body["error"]) == (400, "the show is already on hold")


async def test_the_producer_view_over_http_needs_credentials(running):
    async with aiohttp.ClientSession() as session:
        response = await session.get(f"{running.url}/api/show?audience=producer")
        assert response.status == 401
        response = await session.get(
            f"{running.url}/api/show?audience=producer", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.status == 200 and "notes" in (await response.json())["rundown"][0]


@pytest.mark.parametrize("path", VIEWER_PATHS)
async def test_clock_sync_echoes_and_tells_server_time(running, path):
    viewer = Recorder()
    await viewer.connect(running.url, ["/public"], socketio_path=path)
    try:
        assert await viewer.call("sync", {"t": 123.5}, "/public") == {
            "t": 123.5,
            "server_time": running.clock.now,
        }
        assert await viewer.call("sync", "garbage", "/public") == {"server_time": running.clock.now}
    finally:
        await viewer.close()


async def test_health_reports_only_what_the_public_may_know(running):
    async with aiohttp.ClientSession() as session, session.get(f"{running.url}/healthz") as response:
        body = await response.json()
    assert body["ok"] and body["version"] == running.version and body["segment"] == "livestream"
    # When the autopilot acts next would reveal when producer-only note cues fire.
    assert "next_transition" not in body
    public = await get_show(running.url)
    assert {body["phase"], body["segment"]} == {public["program"]["phase"], public["program"]["segment"]}


async def test_login_rejects_a_wrong_password_and_is_rate_limited(running):
    async with aiohttp.ClientSession() as session:
        statuses = []
        for _ in range(7):
            response = await session.post(
                f"{running.url}/producer/login", data={"password": "guess"}, allow_redirects=False
            )
            statuses.append(response.status)
        assert "eventrunner_producer" not in response.cookies
    assert statuses[:5] == [401] * 5 and statuses[-1] == 429


async def test_the_public_api_is_rate_limited_per_client(running):
    async with aiohttp.ClientSession() as session:
        statuses = [(await session.get(f"{running.url}/api/show")).status for _ in range(62)]
        limited = await session.get(f"{running.url}/api/show")
        assert limited.status == 429 and int(limited.headers["Retry-After"]) >= 1
        # Sockets and static files are never limited per address (carrier NAT, reconnect storms).
        assert (await session.get(f"{running.url}/static/js/showclient.js")).status == 200
    assert statuses[:60] == [200] * 60 and statuses[-1] == 429


async def test_a_command_that_cannot_be_saved_is_refused_and_changes_nothing(running, monkeypatch):
    async def full_disk(record, expected_version, fence=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(running.server.dispatcher.store, "save", full_disk)
    before = running.version
    status, body = await post_command(running.url, {"command": "next"})
    assert status == 503 and body["error"].startswith("could not save the show, nothing changed:")
    producer = Recorder()
    await producer.connect(running.url, ["/producer"], auth={"token": TOKEN})
    try:
        ack = await producer.call("command", {"command": "hold"}, "/producer")
        assert ack["ok"] is False and "No space left" in ack["error"]
    finally:
        await producer.close()
    assert running.version == before and (await get_show(running.url))["version"] == before


async def test_sessions_survive_other_cookies_and_odd_bytes(running):
    cookie = await producer_cookie(running.url)
    auth = running.server.realtime.sio.namespace_handlers["/producer"].auth
    # Another app on the host set cookies that http.cookies cannot parse.
    assert (
        await auth.check_socket({"HTTP_COOKIE": f'theme="a b [c]"; {cookie}; x=y z'}, None)
    ).role == "producer"
    assert not (await auth.check_socket({"HTTP_COOKIE": 'theme="a b [c]"; x=y z'}, None)).signed_in
    async with aiohttp.ClientSession() as session:
        for header in ({"Authorization": "Bearer \udcff\udcfe"}, {"Cookie": "eventrunner_producer=\udcff"}):
            encoded = {k: v.encode("utf-8", "surrogateescape").decode("latin-1") for k, v in header.items()}
            response = await session.get(f"{running.url}/api/show?audience=producer", headers=encoded)
            assert response.status == 401


async def test_a_note_cue_firing_changes_nothing_the_public_sees(start_server):
    from .builders import at

    running = await start_server(now=at("2022-03-03 12:14"))  # cue covid-cases (12:10) is current
    viewer = Recorder()
    await viewer.connect(running.url, ["/public"], socketio_path="live")
    try:
        public_before = viewer.docs["/public"]
        assert public_before["program"]["cue"] == "covid-cases"
        assert "next_transition" not in public_before["program"]
        running.clock.now = at("2022-03-03 12:15")  # the producer-only note 'roll-testimony'
        status, _ = await post_command(running.url, {"command": "hold"})  # any command: advances first
        assert status == 200
        producer_view = running.server.dispatcher.views["producer"]
        assert producer_view["program"]["cue"] == "roll-testimony"
        doc = await viewer.wait_for("/public", lambda d: d["program"]["held"])
        assert doc["program"]["cue"] == "covid-cases"
        assert all("roll-testimony" not in str(p["patch"]) for p in viewer.patches["/public"])
    finally:
        await viewer.close()


async def test_sign_in_and_out_refuse_other_sites_and_producer_answers_are_not_cached(running):
    async with aiohttp.ClientSession() as session:
        for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}):
            response = await session.post(
                f"{running.url}/producer/logout", headers=headers, allow_redirects=False
            )
            assert response.status == 403
            response = await session.post(
                f"{running.url}/producer/login",
                data={"password": PASSWORD},
                headers=headers,
                allow_redirects=False,
            )
            assert response.status == 403 and "eventrunner_producer" not in response.cookies
        response = await session.post(
            f"{running.url}/producer/login",
            data={"password": PASSWORD},
            headers={"Origin": running.url, "Sec-Fetch-Site": "same-origin"},
            allow_redirects=False,
        )
        assert response.status == 303
        response = await session.get(
            f"{running.url}/api/show?audience=producer", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        assert response.headers["Cache-Control"] == "no-store"


async def test_a_correct_password_spends_no_sign_in_budget(running):
    async with aiohttp.ClientSession() as session:
        for _ in range(12):
            response = await session.post(
                f"{running.url}/producer/login", data={"password": PASSWORD}, allow_redirects=False
            )
            assert response.status == 303


async def test_behind_a_proxy_limits_key_on_the_forwarded_client(start_server):
    running = await start_server(behind_proxy=True)
    async with aiohttp.ClientSession() as session:

        async def status(client: str) -> int:
            headers = {"X-Forwarded-For": f"203.0.113.9, {client}", "X-Forwarded-Proto": "https"}
            return (await session.get(f"{running.url}/api/show", headers=headers)).status

        assert [await status("198.51.100.1") for _ in range(61)][-1] == 429
        assert await status("198.51.100.2") == 200  # another phone behind the same proxy
        response = await session.post(
            f"{running.url}/producer/login",
            data={"password": PASSWORD},
            headers={"X-Forwarded-Proto": "https"},
            allow_redirects=False,
        )
        assert response.cookies["eventrunner_producer"]["secure"]
