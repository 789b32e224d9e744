"""Roles: the password decides who signs in (producer, graphics operator, viewer); the
graphics operator can take and clear but nothing else (403), the viewer can do nothing
but read; the API token stays a producer's; sessions keep their role across restarts and
processes; the console shows what the role may do."""

from __future__ import annotations

import os
import subprocess
import sys

import orjson
import pytest
from playwright.async_api import expect

from eventrunner.access.roles import SharedPassword
from eventrunner.access.sessions import FILENAME, SessionStore, parse_session_record, session_key
from eventrunner.control.commands import COMMAND_NAMES

from .browser import WAIT_MS, connected
from .builders import REPO
from .conftest import PASSWORD, TOKEN
from .process import ServerProcess
from .redisserver import RedisServer, redis_server  # noqa: F401  (a fixture)
from .test_cluster import cluster_day, server_on
from .test_console_safety_browser import safety_day
from .test_sessions import auth_of, console_opens, http_from, producer_socket, sign_in

GRAPHICS = "graphics operator's own passphrase"
VIEWER = "viewer's own passphrase"
BEARER = {"Authorization": f"Bearer {TOKEN}"}
GRAPHICS_ONLY = "the graphics operator may only take and clear graphics"
VIEWER_ONLY = "a viewer may only watch"
# A command of each name the producer's console sends (CNC's cue `welcome` is a lower third).
EVERY_COMMAND = {
    "next": {},
    "previous": {},
    "jump": {"segment": "livestream"},
    "hold": {},
    "resume": {},
    "extend": {"minutes": 1},
    "shorten": {"minutes": 1},
    "take": {"cue": "welcome"},
    "clear": {},
    "start_now": {},
    "reset": {},
    "undo": {},
}
assert set(EVERY_COMMAND) == set(COMMAND_NAMES)


