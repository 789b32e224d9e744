"""The pages and the HTTP layer against a real server on loopback: sign-in address, texts
with their times, <time> attributes, the overlay scale range, compression, static caching
and security headers."""

from __future__ import annotations

import asyncio
import gzip
import re
from datetime import datetime
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from eventrunner.web.middleware import compression, security_headers
from eventrunner.web.overlays import OVERLAYS, SCALE_MAX
from eventrunner.web.static import IMMUTABLE, StaticFiles

from .builders import REPO, at
from .conftest import PASSWORD, TOKEN

RAW = {"auto_decompress": False}  # see the bytes on the wire


async def fetch(
    url: str, headers: dict[str, str] | None = None, **kwargs
) -> tuple[aiohttp.ClientResponse, bytes]:
    """GET without decompressing; plain bytes unless `headers` ask for an encoding."""
    headers = {"Accept-Encoding": "identity", **(headers or {})}
    async with (
        aiohttp.ClientSession(**RAW) as session,
        session.get(url, headers=headers, **kwargs) as response,
    ):
        return response, await response.read()


async def producer_page(url: str) -> str:
    # unsafe: the jar keeps cookies from an IP-address host (the loopback test server).
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        login = await session.post(
            f"{url}/producer/login", data={"password": PASSWORD}, allow_redirects=False
        )
        assert login.status == 303
        response = await session.get(f"{url}/producer")
        assert response.status == 200
        return await response.text()


def cta_texts(doc: dict) -> dict[str, str]:
    return {c["id"]: c["text"] for s in doc["rundown"] for c in s["cues"] if c["kind"] == "cta"}


# --- 1. the sign-in address -------------------------------------------------------------


async def test_opening_the_sign_in_address_leads_to_the_sign_in_page(running):
    response, _ = await fetch(f"{running.url}/producer/login", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/producer")
    async with aiohttp.ClientSession() as session, session.get(f"{running.url}/producer/login") as page:
        html = await page.text()
    assert page.status == 200 and page.url.path == "/producer"
    assert '<form method="post" action="/producer/login"' in html and 'name="password"' in html


# --- 2. texts follow the plan the show runs ----------------------------------------------


async def test_demo_texts_announce_the_shifted_times(start_server):
    # A summer morning: the demo's day starts at 09:02 EDT, so the action hour is at 10:32.
    running = await start_server(demo=True, now=at("2024-07-01 09:00"))
    async with aiohttp.ClientSession() as session:
        doc = await (await session.get(f"{running.url}/api/show")).json()
        html = await (await session.get(f"{running.url}/")).text()
    assert (
        cta_texts(doc)["register-cta"]
        == "Next at 10:32 AM EDT: the National Digital Action Hour. Register now."
    )
    assert cta_texts(doc)["twitterstorm-cta"].startswith("At 11:32 AM EDT: tweet")
    assert "send as many tweets as you can starting at 11:32 AM EDT." in html
    assert "{start:" not in html and "{start:" not in orjson.dumps(doc).decode()


async def test_announced_times_follow_a_producer_shifting_the_day(running):
    url = running.url
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession(headers=headers) as session:
        before = await (await session.get(f"{url}/api/show?audience=producer")).json()
        command = {"command": "extend", "minutes": 10, "shift_rest": True}
        assert (await session.post(f"{url}/api/show/commands", json=command)).status == 200
        after = await (await session.get(f"{url}/api/show?audience=producer")).json()
        public = await (await session.get(f"{url}/api/show")).json()
    assert cta_texts(before)["register-cta"].startswith("Next at 1:00 PM EST:")
    assert cta_texts(after)["register-cta"].startswith("Next at 1:10 PM EST:")
    assert cta_texts(public)["twitterstorm-cta"].startswith("At 2:10 PM EST:")


# --- 3. <time datetime> -----------------------------------------------------------------


async def test_time_elements_carry_iso_8601_with_an_offset(running):
    _, body = await fetch(f"{running.url}/")
    stamps = re.findall(r'<time datetime="([^"]*)"', body.decode())
    assert "2022-03-03T11:30:00-05:00" in stamps and "2022-03-03T15:00:00-05:00" in stamps
    for stamp in stamps:
        if stamp != "2022-03-03":  # the event's date
            assert datetime.fromisoformat(stamp).utcoffset() is not None, stamp


# --- 4. one overlay scale range ------------------------------------------------------------


async def test_console_docs_and_overlay_script_agree_on_the_scale_range(running):
    script = (REPO / "static/js/overlay.js").read_text()
    docs = (REPO / "docs/OVERLAYS.md").read_text()
    console = await producer_page(running.url)
    in_script = re.search(r"scale > 0 && scale <= ([\d.]+)", script)
    in_docs = re.search(r"`scale` \| all \| a number, `0 < scale ≤ ([\d.]+)`", docs)
    in_console = re.findall(
        r'data-option="scale"><code>\?scale=</code> a number, 0 &lt; scale ≤ ([\d.]+)', console
    )
    assert in_script and in_docs and len(in_console) == len(OVERLAYS)
    assert {float(in_script[1]), float(in_docs[1]), *map(float, in_console)} == {SCALE_MAX}


# --- 5. compression and caching -------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/api/show", "/overlays/clock"])
async def test_pages_and_json_are_gzipped_when_the_client_accepts_it(running, path):
    plain, plain_body = await fetch(running.url + path, headers={"Accept-Encoding": "identity"})
    packed, packed_body = await fetch(running.url + path, headers={"Accept-Encoding": "br;q=1, gzip;q=0.5"})
    assert "Content-Encoding" not in plain.headers and "Accept-Encoding" in plain.headers["Vary"]
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed_body) < len(plain_body) / 2
    unpacked = gzip.decompress(packed_body)
    if path == "/api/show":
        assert orjson.loads(unpacked)["version"] == orjson.loads(plain_body)["version"]
    else:
        assert unpacked == plain_body
    refused, _ = await fetch(running.url + path, headers={"Accept-Encoding": "gzip;q=0, *"})
    assert "Content-Encoding" not in refused.headers


