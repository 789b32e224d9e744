"""The console's check-in desk in a real browser: what waits shows as text (markup someone
typed stays text), a producer moderates a batch from the keyboard, approving an action
shows its check-in link once, and the kill switch takes the check-in overlays off air."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from .browser import WAIT_MS, connected
from .conftest import PASSWORD
from .test_checkins_browser import (
    PAYLOADS,
    PRODUCER,
    action,
    api_path,
    approved_action,
    assert_nothing_ran,
    call,
    server,  # noqa: F401  (a fixture)
    shot,
    watched_page,
)

pytestmark = pytest.mark.browser
CONSOLE = {"width": 1440, "height": 900}


async def signed_in_console(browser, url: str, viewport: dict) -> tuple[Page, list[str]]:
    page, dialogs = await watched_page(browser, viewport)
    await page.goto(f"{url}/producer")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await connected(page)
    return page, dialogs


async def test_producers_moderate_a_batch_from_the_keyboard_and_see_typed_markup_as_text(browser, server):  # noqa: F811
    url = server.url
    action_id, link = await approved_action(url)
    checkins = []
    for n, message in enumerate(PAYLOADS[:3]):
        status, created = await call(
            url, "POST", api_path(url, link), {"headcount": 10 + n, "message": message}
        )
        assert status == 201
        checkins.append(created["id"])
    status, _ = await call(url, "POST", "/api/actions", action(title=PAYLOADS[3]))
    assert status == 201

    page, dialogs = await signed_in_console(browser, url, CONSOLE)
    rows = page.locator(".queue .queue-row")
    await expect(rows).to_have_count(4, timeout=WAIT_MS)
    await expect(page.locator(".queue")).to_contain_text(PAYLOADS[3])
    await expect(page.locator(".queue")).to_contain_text(PAYLOADS[0])
    await page.locator(".desk").scroll_into_view_if_needed()
    await page.screenshot(path=shot("console-desk-1440.png"), full_page=False)
    await assert_nothing_ran(page, dialogs, ".desk")

    # Keyboard: the action row, then the first two check-ins selected with X, approved with A.
    # The console's own keys armed, so that only the queue's focus keeps them quiet.
    await page.click("[data-field=arm]")
    await expect(page.locator("[data-field=arm]")).to_have_attribute("aria-pressed", "true")
    await rows.first.focus()
    # The console's own keys (next, hold, clear) do nothing from inside the queue.
    for key in ("ArrowRight", "h", "c"):
        await page.keyboard.press(key)
    for key in ("j", "x", "j", "x"):
        await page.keyboard.press(key)
    assert await rows.nth(1).get_attribute("aria-selected") == "true"
    # A held key repeats: a repeat decides nothing.
    await page.evaluate(
        "document.activeElement.dispatchEvent(new KeyboardEvent('keydown', {key: 'a', repeat: true, bubbles: true}))"
    )
    await expect(page.locator("[data-field=desk-status]")).to_have_text("")
    await page.keyboard.press("a")
    await expect(page.locator("[data-field=desk-status]")).to_have_text("Approved 2", timeout=WAIT_MS)
    await expect(rows).to_have_count(2, timeout=WAIT_MS)
    _, shown = await call(url, "GET", "/api/checkins")
    assert sorted(c["id"] for c in shown["checkins"]) == sorted(checkins[:2])
    # The console's own shortcuts did not fire from the queue: no command was sent.
    await expect(page.locator("[data-field=last-command]")).to_have_text("none yet")

    # The focused row (the third check-in, which took the place of the second) is rejected with R.
    assert await page.evaluate("document.activeElement.dataset.id") == checkins[2]
    await page.keyboard.press("r")
    await expect(rows).to_have_count(1, timeout=WAIT_MS)
    # Approving the action shows its check-in link, once.
    await rows.first.locator("[data-decide=approve]").click()
    await expect(page.locator(".link-item")).to_be_visible(timeout=WAIT_MS)
    link_value = await page.locator(".link-item .link-url").input_value(timeout=WAIT_MS)
    assert link_value.startswith(url + "/checkin/")
    await expect(page.locator("[data-field=queue-empty]")).to_be_visible(timeout=WAIT_MS)

    # The kill switch, and the spotlight, from the console.
    await page.click("[data-field=kill]")
    await expect(page.locator("[data-field=kill]")).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
    await page.click(f"[data-spotlight='{action_id}']")
    await expect(page.locator("[data-field=spotlight-now]")).to_contain_text("Vigil", timeout=WAIT_MS)
    status, air = await call(url, "POST", "/api/checkins/air", {}, **PRODUCER)
    assert air == {"delay_s": 0, "killed": True, "spotlight": action_id}
    await assert_nothing_ran(page, dialogs, ".desk")

    phone, _ = await signed_in_console(browser, url, {"width": 390, "height": 844})
    await expect(phone.locator(".desk .approved-row").first).to_be_visible(timeout=WAIT_MS)
    assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
    await phone.locator(".desk").scroll_into_view_if_needed()
    await phone.screenshot(path=shot("console-desk-phone.png"))
