"""The participant page's map of actions, in a real browser: one pin per approved action
on the US outlines, on its state, the live one (checked in, not ended) marked live, the
totals line and the cards saying who is there, and what people typed shown as text only.
One server, a phone and a desktop. Screenshots land in test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from eventrunner.checkins.usmap import GEONAMES_CREDIT

from .browser import WAIT_MS, connected
from .builders import REPO, live_now_schedule
from .process import ServerProcess
from .test_checkins_browser import (
    DESKTOP,
    INJECTED,
    PHONE,
    WATCH,
    approved_action,
    approved_checkin,
)
from .test_usmap import inside, outlines

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
# Sets window.__xss if it ever became markup.
MARKUP_TITLE = '<img src=x onerror="window.__xss=1">Vigil for those inside'


async def map_point_of(page: Page, pin_selector: str) -> tuple[float, float]:
    """Where the pin's centre is drawn, in the 975x610 space of the outlines, measured on
    the outlines' <img> as laid out: the pin layer and the image must line up."""
    return await page.evaluate(
        """selector => {
            const img = document.querySelector('#actions-map .map-states').getBoundingClientRect();
            const dot = document.querySelector(selector + ' .pin-dot').getBoundingClientRect();
            return [(dot.x + dot.width / 2 - img.x) * 975 / img.width,
                    (dot.y + dot.height / 2 - img.y) * 610 / img.height];
        }""",
        pin_selector,
    )


async def test_the_map_pins_each_action_on_its_state_and_marks_the_live_one(browser, tmp_path):
    server = ServerProcess([str(live_now_schedule(tmp_path / "day.yaml"))], tmp_path / "data").start()
    try:
        url = server.url
        gadsden, link = await approved_action(url, 1, title=MARKUP_TITLE, city="Gadsden", state="AL")
        seattle, _ = await approved_action(
            url, 2, title="Rally at the Federal Building", type="rally", city="Seattle", state="WA"
        )
        await approved_checkin(url, link, 40, "Forty of us at the courthouse")
        _, rings = outlines()

        for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
            page = await (await browser.new_context(viewport=viewport)).new_page()
            await page.add_init_script(WATCH)
            await page.goto(f"{url}/")
            await connected(page)
            world = page.locator("#actions-map")
            actions = page.locator("#actions")
            pins = world.locator(".map-pins .pin")
            await expect(pins).to_have_count(2, timeout=WAIT_MS)
            live = pins.and_(page.locator(f"[data-pin-action='{gadsden}']"))
            later = pins.and_(page.locator(f"[data-pin-action='{seattle}']"))
            await expect(live).to_have_attribute("data-pin", "live")
            await expect(later).to_have_attribute("data-pin", "upcoming")
            assert await live.evaluate("el => el.parentNode.dataset.field") == "pins-live"  # on top
            # Drawn on the right states.
            for action_id, state in ((gadsden, "AL"), (seattle, "WA")):
                point = await map_point_of(page, f".pin[data-pin-action='{action_id}']")
                assert inside(point, rings[state]), (name, state, point)
            # The live one is bigger on screen; both readable on a phone.
            live_box = await live.locator(".pin-dot").bounding_box()
            later_box = await later.locator(".pin-dot").bounding_box()
            assert live_box and later_box
            assert live_box["width"] > later_box["width"] >= 7, (live_box, later_box)

            await expect(world.locator("[data-field=map-totals]")).to_have_text(
                "1 action live now · 40 people present · 2 actions listed"
            )
            frame = world.locator("[data-field=map-frame]")
            await expect(frame).to_have_attribute("role", "img")
            await expect(frame).to_have_attribute("aria-label", "Map: 2 actions, 1 live now")
            await expect(world.locator("[data-field=map-credit]")).to_have_text(GEONAMES_CREDIT)

            # Tooltips and the list: the markup is text.
            await expect(live.locator("title")).to_have_text(f"{MARKUP_TITLE} — Gadsden, AL")
            await expect(later.locator("title")).to_have_text("Rally at the Federal Building — Seattle, WA")
            cards = actions.locator(".action-card")
            card = cards.and_(page.locator(f"[data-action='{gadsden}']"))
            await expect(cards.first).to_have_attribute("data-action", gadsden)  # live ones first
            await expect(card.locator(".action-title")).to_have_text(MARKUP_TITLE)
            await expect(card.locator("[data-field=live]")).to_have_text("Live now · 40 people")
            await expect(card).to_have_attribute("data-live", "true")
            await expect(cards.locator("[data-field=live]")).to_have_count(1)
            assert await page.evaluate("typeof window.__xss") == "undefined"
            assert await page.evaluate("window.__csp") == []
            assert await world.locator("img").count() == 1  # the outlines, nothing else
            assert await world.locator(".pin title *").count() == 0
            assert await page.locator("#actions, #checkins").locator(INJECTED).count() == 0

            # Within the page's width.
            assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
            box = await frame.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]

            if name == "phone":
                # A tap on a pin shows its action in the list.
                await later.click()
                seattle_card = cards.and_(page.locator(f"[data-action='{seattle}']"))
                await expect(seattle_card).to_have_class("action-card picked")
                await expect(seattle_card).to_be_in_viewport()
            else:
                # A new check-in while the page is open: the totals follow, the pin pulses.
                await approved_checkin(url, link, 45, "Five more just arrived")
                await expect(world.locator("[data-field=map-totals]")).to_have_text(
                    "1 action live now · 45 people present · 2 actions listed", timeout=WAIT_MS
                )
                await expect(live).to_have_class("pin pulse")
                await expect(card.locator("[data-field=live]")).to_have_text("Live now · 45 people")
            await page.wait_for_timeout(600)  # a smooth scroll, a pulse's first ring
            top = await world.bounding_box()
            bottom = await actions.bounding_box()
            assert top and bottom
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(
                path=str(ARTIFACTS / f"participant-map-{name}.png"),
                full_page=True,
                clip={
                    "x": 0,
                    "y": top["y"] + await page.evaluate("scrollY") - 8,
                    "width": viewport["width"],
                    "height": bottom["y"] + bottom["height"] - top["y"] + 16,
                },
            )
            await page.context.close()
    finally:
        server.kill()
