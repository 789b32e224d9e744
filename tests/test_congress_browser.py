""" "Email your members of Congress" in a real browser, by keyboard only: Tab to the ZIP
code, type it, Enter, pick a district and a recipient with the arrow keys, copy the
letter. The letter is filled in for that member, with the viewer's name and city, and
neither ever leaves the browser: the network log holds one request, with the ZIP code
alone. Screenshots land in test-artifacts/."""

from __future__ import annotations

import re
from urllib.parse import quote

import aiohttp
import pytest
from playwright.async_api import Page, Request, expect

from .axe import readable, violations
from .browser import WAIT_MS
from .builders import FREE_THEM_ALL, REPO, at

pytestmark = pytest.mark.browser

PANEL = "#congress-email-congress"
NAME = "Ana Example"
CITY = "Chelsea Town"
PHONE = {"width": 360, "height": 800}


@pytest.fixture
async def show(start_server):
    # #FreeThemAll: its email to Congress runs 09:00-18:00.
    return await start_server(schedule=FREE_THEM_ALL, now=at("2020-04-01 10:00"))


async def tab_to(page: Page, selector: str, limit: int = 200) -> None:
    """Tab (only Tab) until `selector` has the focus."""
    for _ in range(limit):
        if await page.evaluate(
            "(s) => !!document.activeElement && document.activeElement.matches(s)", selector
        ):
            return
        await page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {selector}")


async def members_of(url: str, zip_code: str) -> dict:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url}/api/representatives?zip={zip_code}") as answer,
    ):
        return await answer.json()


async def test_a_viewer_finds_their_members_and_copies_a_filled_letter_by_keyboard(browser, show):
    expected = await members_of(show.url, "10001")  # Manhattan: NY-10 and NY-12
    nadler = next(m for m in expected["representatives"] if m["district"] == "NY-12")
    context = await browser.new_context(viewport=PHONE)
    await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=show.url)
    page = await context.new_page()
    sent: list[Request] = []
    page.on("request", lambda request: sent.append(request))
    await page.goto(f"{show.url}/")
    panel = page.locator(PANEL)
    await expect(panel.locator("form")).to_be_visible(timeout=WAIT_MS)

    # A malformed ZIP code is refused by the field, before anything is sent.
    await tab_to(page, f"{PANEL} [data-field=congress-zip]")
    await page.keyboard.type("1234")
    await page.keyboard.press("Enter")
    zip_field = panel.locator("[data-field=congress-zip]")
    await expect(zip_field).to_have_attribute("aria-invalid", "true")
    await expect(panel.locator("[data-field=congress-zip-error]")).to_have_text(
        "Enter your 5-digit ZIP code, such as 20001."
    )

    await page.keyboard.press("Control+A")
    await page.keyboard.type("10001")
    await page.keyboard.press("Tab")
    await page.keyboard.type(NAME)
    await page.keyboard.press("Tab")
    await page.keyboard.type(CITY)
    await page.keyboard.press("Enter")
    status = panel.locator("[data-field=congress-status]")
    await expect(status).to_have_text("ZIP code 10001 is in 2 districts: pick yours below.", timeout=WAIT_MS)
    await expect(zip_field).to_have_attribute("aria-invalid", "false")
    await expect(panel.locator(".congress-member")).to_have_count(2)  # the senators, before the pick

    # The district, by arrow key: the first radio takes the focus, Down picks the next one.
    await tab_to(page, f"{PANEL} [data-field=congress-district-choices] input")
    await page.keyboard.press("Space")
    await page.keyboard.press("ArrowDown")
    await expect(panel.locator("[data-field=congress-district-choices] input:checked")).to_have_value("NY-12")
    cards = panel.locator(".congress-member")
    await expect(cards).to_have_count(3)
    await expect(cards.nth(2).locator("h5")).to_have_text(f"Representative {nadler['name']}")
    await expect(status).to_have_text("New York, district 12: 3 members of Congress below.")
    for card in await cards.all():
        await expect(card.locator("a[href^='tel:+1']")).to_have_count(1)
        await expect(card.locator("a[target=_blank]")).to_have_attribute("href", re.compile(r"^https://"))
    await expect(panel.locator("[data-field=congress-as-of]")).to_have_text(
        f"Member data as of {expected['as_of']}."
    )

    # The letter, to the representative: the last recipient, two Downs from the first.
    await tab_to(page, f"{PANEL} [data-field=congress-recipient-choices] input")
    await page.keyboard.press("ArrowDown")
    await page.keyboard.press("ArrowDown")
    await expect(panel.locator("[data-field=congress-recipient-choices] input:checked")).to_have_value(
        nadler["bioguide"]
    )
    letter = panel.locator("[data-field=congress-letter]")
    await expect(letter).to_contain_text(f"Dear Representative {nadler['name']},")
    await expect(letter).to_contain_text(f"I'm your constituent from {CITY}, and [as a person of faith]")
    text = await letter.text_content()
    assert text.rstrip().endswith(f"{NAME}\n{CITY}")
    assert "[Name]" not in text and "[CITY/TOWN]" not in text and "[Your Name]" not in text
    mailto = await panel.locator("[data-field=congress-mailto]").get_attribute("href")
    assert mailto.startswith("mailto:?subject=Release%20immigrants")
    assert quote(f"Dear Representative {nadler['name']},") in mailto and "%0D%0A" in mailto

    await tab_to(page, f"{PANEL} [data-field=congress-copy]")
    await page.keyboard.press("Enter")
    await expect(panel.locator("[data-field=congress-copied]")).to_have_text(
        "Letter copied. Paste it into the contact form."
    )
    assert await page.evaluate("navigator.clipboard.readText()") == text
    await panel.screenshot(path=str(shot("congress-phone.png")))

    # Only the ZIP code left the page: one lookup, nothing of the name or city anywhere.
    lookups = [r.url for r in sent if "/api/representatives" in r.url]
    assert lookups == [f"{show.url}/api/representatives?zip=10001"]
    for request in sent:
        carried = " ".join([request.url, request.post_data or "", *(await request.all_headers()).values()])
        for typed in ("Ana", "Example", "Chelsea"):
            assert typed not in carried, f"{request.method} {request.url} carried {typed!r}"
    kept = await page.evaluate(
        "JSON.stringify([Object.assign({}, localStorage), Object.assign({}, sessionStorage), document.cookie])"
    )
    assert "Ana" not in kept and "Chelsea" not in kept and "10001" not in kept


