"""WCAG 2.2 AA in a real browser: axe-core finds no violation on the participant page
(English and Spanish, phone and desktop, the host form open, with and without its error),
the producer console, the sign-in page and the check-in page a host's link opens; the
targets of the participant page and the forms are at least 44 px, the host form works
from the keyboard alone, the participant page and the console hold still with reduced
motion, and a segment change is announced politely. Screenshots land in test-artifacts/."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from playwright.async_api import Page, expect

from .axe import readable, violations
from .browser import WAIT_MS, connected
from .conftest import PASSWORD
from .process import ServerProcess, command
from .test_checkins_browser import (
    JANUARY_15,
    PRODUCER,
    action,
    api_path,
    approved_action,
    approved_checkin,
    call,
    shot,
)
from .test_posts import SECRET, post, send

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
CONSOLE = {"width": 1440, "height": 900}
LIVE = "National Livestream"
NEXT = "National Digital Action Hour"

# The boxes of every control a finger can hit, smaller than 44x44 CSS px. Exempt, as in
# WCAG 2.5.8's inline exception: a link shown inline (display: inline) inside running text,
# that is, whose parent holds text besides the link's own: its size is set by the line of
# text. Controls with no box (hidden) are not on screen. The map's pins are no controls
# here (not focusable, aria-hidden): the list of actions below the map does what a pin does.
SMALL_TARGETS = """() => {
  const controls = 'a[href], button, input:not([type=hidden]), select, textarea, summary, ' +
    '[tabindex]:not([tabindex="-1"]), [role=button], [role=link], [role=checkbox], [role=radio], [role=tab]';
  const inline = el => getComputedStyle(el).display === 'inline' &&
    el.parentElement.textContent.trim() !== el.textContent.trim();
  return Array.from(document.querySelectorAll(controls)).flatMap(el => {
    const box = el.getBoundingClientRect();
    if ((!box.width && !box.height) || inline(el) || (box.width >= 44 && box.height >= 44)) return [];
    const name = (el.textContent || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40);
    return [`<${el.localName} class="${el.className}"> "${name}": ${box.width.toFixed(1)}x${box.height.toFixed(1)}`];
  });
}"""

# Every element and its ::before and ::after that moves: a running animation or a transition
# that takes time.
MOVING = """() => Array.from(document.querySelectorAll('*')).flatMap(el =>
  [null, '::before', '::after'].flatMap(pseudo => {
    const style = getComputedStyle(el, pseudo);
    const moves = style.animationName.split(', ').some(name => name !== 'none') ||
      style.transitionDuration.split(', ').some(duration => parseFloat(duration) > 0);
    return moves ? [`<${el.localName} class="${el.getAttribute('class') || ''}">${pseudo || ''}: ` +
      `animation ${style.animationName}, transition ${style.transitionDuration}`] : [];
  }))"""


@pytest.fixture
def server(tmp_path, monkeypatch):
    """The demo day: #CommunitiesNotCages, with every kind of content a page shows. Its
    webhook takes posts, so the console's post count has some."""
    monkeypatch.setenv("EVENTRUNNER_WEBHOOK_SECRET", SECRET)
    process = ServerProcess(["--demo"], tmp_path / "data").start()
    yield process
    process.kill()


async def live_day(url: str) -> None:
    """The livestream on now, and one approved action with a check-in: the participant
    page's actions list, map and feed show."""
    await command(url, {"command": "jump", "segment": "livestream"})
    _, link = await approved_action(url)
    await approved_checkin(url, link, 12, "Twelve of us at the courthouse")


async def open_page(browser, viewport: dict, url: str, **context: object) -> Page:
    """A page at `url`. The pages' Content-Security-Policy allows only their own scripts:
    bypassed, so that axe can be injected."""
    page = await (await browser.new_context(viewport=viewport, bypass_csp=True, **context)).new_page()
    await page.goto(url)
    return page


async def participant(browser, url: str, viewport: dict, query: str = "", **context: object) -> Page:
    """The participant page, connected, the actions in and the host form open."""
    page = await open_page(browser, viewport, f"{url}/{query}", **context)
    await connected(page)
    await expect(page.locator("#actions .action-card").first).to_be_visible(timeout=WAIT_MS)
    toggle = page.locator("[aria-controls=host-form][aria-expanded=false]")
    if await toggle.count():
        await toggle.click()
    await expect(page.locator("[data-field=host-form]")).to_be_visible()
    return page


async def console(browser, url: str) -> Page:
    page = await open_page(browser, CONSOLE, f"{url}/producer")
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await connected(page)
    return page


