"""The check-in page a host's link opens: their action as text, the form, a plain 404 for a
link that is not (or no longer) valid, never cached and never told to another site, limited
per link like the check-ins it sends. In Chromium on a phone: a host checks in with the
keyboard and a photo, the check-in reaches the producers, a retried tap after a lost answer
counts once, and axe finds nothing with an error or the thanks showing."""

from __future__ import annotations

import io
from html import unescape

import aiohttp
import pytest
from PIL import Image
from playwright.async_api import Request, Route, expect

from .axe import readable, violations
from .browser import WAIT_MS
from .conftest import TOKEN
from .sockets import Recorder
from .test_checkins import approved_action, call
from .test_checkins_browser import (
    PRODUCER,
    server,  # noqa: F401  (a fixture)
    shot,
    watched_page,
)
from .test_checkins_browser import approved_action as approved_with_link

MARKUP = "<img src=x onerror=\"window.__xss='img';alert('img')\">"
INVALID = "This check-in link is not valid. Ask the organizers for a new one."
PHONE = {"width": 360, "height": 740}


def page_link(link: str) -> str:
    """The page of the API address approved_action (tests/test_checkins.py) answers."""
    return link.replace("/api/checkin/", "/checkin/", 1)


async def get(url: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as answer:
        return answer.status, await answer.text(), dict(answer.headers)


def assert_private(headers: dict[str, str]) -> None:
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert "script-src 'self'" in headers["Content-Security-Policy"]


async def test_the_page_shows_the_action_as_text_and_a_form_that_posts_to_the_api(running):
    _, link = await approved_action(running.url, title=MARKUP, venue="Front <b>gate</b>")
    token = link.rsplit("/", 1)[1]
    status, html, headers = await get(page_link(link))
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    assert_private(headers)
    # The title is text: escaped in the page, never an element.
    assert "<img" not in html and "<b>" not in html
    assert f"<h1>{MARKUP}</h1>" in unescape(html)
    assert "Front <b>gate</b> · Gadsden, AL" in unescape(html)
    assert "<time datetime=" in html and (" CST</time>" in html or " CDT</time>" in html)
    assert f'action="/api/checkin/{token}"' in html and 'enctype="multipart/form-data"' in html
    for attributes in (
        'name="headcount" required min="0"',
        'inputmode="numeric"',
        'name="message" rows="3" maxlength="280"',
        'accept="image/jpeg,image/png"',
        'role="alert"',
        'role="status"',
    ):
        assert attributes in html, attributes
    assert "How many people are there now?" in html
    assert "/static/js/i18n.js?v=" in html and "/static/js/checkin.js?v=" in html
    assert "/static/css/checkin.css?v=" in html
    # In Spanish when asked (and remembered, as on the participant page), the day in Spanish.
    status, html, headers = await get(page_link(link) + "?lang=es")
    assert status == 200 and '<html lang="es">' in html and "lang=es" in headers["Set-Cookie"]
    assert any(
        day in html for day in ("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo")
    )
    # Each static address is one the server serves, at the version the page names.
    for path in ("js/checkin.js", "css/checkin.css"):
        version = html.split(f"/static/{path}?v=", 1)[1].split('"', 1)[0]
        status, _, served = await get(f"{running.url}/static/{path}?v={version}")
        assert status == 200 and "immutable" in served["Cache-Control"], path


async def test_a_link_that_is_not_valid_gets_a_plain_404_page(running):
    for path in ("/checkin/not-a-link", "/checkin/not-a-link?lang=es"):
        status, html, headers = await get(running.url + path)
        assert status == 404 and headers["Content-Type"].startswith("text/html"), path
        assert_private(headers)
        assert "<form" not in html and "checkin.js" not in html
    status, html, _ = await get(running.url + "/checkin/not-a-link")
    assert INVALID in unescape(html)
    # A revoked link too, once a producer has made a new one.
    action_id, link = await approved_action(running.url)
    status, relinked = await call(running.url, "POST", f"/api/actions/{action_id}/relink", **PRODUCER)
    assert status == 200 and relinked["checkin_url"].startswith(running.url + "/checkin/")
    assert (await get(page_link(link)))[0] == 404
    assert (await get(relinked["checkin_url"]))[0] == 200


async def test_the_page_is_limited_per_link_apart_from_the_check_ins(running):
    _, link = await approved_action(running.url)
    statuses = [(await get(page_link(link)))[0] for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    status, html, headers = await get(page_link(link))
    assert status == 429 and int(headers["Retry-After"]) > 0
    assert_private(headers)
    assert "Too many requests for this link" in html
    # Reloading the page has not spent the host's check-ins.
    path = link.removeprefix(running.url)
    assert (await call(running.url, "POST", path, {"headcount": 4}))[0] == 201
    # Another link is another host.
    _, other = await approved_action(running.url)
    assert (await get(page_link(other)))[0] == 200


async def test_the_form_as_a_browser_sends_it_counts_once_and_keeps_its_line_breaks(running):
    _, link = await approved_action(running.url)
    message = "line\n" * 56  # 280 characters as typed; a browser sends each break as CRLF

    def form() -> aiohttp.FormData:
        data = aiohttp.FormData()  # multipart (a content type per field), as the page sends
        data.add_field("headcount", "12", content_type="text/plain")
        data.add_field("message", message.replace("\n", "\r\n"), content_type="text/plain")
        return data

    answers = []
    for _ in range(2):
        async with (
            aiohttp.ClientSession() as session,
            session.post(link, data=form(), headers={"Idempotency-Key": "tap-1"}) as answer,
        ):
            answers.append((answer.status, await answer.json()))
    assert answers[0][0] == answers[1][0] == 201 and answers[0][1]["id"] == answers[1][1]["id"]
    [kept] = running.server.desk.seen.pending_checkins.values()
    assert kept.body["message"] == message.strip() and kept.body["headcount"] == 12


# --- in Chromium, on a phone ------------------------------------------------------------------


def small_png() -> bytes:
    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (52, 108, 164)).save(picture, "PNG")
    return picture.getvalue()


async def pending_checkins(producer: Recorder, count: int) -> list[dict]:
    doc = await producer.wait_for(
        "/producer", lambda d: len(d["pending"]["checkins"]) == count, "checkins", timeout_s=WAIT_MS / 1000
    )
    return doc["pending"]["checkins"]


@pytest.mark.browser
async def test_a_host_checks_in_from_a_phone_with_the_keyboard_and_a_photo(browser, server):  # noqa: F811
    url = server.url
    action_id, link = await approved_with_link(url, title=MARKUP)
    producer = Recorder(["checkins"])
    await producer.connect(url, ["/producer"], auth={"token": TOKEN}, expect=("checkins",))
    try:
        page, dialogs = await watched_page(browser, PHONE)
        sent: list[Request] = []
        page.on("request", lambda request: sent.append(request) if request.method == "POST" else None)
        answer = await page.goto(link)
        assert answer is not None and answer.status == 200
        assert (await answer.all_headers())["cache-control"] == "private, no-store"
        await expect(page.locator("h1")).to_have_text(MARKUP)

        # From the top of the page, Tab to the headcount, then through the form.
        for _ in range(10):
            await page.keyboard.press("Tab")
            if await page.evaluate("document.activeElement.name") == "headcount":
                break
        else:
            pytest.fail("Tab never reached the headcount")
        await page.keyboard.type("23")
        await page.keyboard.press("Tab")
        await expect(page.locator("#checkin-message")).to_be_focused()
        await page.keyboard.type("Candles lit at the gate.")
        await expect(page.locator("[data-field=count]")).to_have_text("256 characters left")
        await page.keyboard.press("Tab")
        photo = page.locator("#checkin-photo")
        await expect(photo).to_be_focused()
        # A file picker is the system's: the file goes in as a picked one would.
        await photo.set_input_files({"name": "gate.png", "mimeType": "image/png", "buffer": small_png()})
        await page.keyboard.press("Tab")
        submit = page.locator("[data-field=submit]")
        await expect(submit).to_be_focused()
        await page.screenshot(path=shot("checkin-page-phone.png"), full_page=True)
        await page.keyboard.press("Enter")

        thanks = page.locator("[data-field=thanks]")
        await expect(thanks).to_be_focused(timeout=WAIT_MS)
        await expect(thanks).to_have_text(
            "Thank you! Your update is with the organizers; it appears once they approve it."
        )
        await expect(page.locator("#checkin-headcount")).to_have_value("")
        await expect(page.locator("[data-field=count]")).to_have_text("280 characters left")
        [waiting] = await pending_checkins(producer, 1)
        assert (waiting["action"], waiting["headcount"], waiting["message"], waiting["photo"]) == (
            action_id,
            23,
            "Candles lit at the gate.",
            True,
        )
        assert page.url == link  # the page stays: no form was posted natively
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

        # The server's refusal, in the alert tied to the form; the field it names gets the focus.
        await page.fill("#checkin-headcount", "5")
        await photo.set_input_files({"name": "not.png", "mimeType": "image/png", "buffer": b"not a picture"})
        await submit.click()
        error = page.locator("#checkin-error")
        await expect(error).to_be_visible(timeout=WAIT_MS)
        await expect(error).to_contain_text("photo")
        await expect(photo).to_be_focused()
        await expect(photo).to_have_attribute("aria-invalid", "true")
        await page.screenshot(path=shot("checkin-page-error-phone.png"), full_page=True)
        await photo.set_input_files([])

        # The answer is lost on the way back: the server kept it, the page cannot know.
        # The host taps again; the same Idempotency-Key goes with it, and it counts once.
        held = True

        async def lose_the_answer(route: Route) -> None:
            nonlocal held
            if held:
                held = False
                await expect(submit).to_be_disabled()
                await expect(submit).to_have_text("Sending…")
                await route.fetch()
                await route.abort("connectionreset")
            else:
                await route.continue_()

        await page.route("**/api/checkin/**", lose_the_answer)
        await page.fill("#checkin-headcount", "31")
        await submit.click()
        await expect(error).to_have_text(
            "Could not reach the server; check your connection and send it again.", timeout=WAIT_MS
        )
        await expect(submit).to_be_enabled()
        await pending_checkins(producer, 2)
        await submit.click()
        await expect(thanks).to_be_focused(timeout=WAIT_MS)
        assert len(await pending_checkins(producer, 2)) == 2
        # One key for the first check-in; then one for the refused one, which the server
        # never took, kept for the next and its retry.
        keys = [await request.header_value("idempotency-key") for request in sent]
        assert keys == [keys[0], keys[1], keys[1], keys[1]] and keys[0] != keys[1], keys

        # A trusted host's check-in is on the page at once, and the thanks says so.
        status, _ = await call(url, "POST", f"/api/actions/{action_id}/trust", **PRODUCER)
        assert status == 200
        await page.unroute("**/api/checkin/**")
        await page.fill("#checkin-headcount", "40")
        await submit.click()
        await expect(thanks).to_have_text(
            "Thank you! Your update is with the organizers; it is on the page now.", timeout=WAIT_MS
        )
        await expect(thanks).to_be_focused()
        assert await page.evaluate("typeof window.__xss") == "undefined"
        assert dialogs == [] and await page.evaluate("window.__csp") == []
    finally:
        await producer.close()


@pytest.mark.browser
async def test_the_check_in_page_passes_axe_showing_an_error_and_the_thanks(browser, server):  # noqa: F811
    _, link = await approved_with_link(server.url)
    # axe goes in as an inline script, which the page's policy blocks: bypassed here.
    page = await (await browser.new_context(viewport=PHONE, bypass_csp=True)).new_page()
    await page.goto(link)
    await page.fill("#checkin-headcount", "3")
    await page.set_input_files("#checkin-photo", {"name": "x.png", "mimeType": "image/png", "buffer": b"x"})
    await page.click("[data-field=submit]")
    await expect(page.locator("#checkin-error")).to_be_visible(timeout=WAIT_MS)
    reports = [readable(await violations(page), "the check-in page showing an error")]
    await page.set_input_files("#checkin-photo", [])
    await page.click("[data-field=submit]")
    await expect(page.locator("[data-field=thanks]")).to_be_focused(timeout=WAIT_MS)
    reports.append(readable(await violations(page), "the check-in page thanking the host"))
    problems = [report for report in reports if report]
    assert not problems, "axe found WCAG 2.2 AA violations:\n\n" + "\n\n".join(problems)