@pytest.fixture
def role_passwords(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTRUNNER_GRAPHICS_PASSWORD", GRAPHICS)
    monkeypatch.setenv("EVENTRUNNER_VIEWER_PASSWORD", VIEWER)


async def request(
    url: str, method: str, path: str, cookie: str | None = None, body: object = None
) -> tuple[int, dict]:
    headers = {"Cookie": cookie} if cookie else BEARER
    async with (
        http_from() as http,
        http.request(method, url + path, headers=headers, json=body) as answer,
    ):
        text = await answer.read()
        return answer.status, orjson.loads(text) if answer.content_type == "application/json" else {}


async def command(url: str, cookie: str | None, name: str, **fields: object) -> tuple[int, dict]:
    return await request(url, "POST", "/api/show/commands", cookie, {"command": name, **fields})


async def signed_in_as(url: str, password: str) -> str:
    status, cookie = await sign_in(url, password=password)
    assert status == 303 and cookie, password
    return cookie


async def console_role(url: str, cookie: str) -> str | None:
    async with http_from() as http, http.get(f"{url}/producer", headers={"Cookie": cookie}) as answer:
        html = await answer.text()
    for role in ("producer", "graphics", "viewer"):
        if f'data-role="{role}"' in html:
            return role
    return None


# --- signing in -------------------------------------------------------------------------


async def test_each_role_signs_in_with_its_password_and_gets_a_session_of_that_role(
    role_passwords, start_server
):
    running = await start_server()
    auth = auth_of(running)
    for password, role in ((PASSWORD, "producer"), (GRAPHICS, "graphics"), (VIEWER, "viewer")):
        cookie = await signed_in_as(running.url, password)
        check = await auth.check_socket({"HTTP_COOKIE": cookie}, None)
        assert check.role == role and check.session is not None
        assert await auth.sessions.role(check.session) == role
        assert await console_role(running.url, cookie) == role
    assert (await sign_in(running.url, password="nobody's"))[0] == 401


async def test_an_unset_role_password_signs_nobody_in_and_unsetting_it_signs_that_role_out(
    monkeypatch, start_server, tmp_path
):
    running = await start_server()
    assert auth_of(running).roles == ("producer",)
    assert (await sign_in(running.url, password=GRAPHICS))[0] == 401
    assert (await sign_in(running.url, password=""))[0] == 401

    # Set, signed in, then unset at a restart: the graphics session counts no more.
    monkeypatch.setenv("EVENTRUNNER_GRAPHICS_PASSWORD", GRAPHICS)
    data = tmp_path / "roles"
    with_role = await start_server(data_dir=data)
    graphics = await signed_in_as(with_role.url, GRAPHICS)
    producer = await signed_in_as(with_role.url, PASSWORD)
    await with_role.http.close()
    monkeypatch.delenv("EVENTRUNNER_GRAPHICS_PASSWORD")
    without = await start_server(data_dir=data)
    assert not await console_opens(without.url, graphics)
    assert await console_opens(without.url, producer)


def test_two_roles_with_one_password_refuse_to_start(tmp_path):
    env = {
        **os.environ,
        "EVENTRUNNER_PRODUCER_PASSWORD": PASSWORD,
        "EVENTRUNNER_API_TOKEN": TOKEN,
        "EVENTRUNNER_VIEWER_PASSWORD": "shared by two",
        "EVENTRUNNER_GRAPHICS_PASSWORD": "shared by two",
    }
    argv = [
        sys.executable,
        "-m",
        "eventrunner.cli",
        "serve",
        "--demo",
        "--data-dir",
        str(tmp_path),
        "--port",
        "0",
    ]
    done = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert (
        "EVENTRUNNER_GRAPHICS_PASSWORD and EVENTRUNNER_VIEWER_PASSWORD are the same password" in done.stderr
    )
    assert "Traceback" not in done.stderr


async def test_a_role_password_equal_to_the_producers_is_refused(monkeypatch, start_server):
    monkeypatch.setenv("EVENTRUNNER_VIEWER_PASSWORD", PASSWORD)
    with pytest.raises(SharedPassword, match="EVENTRUNNER_PRODUCER_PASSWORD and EVENTRUNNER_VIEWER_PASSWORD"):
        await start_server()


# --- what each role may do --------------------------------------------------------------


async def test_the_graphics_operator_can_take_and_clear_but_not_next(role_passwords, running):
    url = running.url
    graphics = await signed_in_as(url, GRAPHICS)
    status, answer = await command(url, graphics, "take", cue="welcome")
    assert status == 200 and answer["ok"], answer
    assert "lower_third" in running.server.dispatcher.state.graphics
    assert (await command(url, graphics, "clear"))[0] == 200
    before = running.version
    for name in ("next", "hold", "extend", "undo"):
        status, answer = await command(url, graphics, name, **EVERY_COMMAND[name])
        assert status == 403, name
        assert answer["role"] == "graphics" and answer["error"].startswith(GRAPHICS_ONLY), answer
        assert f"{name} is a producer's command" in answer["error"]
    assert running.version == before

    # The socket says the same in the command's ack.
    async with producer_socket(url, headers={"Cookie": graphics}) as (console, _):
        ack = await console.call("command", {"command": "take", "cue": "welcome"}, namespace="/producer")
        assert ack["ok"] is True, ack
        ack = await console.call(
            "command", {"command": "clear", "slot": "lower_third"}, namespace="/producer"
        )
        assert ack["ok"] is True, ack
        for name in ("next", "hold", "extend", "undo"):
            ack = await console.call(
                "command", {"command": name, **EVERY_COMMAND[name]}, namespace="/producer"
            )
            assert ack["ok"] is False and ack["error"].startswith(GRAPHICS_ONLY), (name, ack)
    # Nothing it may not do: moderation and the post count are a producer's.
    for path, body in (
        ("/api/decisions", {"decision": "approve", "actions": ["x"]}),
        ("/api/checkins/air", {"delay_s": 5}),
        ("/api/posts/settings", {"goal": 5}),
        ("/api/posts/adjust", {"by": 1, "reason": "x"}),
    ):
        status, answer = await request(url, "POST", path, graphics, body)
        assert status == 403 and answer["error"].startswith(GRAPHICS_ONLY), (path, answer)


async def test_the_viewer_can_do_nothing_but_read(role_passwords, running):
    url = running.url
    viewer = await signed_in_as(url, VIEWER)
    before = running.version
    async with producer_socket(url, headers={"Cookie": viewer}) as (console, _):
        for name, fields in EVERY_COMMAND.items():
            status, answer = await command(url, viewer, name, **fields)
            assert status == 403 and answer["error"].startswith(VIEWER_ONLY), (name, answer)
            ack = await console.call("command", {"command": name, **fields}, namespace="/producer")
            assert ack == {"ok": False, "error": answer["error"], "role": "viewer"}, (name, ack)
        # Not a command at all: still refused as the viewer's, not parsed.
        assert (await command(url, viewer, "launch-the-rockets"))[0] == 403
    assert running.version == before

    # Reading: the producers' view of the show, the as-run log, what waits.
    for path in (
        "/api/show?audience=producer",
        "/api/asrun",
        "/api/asrun.csv",
        "/api/actions?status=pending",
    ):
        status, _ = await request(url, "GET", path, viewer)
        assert status == 200, path
    status, doc = await request(url, "GET", "/api/show?audience=producer", viewer)
    assert doc["version"] == before and doc["rundown"]
    # Changing: nothing.
    for path, body in (
        ("/api/decisions", {"decision": "approve", "actions": ["x"]}),
        ("/api/actions/x/approve", None),
        ("/api/checkins/x/hide", None),
        ("/api/checkins/air", {"delay_s": 5}),
        ("/api/posts/settings", {"goal": 5}),
        ("/api/posts/adjust", {"by": 1, "reason": "x"}),
    ):
        status, answer = await request(url, "POST", path, viewer, body)
        assert status == 403 and answer["role"] == "viewer", (path, status, answer)
        assert answer["error"].startswith(VIEWER_ONLY)


async def test_the_api_token_stays_a_producer(role_passwords, running):
    assert (await command(running.url, None, "next"))[0] == 200
    assert (await request(running.url, "POST", "/api/posts/settings", None, {"goal": 5}))[0] == 200
    async with producer_socket(running.url, auth={"token": TOKEN}) as (console, _):
        ack = await console.call("command", {"command": "hold"}, namespace="/producer")
        assert ack["ok"] is True, ack


async def test_signed_out_still_answers_401_not_403(role_passwords, running):
    status, answer = await command(running.url, "eventrunner_producer=forged", "take", cue="welcome")
    assert status == 401 and "role" not in answer


# --- keeping the role -------------------------------------------------------------------


def test_session_records_from_before_roles_are_a_producers(tmp_path):
    (tmp_path / FILENAME).write_text(orjson.dumps({"sessions": {"old": 1e12}}).decode())
    store = SessionStore(tmp_path / FILENAME, max_age_s=1e13)
    assert store._started == {"old": (1e12, "producer")}
    assert parse_session_record(b"1700000000.5") == (1700000000.5, "producer")  # Redis, before roles
    assert parse_session_record("1700000000.5 viewer") == (1700000000.5, "viewer")
    assert parse_session_record("1700000000.5 admin") is None  # no such role: not live
    assert parse_session_record({"at": 1}) is None


async def test_a_restart_keeps_each_sessions_role(role_passwords, start_server, tmp_path):
    data = tmp_path / "kept"
    first = await start_server(data_dir=data)
    cookies = {
        role: await signed_in_as(first.url, pw) for role, pw in (("graphics", GRAPHICS), ("viewer", VIEWER))
    }
    kept = orjson.loads((data / FILENAME).read_bytes())["sessions"]
    assert sorted(str(v).split(" ")[-1] for v in kept.values()) == ["graphics", "viewer"]
    await first.http.close()
    again = await start_server(data_dir=data)
    for role, cookie in cookies.items():
        assert await console_role(again.url, cookie) == role
    assert (await command(again.url, cookies["graphics"], "take", cue="welcome"))[0] == 200
    assert (await command(again.url, cookies["graphics"], "next"))[0] == 403
    key = session_key((await auth_of(again).check_socket({"HTTP_COOKIE": cookies["viewer"]}, None)).session)
    assert key in kept


@pytest.mark.slow
async def test_a_cluster_keeps_the_role_across_processes(monkeypatch, tmp_path, redis_server):  # noqa: F811
    monkeypatch.setenv("EVENTRUNNER_GRAPHICS_PASSWORD", GRAPHICS)
    monkeypatch.setenv("EVENTRUNNER_VIEWER_PASSWORD", VIEWER)
    schedule = cluster_day(tmp_path / "day.yaml")
    a = server_on(redis_server, schedule, tmp_path / "a").start()
    b = server_on(redis_server, schedule, tmp_path / "b").start()
    try:
        graphics = await signed_in_as(a.url, GRAPHICS)
        viewer = await signed_in_as(b.url, VIEWER)
        for server in (a, b):
            assert await console_role(server.url, graphics) == "graphics"
            assert await console_role(server.url, viewer) == "viewer"
            assert (await command(server.url, graphics, "clear"))[0] == 200
            assert (await command(server.url, graphics, "next"))[0] == 403
            assert (await command(server.url, viewer, "clear"))[0] == 403
            assert (await request(server.url, "GET", "/api/asrun", viewer))[0] == 200
        async with producer_socket(b.url, headers={"Cookie": graphics}) as (console, _):
            ack = await console.call("command", {"command": "next"}, namespace="/producer")
            assert ack["ok"] is False and ack["error"].startswith(GRAPHICS_ONLY)
    finally:
        a.kill()
        b.kill()


# --- the console ------------------------------------------------------------------------


@pytest.mark.browser
async def test_the_console_shows_what_each_role_may_do(browser, monkeypatch, tmp_path):
    monkeypatch.setenv("EVENTRUNNER_GRAPHICS_PASSWORD", GRAPHICS)
    monkeypatch.setenv("EVENTRUNNER_VIEWER_PASSWORD", VIEWER)
    server = ServerProcess([str(safety_day(tmp_path / "day.yaml"))], tmp_path / "data").start()
    try:
        for password, title in ((GRAPHICS, "Graphics operator"), (VIEWER, "Viewer")):
            page = await (await browser.new_context(viewport={"width": 1440, "height": 900})).new_page()
            await page.goto(f"{server.url}/producer")
            await page.fill("input[name=password]", password)
            await page.click("button[type=submit]")
            await connected(page)
            await expect(page.locator("[data-field=role]")).to_have_text(f"Signed in as: {title}")
            take = page.locator('[data-command="take"][data-cue="figure"]')
            await expect(take).to_have_count(1, timeout=WAIT_MS)
            nxt = page.locator('[data-command="next"]')
            await expect(nxt).to_be_disabled()
            await expect(nxt).to_have_attribute("aria-disabled", "true")
            assert title in (await nxt.get_attribute("title") or "")
            await expect(page.locator("[data-field=shift-rest]")).to_be_disabled()
            await expect(page.locator("[data-field=kill]")).to_be_disabled()
            await expect(page.locator("[data-field=delay]")).to_be_disabled()
            if password == GRAPHICS:
                await expect(take).to_be_enabled()
                await expect(page.locator('[data-command="clear"]:not([data-slot])')).to_be_enabled()
                await expect(page.locator('[data-command="jump"]').first).to_be_disabled()
                # Preview, then take: it goes on air.
                await page.click('[data-preview="figure"]')
                await page.click('[data-field="preview-take"]')
                await expect(page.locator('.slot[data-slot="card"]')).to_have_attribute(
                    "data-on-air", "true", timeout=WAIT_MS
                )
                # A shortcut for a command it may not run says why, and sends nothing.
                await page.click("[data-field=arm]")
                await page.keyboard.press("ArrowRight")
                await expect(page.locator("[data-field=status]")).to_contain_text(GRAPHICS_ONLY)
            else:
                buttons = page.locator("button[data-command]")
                count = await buttons.count()
                assert count > 10
                for i in range(count):
                    await expect(buttons.nth(i)).to_be_disabled()
                await expect(page.locator("[data-field=arm]")).to_be_disabled()
            await page.context.close()
    finally:
        server.kill()