def no_violations(reports: list[str]) -> None:
    problems = [report for report in reports if report]
    assert not problems, "axe found WCAG 2.2 AA violations:\n\n" + "\n\n".join(problems)


# --- axe ------------------------------------------------------------------------------------


async def test_the_participant_page_passes_axe_in_english_and_spanish_on_a_phone_and_a_desktop(
    browser, server
):
    await live_day(server.url)
    reports = []
    for query, language in (("", "English"), ("?lang=es", "Spanish")):
        for viewport in (PHONE, DESKTOP):
            page = await participant(browser, server.url, viewport, query)
            where = f"the participant page, {language}, {viewport['width']} px"
            reports.append(readable(await violations(page), where))
    # The host form saying what is wrong: the end before the start.
    page = await participant(browser, server.url, PHONE)
    await page.fill("#host-title", "Vigil at the courthouse")
    await page.fill("#host-venue", "Front steps")
    await page.fill("#host-city", "Conroe")
    await page.select_option("#host-state", "TX")
    await page.fill("#host-starts", f"{JANUARY_15}T18:00")
    await page.fill("#host-ends", f"{JANUARY_15}T17:00")
    await page.fill("#host-contact", "host@example.org")
    await page.click("[data-field=host-submit]")
    await expect(page.locator("[data-field=host-error]")).to_be_visible(timeout=WAIT_MS)
    reports.append(readable(await violations(page), "the host form showing an error"))
    no_violations(reports)


async def test_the_console_passes_axe_with_the_desk_and_the_post_count_showing(browser, server):
    url = server.url
    await live_day(url)
    # Something in every list: an action and a check-in waiting, posts counted.
    _, link = await approved_action(url, title="Rally at the Federal Building")
    status, _ = await call(url, "POST", api_path(url, link), {"headcount": 30, "message": "Thirty here"})
    assert status == 201
    status, _ = await call(url, "POST", "/api/actions", action(title="Caravan to the processing center"))
    assert status == 201
    now = datetime.now(UTC).isoformat(timespec="seconds")
    status, _ = await send(url, [post(n, when=now) for n in range(3)])
    assert status == 200

    page = await console(browser, url)
    await expect(page.locator(".queue .queue-row")).to_have_count(2, timeout=WAIT_MS)
    await expect(page.locator(".posts-desk")).to_be_visible(timeout=WAIT_MS)
    # Approving the action shows its check-in link.
    await page.locator(".queue-row", has_text="Caravan").locator("[data-decide=approve]").click()
    await expect(page.locator(".link-item")).to_be_visible(timeout=WAIT_MS)
    await page.screenshot(path=shot("a11y-console-1440.png"), full_page=True)
    reports = [readable(await violations(page), "the console")]
    await page.click("[data-command=hold]")
    await expect(page.locator("[data-field=held]")).to_be_visible(timeout=WAIT_MS)
    reports.append(readable(await violations(page), "the console, held"))
    no_violations(reports)


async def test_the_sign_in_page_passes_axe_with_and_without_its_error(browser, server):
    page = await open_page(browser, PHONE, f"{server.url}/producer")
    reports = [readable(await violations(page), "the sign-in page")]
    small = await page.evaluate(SMALL_TARGETS)
    await page.fill("input[name=password]", "not the password")
    await page.click("button[type=submit]")
    await expect(page.locator("#login-error")).to_be_visible(timeout=WAIT_MS)
    await page.screenshot(path=shot("a11y-sign-in-error-phone.png"))
    reports.append(readable(await violations(page), "the sign-in page with its error"))
    no_violations(reports)
    assert small == [], "targets under 44x44 px on the sign-in page:\n" + "\n".join(small)


async def test_the_check_in_page_a_hosts_link_opens_passes_axe(browser, server):
    _, link = await approved_action(server.url)
    page = await (await browser.new_context(viewport=PHONE, bypass_csp=True)).new_page()
    answer = await page.goto(link)
    assert answer is not None
    if answer.status != 200 or "text/html" not in answer.headers.get("content-type", ""):
        pytest.skip(f"no check-in page yet: GET of a host's link answers {answer.status}")
    await page.screenshot(path=shot("a11y-check-in-phone.png"), full_page=True)
    no_violations([readable(await violations(page), "the check-in page")])
    small = await page.evaluate(SMALL_TARGETS)
    assert small == [], "targets under 44x44 px on the check-in page:\n" + "\n".join(small)


# --- targets, keyboard, motion, announcements ------------------------------------------------


async def test_every_control_on_the_participant_page_is_at_least_44_px_on_a_phone(browser, server):
    await live_day(server.url)
    page = await participant(browser, server.url, PHONE)
    small = await page.evaluate(SMALL_TARGETS)
    assert small == [], "targets under 44x44 px on a 390 px phone:\n" + "\n".join(small)


