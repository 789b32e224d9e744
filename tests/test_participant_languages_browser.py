"""The participant page as viewers meet it, in Chromium: a Spanish browser gets Spanish
and a switch is remembered; a viewer in Los Angeles reads their own time first; the
schedule reads without JavaScript; and the first load is light enough for a poor
connection (measured: bytes on the wire, requests, and first text on a 2G-like link)."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from .browser import WAIT_MS, connected
from .builders import at

pytestmark = pytest.mark.browser

PHONE = {"width": 360, "height": 740}
DASH = "\u2013"  # between a range's start and end
# The budget for the page's first load, compressed, and its requests.
FIRST_LOAD_BYTES = 60 * 1024
FIRST_LOAD_REQUESTS = 6
# 2G-like (EDGE): 250 kbit/s down, 50 up, 300 ms round trips; bytes per second for CDP.
TWO_G = {"offline": False, "latency": 300, "downloadThroughput": 250_000 / 8, "uploadThroughput": 50_000 / 8}


@pytest.fixture
async def show(start_server):
    # Before the livestream: the countdown, the up next and every time are on the page.
    return await start_server(now=at("2022-03-03 11:00"))


async def test_a_spanish_browser_gets_spanish_and_a_switch_is_remembered(browser, show):
    context = await browser.new_context(viewport=PHONE, locale="es-MX")
    page = await context.new_page()
    await page.goto(f"{show.url}/")
    await connected(page)
    await expect(page.locator("html")).to_have_attribute("lang", "es")
    await expect(page.locator("#segment-livestream h3")).to_have_text("Transmisión Nacional en Vivo")
    # The scripts speak Spanish too: the live countdown's label, the 24-hour clock.
    await expect(page.locator("[data-field=countdown-label]")).to_have_text("Empieza en")
    await expect(
        page.locator("#segment-digital-action-hour [data-field=segment-event-time]")
    ).to_contain_text("13:00")
    await expect(page.locator("[data-field=event-date]")).to_have_text("jueves, 3 de marzo de 2022")

    await page.get_by_role("link", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("#segment-livestream h3")).to_have_text("National Livestream")
    await page.goto(f"{show.url}/")  # the browser still says Spanish; the choice wins
    await connected(page)
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.locator("[data-field=countdown-label]")).to_have_text("Starts in")
    await context.close()


async def test_a_viewer_in_los_angeles_reads_their_own_time_first(browser, show):
    context = await browser.new_context(viewport=PHONE, timezone_id="America/Los_Angeles", locale="en-US")
    page = await context.new_page()
    await page.goto(f"{show.url}/")
    await connected(page)
    row = page.locator("#segment-livestream")
    await expect(row.locator("[data-field=segment-time]")).to_have_text(f"8:30 AM {DASH} 9:30 AM PST")
    await expect(row.locator("[data-field=segment-event-time]")).to_have_text(
        f"11:30 AM {DASH} 12:30 PM EST event time"
    )
    main = await row.locator("[data-field=segment-time]").bounding_box()
    second = await row.locator("[data-field=segment-event-time]").bounding_box()
    assert main and second and main["y"] < second["y"], "the viewer's time comes first"
    await expect(page.locator("[data-field=now-time]")).to_have_text(
        f"8:30 AM {DASH} 9:30 AM PST · 11:30 AM {DASH} 12:30 PM EST event time"
    )
    await page.screenshot(path="test-artifacts/participant-los-angeles.png", full_page=False)
    await context.close()


async def test_the_schedule_reads_without_javascript(browser, show):
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{show.url}/")
    await expect(page.locator("#segment-livestream h3")).to_have_text("National Livestream")
    await expect(page.locator("#segment-livestream [data-field=segment-time]")).to_have_text(
        f"11:30 AM EST {DASH} 12:30 PM EST"
    )
    # A static "starts at" line instead of a countdown that would stand still.
    await expect(page.locator(".countdown-line")).to_be_visible()
    await expect(page.locator("[data-field=countdown-label]")).to_have_text("Starts at 11:30 AM EST")
    await expect(page.locator("[data-field=countdown]")).to_have_text("")
    await expect(page.locator(".schedule > li")).to_have_count(3)
    await context.close()


async def first_load(page: Page, url: str) -> tuple[int, list[str]]:
    """Bytes on the wire (compressed, headers included) and the requests of a first load,
    until the page is live; the live connection's own websocket is not a page request."""
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    urls: dict[str, str] = {}
    sizes: dict[str, int] = {}
    cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    await page.goto(url, wait_until="load")
    await connected(page)
    await page.evaluate("() => new Promise(r => requestAnimationFrame(() => r()))")
    fetched = [rid for rid, address in urls.items() if address.startswith("http")]
    return sum(sizes.get(rid, 0) for rid in fetched), [urls[rid] for rid in fetched]


@pytest.mark.parametrize("language", ["en", "es"])
async def test_the_first_load_is_light(browser, show, language):
    page = await (await browser.new_context(viewport=PHONE)).new_page()
    total, requests = await first_load(page, f"{show.url}/?lang={language}")
    print(f"first load ({language}): {total} bytes over {len(requests)} requests: {requests}")
    assert total <= FIRST_LOAD_BYTES, (total, requests)
    assert len(requests) <= FIRST_LOAD_REQUESTS, requests


async def test_the_page_shows_its_first_text_within_3_s_on_a_2g_link(browser, show):
    page = await (await browser.new_context(viewport=PHONE)).new_page()
    cdp = await page.context.new_cdp_session(page)
    await cdp.send("Network.enable")
    await cdp.send("Network.emulateNetworkConditions", TWO_G)
    await page.goto(f"{show.url}/", wait_until="commit")
    await expect(page.locator("[data-field=now-title]")).to_be_visible(timeout=WAIT_MS)
    paint = await page.evaluate(
        """() => new Promise(resolve => new PerformanceObserver(list => {
            const fcp = list.getEntriesByName('first-contentful-paint')[0];
            if (fcp) resolve(fcp.startTime);
        }).observe({ type: 'paint', buffered: true }))"""
    )
    print(f"first contentful paint on 2G: {paint:.0f} ms")
    assert paint <= 3000, paint
    await connected(page)  # and it goes live on that link too