async def test_an_unknown_zip_says_so_by_the_field_and_offers_the_states_senators(browser, show):
    page = await (await browser.new_context(viewport=PHONE)).new_page()
    await page.goto(f"{show.url}/")
    panel = page.locator(PANEL)
    await tab_to(page, f"{PANEL} [data-field=congress-zip]")
    await page.keyboard.type("10008")  # PO boxes: no Census ZIP code area
    await page.keyboard.press("Enter")
    error = panel.locator("[data-field=congress-zip-error]")
    await expect(error).to_contain_text("ZIP code 10008 was not found", timeout=WAIT_MS)
    await expect(error).to_contain_text("ZIP codes starting with 100 are in New York.")
    await expect(panel.locator("[data-field=congress-zip]")).to_have_attribute("aria-invalid", "true")
    await expect(panel.locator(".congress-member h5")).to_have_count(2)
    await expect(panel.locator(".congress-member h5").first).to_contain_text("Senator ")


async def test_dc_says_it_has_no_senators(browser, show):
    page = await (await browser.new_context(viewport=PHONE)).new_page()
    await page.goto(f"{show.url}/")
    panel = page.locator(PANEL)
    await tab_to(page, f"{PANEL} [data-field=congress-zip]")
    await page.keyboard.type("20001")
    await page.keyboard.press("Enter")
    await expect(panel.locator("[data-field=congress-notes]")).to_have_text(
        "District of Columbia has no senators and a non-voting delegate in the House.", timeout=WAIT_MS
    )
    await expect(panel.locator(".congress-member h5")).to_have_count(1)
    await expect(panel.locator(".congress-member h5")).to_contain_text("Delegate ")
    await expect(panel.locator("[data-field=congress-letter]")).to_contain_text("Dear Delegate ")


def shot(name: str):
    artifacts = REPO / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    return artifacts / name


@pytest.mark.parametrize("language", ["en", "es"])
async def test_the_congress_form_and_its_results_pass_axe(browser, show, language):
    page = await (await browser.new_context(viewport=PHONE, bypass_csp=True)).new_page()
    await page.goto(f"{show.url}/?lang={language}")
    panel = page.locator(PANEL)
    await panel.locator("input[inputmode=numeric]").fill("10001")
    await panel.locator("input[inputmode=numeric]").press("Enter")
    await expect(panel.locator("a[href^='tel:']").first).to_be_visible(timeout=WAIT_MS)
    report = readable(await violations(page), f"the Congress form with results ({language})")
    assert not report, report