# What a host types into each field of the host form, by its name: a date and time goes in
# its subfields (month, day, year; Tab; hour, minute, AM/PM, in an en-US browser); a select
# takes the start of an option's label. Fields not named here are left as they are.
TYPED = {
    "title": ["Vigil at the courthouse"],
    "type": ["Vigil"],
    "venue": ["Front steps"],
    "city": ["Conroe"],
    "state": ["Texas"],
    "starts_at": [f"{JANUARY_15:%m%d%Y}", "0600P"],
    "ends_at": [f"{JANUARY_15:%m%d%Y}", "0800P"],
    "contact": ["host@example.org"],
}
FOCUSED = """() => { const el = document.activeElement, form = document.querySelector('[data-field=host-form]');
  return {inForm: form.contains(el), name: el.name || el.dataset.field || el.localName,
          opensForm: el.getAttribute('aria-controls') === form.id && el.getAttribute('aria-expanded') === 'false'}; }"""
# The form's controls a Tab can reach, in document order: the order focus must follow.
FORM_ORDER = """() => Array.from(document.querySelector('[data-field=host-form]').elements)
  .filter(el => el.tabIndex >= 0 && !el.disabled && el.getClientRects().length)
  .map(el => el.name || el.dataset.field)"""


async def test_a_host_fills_in_and_sends_the_form_with_the_keyboard_alone(browser, server):
    page = await open_page(browser, PHONE, f"{server.url}/", locale="en-US")
    await connected(page)
    # From the top of the page, Tab until the form (opening it if it is folded away).
    for _ in range(300):
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUSED)
        if focused["opensForm"]:
            await page.keyboard.press("Enter")
        if focused["inForm"]:
            break
    else:
        pytest.fail("Tab never reached the host form")

    order = await page.evaluate(FORM_ORDER)
    visited = []
    while focused["inForm"] and focused["name"] != "host-submit" and len(visited) < len(order):
        visited.append(focused["name"])
        for n, chunk in enumerate(TYPED.get(focused["name"], [])):
            if n:
                await page.keyboard.press("Tab")  # to the field's next part
            await page.keyboard.type(chunk)
        for _ in range(4):  # Tab on, past whatever parts of this field are left
            await page.keyboard.press("Tab")
            now = await page.evaluate(FOCUSED)
            if now != focused:
                break
        focused = now
    assert [*visited, focused["name"]] == order, "focus does not follow the form's order"

    await page.keyboard.press("Enter")
    thanks = page.locator("[data-field=host-thanks]")
    await expect(thanks).to_be_focused(timeout=WAIT_MS)
    await expect(thanks).not_to_be_empty()
    _, waiting = await call(server.url, "GET", "/api/actions?status=pending", **PRODUCER)
    assert [a["title"] for a in waiting["actions"]] == ["Vigil at the courthouse"]


async def test_with_reduced_motion_nothing_moves_on_the_participant_page_or_the_console(browser, server):
    await live_day(server.url)
    # A new check-in pulses its pin: forced here, as actions.js skips it with reduced motion.
    pulse = "document.querySelector('.map-pins .pin').classList.add('pulse')"
    page = await participant(browser, server.url, PHONE)
    await page.evaluate(pulse)
    assert await page.evaluate(MOVING), "the pulse this test looks for is gone: look for what moves now"

    reports = []
    page = await participant(browser, server.url, PHONE, reduced_motion="reduce")
    await page.evaluate(pulse)
    reports += await page.evaluate(MOVING)
    page = await console(browser, server.url)
    await page.emulate_media(reduced_motion="reduce")
    reports += await page.evaluate(MOVING)
    assert reports == [], "moves with prefers-reduced-motion: reduce:\n" + "\n".join(reports)


async def test_a_segment_change_is_announced_politely(browser, server):
    await live_day(server.url)
    page = await participant(browser, server.url, PHONE)
    # The polite live regions that show the segment on now, as the page loaded (a region
    # added later is not announced; "up next" already names the next segment).
    regions = page.locator("[data-a11y-region]")
    await page.evaluate(
        """title => document.querySelectorAll('[aria-live=polite], [role=status]').forEach(el => {
          if (el.textContent.includes(title)) el.setAttribute('data-a11y-region', '');
        })""",
        LIVE,
    )
    await expect(regions).not_to_have_count(0)
    await command(server.url, {"command": "jump", "segment": "digital-action-hour"})
    await expect(regions.filter(has_text=NEXT)).not_to_have_count(0, timeout=WAIT_MS)
