"""The pages in a real browser: producer console, program-clock overlay, participant page."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from .browser import WAIT_MS, connected
from .builders import live_now_schedule
from .conftest import PASSWORD
from .process import ServerProcess, command

pytestmark = pytest.mark.browser


@pytest.fixture
def server(tmp_path):
    process = ServerProcess([str(live_now_schedule(tmp_path / "day.yaml"))], tmp_path / "data").start()
    yield process
    process.kill()


async def test_producer_presses_next_and_overlay_and_participants_follow(browser, server):
    overlay = await (await browser.new_context(viewport={"width": 1920, "height": 1080})).new_page()
    await overlay.goto(f"{server.url}/overlays/clock")
    participant = await (await browser.new_context(viewport={"width": 360, "height": 800})).new_page()
    await participant.goto(f"{server.url}/")
    console = await (await browser.new_context()).new_page()
    await console.goto(f"{server.url}/producer")
    await console.fill("input[name=password]", PASSWORD)
    await console.click("button[type=submit]")
    await expect(console.locator("[data-command=next]")).to_be_visible(timeout=WAIT_MS)
    for page in (overlay, participant, console):
        await connected(page)
    await expect(overlay.locator("[data-field=segment-title]")).to_have_text("Opening")
    await expect(participant.locator("[data-field=now-title]")).to_have_text("Opening")

    # Cue 'guest', then past the last cue: 'closing' starts now.
    version = int(await console.get_attribute("body", "data-version"))
    await console.click("[data-command=next]")
    await expect(console.locator("body")).to_have_attribute("data-version", str(version + 1), timeout=WAIT_MS)
    await console.click("[data-command=next]")

    await expect(overlay.locator("[data-field=segment-title]")).to_have_text("Closing", timeout=WAIT_MS)
    await expect(participant.locator("[data-field=now-title]")).to_have_text("Closing", timeout=WAIT_MS)
    await expect(participant.locator("[data-segment=closing]")).to_have_attribute("data-state", "live")
    await expect(participant.locator("[data-segment=opening]")).to_have_attribute("data-state", "done")
    await expect(console.locator("[data-field=now-title]")).to_have_text("Closing")
    # No reload happened: the navigation entry is still the first one.
    for page in (overlay, participant):
        assert await page.evaluate("performance.getEntriesByType('navigation')[0].type") == "navigate"
    # The participant page fits a 360 px phone.
    assert await participant.evaluate("document.documentElement.scrollWidth") <= 360


async def test_overlay_background_is_transparent(browser, server):
    page = await (await browser.new_context(viewport={"width": 1920, "height": 1080})).new_page()
    for name in ("clock", "lower-third", "up-next", "stat-card", "quote-card", "cta"):
        await page.goto(f"{server.url}/overlays/{name}")
        await connected(page)
        for element in ("html", "body"):
            colour = await page.evaluate(
                f"getComputedStyle(document.querySelector('{element}')).backgroundColor"
            )
            assert colour == "rgba(0, 0, 0, 0)", (name, element, colour)


async def test_the_overlay_recovers_by_itself_after_a_server_restart(browser, server):
    page = await (await browser.new_context(viewport={"width": 1920, "height": 1080})).new_page()
    await page.goto(f"{server.url}/overlays/clock")
    await connected(page)
    await page.evaluate("window.sameDocument = true")
    await expect(page.locator("[data-field=segment-title]")).to_have_text("Opening")

    server.kill()  # kill -9: the socket drops without a goodbye
    await expect(page.locator("body")).to_have_attribute("data-connection", "disconnected", timeout=WAIT_MS)
    await expect(page.locator("[data-field=segment-title]")).to_have_text("Opening")  # last state stays
    server.start()
    await connected(page)
    await command(server.url, {"command": "jump", "segment": "closing"})
    await expect(page.locator("[data-field=segment-title]")).to_have_text("Closing", timeout=WAIT_MS)
    assert await page.evaluate("window.sameDocument") is True
