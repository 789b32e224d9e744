"""The console's post count in a real browser: the total against a goal set from the
console, an adjustment with its reason in the log, a recent post put on air as the top
post, and post texts shown as text, never markup."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import expect

from .browser import WAIT_MS
from .process import ServerProcess
from .test_checkins_browser import assert_nothing_ran, call, shot
from .test_console_desk import CONSOLE, signed_in_console
from .test_post_sources import counting_day
from .test_posts import SECRET, post, send

pytestmark = pytest.mark.browser

MARKUP = '<img src=x onerror="window.__xss=1"> #CommunitiesNotCages'


async def test_producers_see_the_count_set_a_goal_adjust_and_put_a_post_on_air(
    browser, tmp_path, monkeypatch
):
    monkeypatch.setenv("EVENTRUNNER_WEBHOOK_SECRET", SECRET)
    server = ServerProcess([str(counting_day(tmp_path / "day.yaml", "    {}"))], tmp_path / "data").start()
    try:
        url = server.url
        now = datetime.now(UTC).isoformat(timespec="seconds")
        assert (await send(url, [post(n, when=now) for n in range(3)] + [post(9, text=MARKUP, when=now)]))[
            0
        ] == 200
        page, dialogs = await signed_in_console(browser, url, CONSOLE)
        panel = page.locator(".posts-desk")
        await expect(panel).to_be_visible(timeout=WAIT_MS)
        await expect(panel.locator("[data-field=posts-total]")).to_have_text("4 of 1,000", timeout=WAIT_MS)
        await panel.locator("[data-field=posts-goal]").fill("50")
        await panel.locator("[data-field=posts-goal-form] button").click()
        await expect(panel.locator("[data-field=posts-total]")).to_have_text("4 of 50", timeout=WAIT_MS)
        await panel.locator("[data-field=posts-adjust-by]").fill("10")
        await panel.locator("[data-field=posts-adjust-reason]").fill("phone bank tally")
        await panel.locator("[data-field=posts-adjust] button").click()
        await expect(panel.locator("[data-field=posts-total]")).to_have_text("14 of 50", timeout=WAIT_MS)
        await expect(panel.locator("[data-field=posts-adjustments]")).to_contain_text("+10", timeout=WAIT_MS)
        await expect(panel.locator("[data-field=posts-adjustments]")).to_contain_text("phone bank tally")
        candidate = panel.locator("[data-field=posts-candidates] li", has_text="onerror")
        await expect(candidate).to_contain_text(MARKUP)
        await candidate.locator("button").click()
        await expect(candidate.locator("button")).to_have_attribute("aria-pressed", "true", timeout=WAIT_MS)
        _, count = await call(url, "GET", "/api/posts")
        assert count["total"] == 14 and count["goal"] == 50
        await panel.scroll_into_view_if_needed()
        await page.screenshot(path=shot("console-posts-1440.png"))
        await assert_nothing_ran(
            page, dialogs, "[data-field=posts-candidates], [data-field=posts-adjustments]"
        )
    finally:
        server.kill()