async def test_versioned_static_files_are_immutable_and_precompressed(running):
    _, page = await fetch(f"{running.url}/overlays/clock")
    urls = re.findall(r'src="(/static/[^"]+\?v=[0-9a-f]{10})"', page.decode())
    assert "/static/js/program.js" in {u.split("?")[0] for u in urls}
    for url in urls:
        response, body = await fetch(running.url + url, headers={"Accept-Encoding": "gzip"})
        assert response.status == 200 and response.headers["Cache-Control"] == IMMUTABLE, url
        kind = {"js": "text/javascript", "svg": "image/svg+xml"}[url.split("?")[0].rsplit(".", 1)[1]]
        assert response.headers["Content-Type"] == f"{kind}; charset=utf-8"
        assert response.headers["Content-Encoding"] == "gzip"
        on_disk = (REPO / url.removeprefix("/").split("?")[0]).read_bytes()
        assert gzip.decompress(body) == on_disk
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    css, _ = await fetch(f"{running.url}/static/css/site.css", headers={"Accept-Encoding": "gzip"})
    assert css.headers["Content-Encoding"] == "gzip" and css.headers["Content-Type"].startswith("text/css")


async def test_unversioned_or_stale_static_urls_revalidate(running):
    for query in ("", "?v=0123456789"):
        url = f"{running.url}/static/js/program.js{query}"
        first, body = await fetch(url, headers={"Accept-Encoding": "identity"})
        assert first.status == 200 and body == (REPO / "static/js/program.js").read_bytes()
        assert "immutable" not in first.headers["Cache-Control"]
        assert "must-revalidate" in first.headers["Cache-Control"]
        again, body = await fetch(url, headers={"If-None-Match": first.headers["ETag"]})
        assert (again.status, body) == (304, b"")
        since, _ = await fetch(url, headers={"If-Modified-Since": first.headers["Last-Modified"]})
        assert since.status == 304
    changed, _ = await fetch(f"{running.url}/static/js/program.js", headers={"If-None-Match": 'W/"other"'})
    assert changed.status == 200


