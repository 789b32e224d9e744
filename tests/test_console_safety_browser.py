"""The console's safety in a real browser: single keys do nothing until the producer arms
them; Undo takes back the last command; a graphic cue is previewed (not on air) before it
is taken, and the preview then says it is on air."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from .axe import readable, violations
from .browser import WAIT_MS, connected
from .builders import day_on_air
from .conftest import PASSWORD
from .process import ServerProcess
from .test_checkins_browser import shot
from .test_undo import get

pytestmark = pytest.mark.browser
QUIET_MS = 700  # long enough for a command the console should not have sent to show


def safety_day(path: Path) -> Path:
    """On air since five minutes ago, with graphics taken by hand only."""
    return day_on_air(
        path,
        "Safety day",
        """
        - {id: host, at: 0m, kind: note, text: Roll the intro}
        - {id: guest, at: 90m, kind: note, text: Guest arrives}
        - {id: figure, at: 100m, kind: stat, figure: "18,000+", label: people in detention today,
            as_of: 2022-03-03, source: DWN, take: manual}
        """,
        hours=2,
    )


@pytest.fixture
def server(tmp_path):
    process = ServerProcess([str(safety_day(tmp_path / "day.yaml"))], tmp_path / "data").start()
    yield process
    process.kill()


async def version(page: Page) -> int:
    return int(await page.get_attribute("body", "data-version"))


async def producer_doc(url: str) -> dict:
    return await get(url, "/api/show?audience=producer")


async def test_keys_wait_for_arming_undo_takes_back_and_a_graphic_is_previewed_before_take(browser, server):
    # bypass_csp: axe goes in as an inline script.
    page = await (
        await browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    ).new_page()
    await page.goto(f"{server.url}/producer")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await connected(page)
    arm = page.locator("[data-field=arm]")
    await expect(arm).to_have_attribute("aria-pressed", "false")
    start = await version(page)

    # Unarmed: Space (and the other keys) do nothing but say why.
    for key in ("Space", "ArrowRight", "h", "c"):
        await page.keyboard.press(key)
    await page.wait_for_timeout(QUIET_MS)
    assert await version(page) == start
    await expect(page.locator("[data-field=last-command]")).to_have_text("none yet")
    await expect(page.locator("[data-field=status]")).to_contain_text("shortcuts are off")

    # Armed: Space is Next.
    await arm.click()
    await expect(arm).to_have_attribute("aria-pressed", "true")
    await expect(page.locator("[data-field=status]")).to_have_text("Shortcuts armed: Space is Next.")
    cue_before = (await producer_doc(server.url))["program"].get("cue")
    await page.keyboard.press("Space")
    await expect(page.locator("body")).to_have_attribute("data-version", str(start + 1), timeout=WAIT_MS)
    assert (await producer_doc(server.url))["program"]["cue"] == "guest"

    # Undo, by its button: the show is back as it was, a version on.
    undo = page.locator("[data-command=undo]")
    await expect(undo).to_be_enabled(timeout=WAIT_MS)
    await expect(undo).to_contain_text("Undo next (")
    await page.screenshot(path=shot("console-safety-undo.png"))
    await undo.click()
    await expect(page.locator("body")).to_have_attribute("data-version", str(start + 2), timeout=WAIT_MS)
    assert (await producer_doc(server.url))["program"].get("cue") == cue_before
    await expect(undo).to_be_disabled()
    await expect(undo).to_contain_text("Nothing to undo")

    # Preview then take: the stat card, drawn as the overlay draws it, not on air yet.
    panel = page.locator(".cue-preview")
    await page.click("[data-preview=figure]")
    await expect(panel).to_have_attribute("data-state", "preview")
    await expect(page.locator("[data-field=preview-badge]")).to_have_text("Not on air")
    await expect(page.locator("[data-preview=figure]")).to_have_attribute("aria-pressed", "true")
    frame = page.frame_locator("[data-field=preview-frame]")
    card = frame.locator(".stat-card")
    await expect(card.locator("[data-field=figure]")).to_have_text("18,000+")
    await expect(card.locator("[data-field=source]")).to_have_text("Source: DWN")
    # Styled by the overlays' sheet: in the side slot of the 1920x1080 canvas.
    box = await card.evaluate(
        "el => { const r = el.getBoundingClientRect(); return [r.left, r.right, r.top]; }"
    )
    assert box[0] >= 1920 - 96 - 672 - 1 and box[1] <= 1920 - 96 + 1 and box[2] >= 300, box
    assert "card" not in (await producer_doc(server.url))["graphics"]
    await page.locator(".cue-preview").scroll_into_view_if_needed()
    await page.screenshot(path=shot("console-safety-preview.png"))
    reports = [readable(await violations(page), "the console, armed, with Undo and a preview")]

    await page.click("[data-field=preview-take]")
    await expect(panel).to_have_attribute("data-state", "on-air", timeout=WAIT_MS)
    await expect(page.locator("[data-field=preview-badge]")).to_have_text("On air now")
    assert (await producer_doc(server.url))["graphics"]["card"]["cue"] == "figure"
    await expect(page.locator("[data-row-cue=figure]")).to_have_attribute("data-on-air", "true")
    await page.screenshot(path=shot("console-safety-on-air.png"))
    reports.append(readable(await violations(page), "the console, the previewed graphic on air"))
    assert not any(reports), "\n".join(reports)

    # Armed, U undoes the take; disarmed, keys do nothing again.
    taken = await version(page)
    await page.keyboard.press("u")
    await expect(page.locator("body")).to_have_attribute("data-version", str(taken + 1), timeout=WAIT_MS)
    assert "card" not in (await producer_doc(server.url))["graphics"]
    await expect(panel).to_have_attribute("data-state", "preview")
    await arm.click()
    await expect(arm).to_have_attribute("aria-pressed", "false")
    await page.keyboard.press("Space")
    await page.wait_for_timeout(QUIET_MS)
    assert await version(page) == taken + 1