@pytest.mark.parametrize(
    "path",
    ["/static/../eventrunner/app.py", "/static/%2e%2e/pyproject.toml", "/static/js", "/static/nope.js"],
)
async def test_only_files_under_the_static_folder_are_served(running, path):
    async with aiohttp.ClientSession() as session:
        response = await session.get(running.url + path, allow_redirects=False)
        assert response.status == 404, path


async def test_static_files_are_read_once_at_start(tmp_path: Path):
    (tmp_path / "a.js").write_text("let a = 1;\n")
    (tmp_path / ".hidden").write_text("secret")
    files = StaticFiles(tmp_path)
    (tmp_path / "b.js").write_text("let b = 2;\n")
    assert set(files.assets) == {"a.js"}


async def test_realtime_paths_are_never_compressed():
    big = {"data": "x" * 20_000}

    async def answer(request: web.Request) -> web.Response:
        return web.json_response(big)

    app = web.Application(middlewares=[security_headers(), compression()])
    for path in ("/socket.io/", "/live/", "/api/big"):
        app.router.add_get(path, answer)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        for path, encoding in [("/socket.io/", None), ("/live/", None), ("/api/big", "gzip")]:
            response, body = await fetch(base + path, headers={"Accept-Encoding": "gzip"})
            assert response.headers.get("Content-Encoding") == encoding, path
            assert orjson.loads(gzip.decompress(body) if encoding else body) == big
    finally:
        await server.close()


# --- 6. security headers on every answer ---------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/overlays/nope", 404),
        ("GET", "/no/such/page", 404),
        ("GET", "/producer/login", 303),
        ("POST", "/producer/logout", 303),
        ("GET", "/", 200),
    ],
)
async def test_every_answer_carries_the_security_headers(running, method, path, status):
    async with aiohttp.ClientSession() as session:
        response = await session.request(method, running.url + path, allow_redirects=False)
    assert response.status == status
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Server"] == "eventrunner"
    if path.startswith("/producer"):
        assert response.headers["Cache-Control"] == "no-store"


async def test_the_server_rendered_page_says_when_and_never_while_running_late(running):
    """Without JavaScript a countdown would stand still: the page says when instead."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{running.url}/") as response:
            on_time = await response.text()
        assert re.search(r'data-field="countdown-label">(Starts|Ends) at \d{1,2}:\d\d [AP]M E[SD]T<', on_time)
        assert re.search(r'data-field="countdown"></span>', on_time)
        async with session.post(
            f"{running.url}/api/show/commands", json={"command": "hold"}, headers=headers
        ):
            pass
        running.clock.now += 2 * 3600 * 1000  # long past the segment's planned end
        async with session.get(f"{running.url}/") as response:
            late = await response.text()
    assert "Running late: the next part starts when this one wraps up." in late
    assert re.search(r'<p class="countdown-line" hidden>', late)
    assert not re.search(r'data-field="countdown-label">\s*\w', late)
    assert "Started " in late and "On hold" not in late


async def test_answers_aiohttp_makes_on_its_own_name_no_versions(running):
    # A request aiohttp cannot parse never reaches a middleware; nor does an upgrade.
    reader, writer = await asyncio.open_connection("127.0.0.1", running.http.port)
    writer.write(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: many\r\n\r\n")
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.split(b"\r\n")[0].endswith(b" 400 Bad Request"), answer
    assert b"\r\nServer: eventrunner\r\n" in answer and b"aiohttp" not in answer and b"Python" not in answer
    async with aiohttp.ClientSession() as session:
        ws = await session.ws_connect(f"{running.url}/live/?EIO=4&transport=websocket")
        assert ws._response.headers["Server"] == "eventrunner"
        await ws.close()
