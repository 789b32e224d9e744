"""Local actions in a real browser: the participant page's "Find and join an action",
"Check-ins" and "Host an action", and the check-in overlays (ticker, map, spotlight card).
What people submit (titles, cities, descriptions, check-in messages) reaches these pages as
text and only as text: markup, handlers and script URLs show literally, inject no element
and run nothing. The overlays obey the producers' kill switch and on-air delay.
Screenshots land in test-artifacts/."""

from __future__ import annotations

import io
import re
from datetime import UTC, date, datetime, timedelta
from html import unescape

import aiohttp
import pytest
from PIL import Image
from playwright.async_api import Page, expect

from eventrunner.checkins.forms import ACTION_TYPES
from eventrunner.checkins.places import STATES
from eventrunner.checkins.usmap import GEONAMES_CREDIT

from .browser import WAIT_MS, connected
from .builders import REPO, live_now_schedule
from .conftest import TOKEN
from .process import ServerProcess

# The next January 15, within a year (actions are hosted within about a year of now) and
# far from any daylight-saving change on either side of the Atlantic.
_TODAY = datetime.now(UTC).date()
JANUARY_15 = date(_TODAY.year + (date(_TODAY.year, 1, 15) <= _TODAY), 1, 15)

pytestmark = pytest.mark.browser

ARTIFACTS = REPO / "test-artifacts"
PRODUCER = {"Authorization": f"Bearer {TOKEN}"}
PHONE = {"width": 360, "height": 800}
DESKTOP = {"width": 1280, "height": 800}
OBS = {"width": 1920, "height": 1080}

# Each would set window.__xss or open a dialog if it ever became markup or ran.
PAYLOADS = [
    "<script>window.__xss = 'script'</script>",
    "<img src=x onerror=\"window.__xss='img';alert('img')\">",
    "javascript:window.__xss='url';alert('url')",
    "<svg onload=\"window.__xss='svg';alert('svg')\"></svg>",
    '"><b>bold</b><a href="javascript:alert(1)">x</a>',
]
# Where submitted text shows on the participant page.
PAGE_SECTIONS = "#actions, #checkins"
INJECTED = "img, svg, script, b, a, iframe, object, embed"

# Recorded from before any page script runs: dialogs, CSP violations (an injected inline
# handler would be blocked by the page's Content-Security-Policy, and reported).
WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.sample || ''));
});
"""


@pytest.fixture
def server(tmp_path):
    process = ServerProcess([str(live_now_schedule(tmp_path / "day.yaml"))], tmp_path / "data").start()
    yield process
    process.kill()


def soon(hours: float = 1) -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=hours)


def action(hours: float = 1, **changes: object) -> dict:
    """A valid action starting in `hours`, with `changes`."""
    start = soon(hours)
    return {
        "title": "Vigil for those inside",
        "type": "vigil",
        "venue": "Courthouse lawn",
        "city": "Gadsden",
        "state": "AL",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "description": "Candles and songs.",
        "contact": "host@example.org",
        **changes,
    }


async def call(url: str, method: str, path: str, body: object = None, **headers: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        kwargs = {"json": body} if body is not None else {}
        async with session.request(method, url + path, headers=headers, **kwargs) as answer:
            return answer.status, await answer.json()


async def approved_action(url: str, hours: float = 1, **changes: object) -> tuple[str, str]:
    """(the action's id, its check-in link), approved by a producer."""
    status, created = await call(url, "POST", "/api/actions", action(hours, **changes))
    assert status == 201, created
    status, approved = await call(url, "POST", f"/api/actions/{created['id']}/approve", **PRODUCER)
    assert status == 200, approved
    return created["id"], approved["checkin_url"]


def api_path(url: str, link: str) -> str:
    """Where the check-in page a host's link opens posts its check-ins."""
    return link.removeprefix(url).replace("/checkin/", "/api/checkin/", 1)


async def approved_checkin(url: str, link: str, headcount: int, message: str) -> str:
    status, created = await call(
        url, "POST", api_path(url, link), {"headcount": headcount, "message": message}
    )
    assert status == 201, created
    status, approved = await call(url, "POST", f"/api/checkins/{created['id']}/approve", **PRODUCER)
    assert status == 200, approved
    return created["id"]


async def approved_photo_checkin(url: str, link: str, headcount: int, message: str) -> str:
    """A check-in with a photo (a plain 1200x800 JPEG), approved."""
    picture = io.BytesIO()
    Image.new("RGB", (1200, 800), (52, 108, 164)).save(picture, "JPEG")
    form = aiohttp.FormData()
    form.add_field("headcount", str(headcount))
    form.add_field("message", message)
    form.add_field("photo", picture.getvalue(), filename="gate.jpg", content_type="image/jpeg")
    path = api_path(url, link)
    async with aiohttp.ClientSession() as session, session.post(url + path, data=form) as answer:
        assert answer.status == 201, await answer.text()
        created = await answer.json()
    status, approved = await call(url, "POST", f"/api/checkins/{created['id']}/approve", **PRODUCER)
    assert status == 200, approved
    return created["id"]


async def set_air(url: str, **settings: object) -> None:
    """The producers' on-air settings: killed, delay_s, spotlight (an action's id or None)."""
    status, answer = await call(url, "POST", "/api/checkins/air", settings, **PRODUCER)
    assert status == 200, answer


async def watched_page(
    browser, viewport: dict, watch: str = WATCH, **context: object
) -> tuple[Page, list[str]]:
    """A page that records, before any of its scripts run, what `watch` sets up (CSP
    violations by default), and every dialog (dismissed)."""
    page = await (await browser.new_context(viewport=viewport, **context)).new_page()
    await page.add_init_script(watch)
    dialogs: list[str] = []

    async def dismiss(dialog) -> None:
        dialogs.append(dialog.message)
        await dialog.dismiss()

    page.on("dialog", dismiss)
    return page, dialogs


async def assert_nothing_ran(page: Page, dialogs: list[str], where: str) -> None:
    assert await page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == []
    assert await page.evaluate("window.__csp") == []
    assert await page.locator(where).locator(INJECTED).count() == 0
    assert await page.locator("a[href^='javascript:' i]").count() == 0


def shot(name: str) -> str:
    ARTIFACTS.mkdir(exist_ok=True)
    return str(ARTIFACTS / name)


# --- what people typed is text --------------------------------------------------------------


async def test_submitted_markup_shows_as_text_on_the_page_and_the_overlays(browser, server):
    url = server.url
    payload_actions: list[tuple[str, str]] = []  # (id, check-in link) of each payload's action
    for n, payload in enumerate(PAYLOADS):
        action_id, link = await approved_action(
            url,
            title=payload,
            venue=payload,
            city=payload,
            state="TX",
            detention_center=payload,
            description=payload,
        )
        await approved_checkin(url, link, 10 + n, payload)
        payload_actions.append((action_id, link))
    # And one the way most will look, checked in last: the newest, first in the feed.
    houston, houston_link = await approved_action(
        url, title="Caravan to the processing center", type="car caravan", city="Houston", state="TX"
    )
    await approved_checkin(url, houston_link, 40, "We are outside the processing center. Free them all!")

    for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page, dialogs = await watched_page(browser, viewport)
        await page.goto(f"{url}/")
        await connected(page)
        cards = page.locator("#actions .action-card")
        await expect(cards).to_have_count(len(PAYLOADS) + 1, timeout=WAIT_MS)
        await expect(page.locator("#checkins .checkin")).to_have_count(len(PAYLOADS) + 1)
        for payload in PAYLOADS:
            card = cards.filter(has=page.locator(".action-title", has_text=payload))
            await expect(card).to_have_count(1)
            await expect(card.locator("[data-field=description]")).to_have_text(payload)
            await expect(card.locator("[data-field=detention-center]")).to_have_text(
                f"Detention center: {payload}"
            )
            await expect(card.locator("[data-field=where]")).to_have_text(f"{payload} · {payload}, TX")
            await expect(
                page.locator("#checkins .message").filter(has_text=re.compile("^" + re.escape(payload) + "$"))
            ).to_have_count(1)
        lines = await page.locator("#checkins [data-field=line]").all_text_contents()
        assert lines[0] == "Houston, TX — 40 people: We are outside the processing center. Free them all!"
        assert f"{PAYLOADS[-1]}, TX — 14 people: {PAYLOADS[-1]}" in lines
        await expect(page.locator("#checkins [data-field=checkin-totals]")).to_have_text(
            f"{len(PAYLOADS) + 1} actions live · {sum(range(10, 10 + len(PAYLOADS))) + 40} people"
        )
        await assert_nothing_ran(page, dialogs, PAGE_SECTIONS)
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        await page.locator("#actions").scroll_into_view_if_needed()
        await page.screenshot(path=shot(f"checkins-participant-{name}.png"), full_page=True)

    page, dialogs = await watched_page(browser, OBS)
    await page.goto(f"{url}/overlays/checkin-ticker?seconds=4&preview=1")
    await connected(page)
    ticker = page.locator(".checkin-ticker")
    await expect(ticker).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    rows = ticker.locator(".ticker-items li")
    await expect(rows).to_have_count(len(PAYLOADS) + 1)
    # Newest first: the Houston check-in is on screen.
    await expect(ticker.locator("li[data-current=true]")).to_have_text(
        "Houston, TX — 40 people: We are outside the processing center. Free them all!"
    )
    texts = await rows.all_text_contents()
    for n, payload in enumerate(PAYLOADS):
        assert f"{payload}, TX — {10 + n} people: {payload}" in texts
    await expect(ticker.locator("[data-field=totals]")).to_have_text(
        f"{len(PAYLOADS) + 1} actions live · {sum(range(10, 10 + len(PAYLOADS))) + 40} people"
    )
    await page.screenshot(path=shot("checkins-ticker.png"))
    # Then, calmly, the next newest: the last payload.
    await expect(ticker.locator("li[data-current=true]")).to_contain_text(PAYLOADS[-1], timeout=WAIT_MS)
    await page.wait_for_timeout(800)  # its fade in
    await page.screenshot(path=shot("checkins-ticker-payload.png"))
    await assert_nothing_ran(page, dialogs, ".checkin-ticker")
    for element in ("html", "body"):
        colour = await page.evaluate(f"getComputedStyle(document.querySelector('{element}')).backgroundColor")
        assert colour == "rgba(0, 0, 0, 0)" or element == "body", (element, colour)

    # The map: a pin per action (the payloads' unknown cities at Texas's own point), titled
    # in text. A few not live yet elsewhere, small and dim; check-ins already on air when
    # the page loads never pulse.
    elsewhere = [("Seattle", "WA"), ("Chicago", "IL"), ("Atlanta", "GA"), ("New York", "NY")]
    for city, state in elsewhere:
        await approved_action(url, 3, title=f"Vigil in {city}", city=city, state=state)
    page, dialogs = await watched_page(browser, OBS)
    await page.goto(f"{url}/overlays/checkin-map?preview=1")
    await connected(page)
    plate = page.locator(".checkin-map")
    await expect(plate).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    pins = plate.locator(".pin")
    await expect(pins).to_have_count(len(PAYLOADS) + 1 + len(elsewhere))
    await expect(plate.locator(".pin[data-state=live]")).to_have_count(len(PAYLOADS) + 1)
    await expect(plate.locator(".pin[data-state=upcoming]")).to_have_count(len(elsewhere))
    await expect(plate.locator(".pin[data-pulse]")).to_have_count(0)
    titles = await plate.locator(".pin title").all_text_contents()
    for n, payload in enumerate(PAYLOADS):
        assert f"{payload} — {payload}, TX · live now, {10 + n} people" in titles
    assert "Vigil in Seattle — Seattle, WA · not live yet" in titles
    people = sum(range(10, 10 + len(PAYLOADS))) + 40
    await expect(plate.locator("[data-field=totals]")).to_have_text(
        f"{len(PAYLOADS) + 1} actions live now · {people} people"
    )
    await expect(plate.locator("[data-field=credit]")).to_have_text(GEONAMES_CREDIT)
    # Pins land on their states: Houston's south-east of the Texas point, Seattle's up
    # in the north-west corner (points in the map's 975x610 space).
    houston_pin = plate.locator(f".pin[data-action='{houston}'] .pin-dot")
    assert (float(await houston_pin.get_attribute("cx")), float(await houston_pin.get_attribute("cy"))) == (
        pytest.approx(510.6, abs=0.1),
        pytest.approx(509.2, abs=0.1),
    )
    # A new check-in on air: its pin pulses and a callout names it, as text.
    payload_action, payload_link = payload_actions[1]
    await approved_checkin(url, payload_link, 99, PAYLOADS[1])
    await expect(plate.locator(f".pin[data-action='{payload_action}']")).to_have_attribute(
        "data-pulse", "true", timeout=WAIT_MS
    )
    callout = plate.locator("[data-field=callout]")
    await expect(callout).to_have_attribute("data-visible", "true")
    await expect(callout).to_have_text(f"{PAYLOADS[1]}, TX — 99 people")
    # Then Houston's, with a photo: the callout moves there.
    await approved_photo_checkin(url, houston_link, 45, "Candles lit at the gate. We will be here all night.")
    await expect(callout).to_have_text("Houston, TX — 45 people", timeout=WAIT_MS)
    await expect(plate.locator(f".pin[data-action='{houston}']")).to_have_attribute("data-pulse", "true")
    await page.wait_for_timeout(250)  # the callout's fade in, the first ring spreading
    await page.screenshot(path=shot("checkins-map.png"))
    await assert_nothing_ran(page, dialogs, ".map-head, .map-pins, .map-callout")

    # The spotlight card: Houston with its photo, then each payload's action, swapped in.
    await set_air(url, spotlight=houston)
    page, dialogs = await watched_page(browser, OBS)
    await page.goto(f"{url}/overlays/spotlight?preview=1")
    await connected(page)
    card = page.locator(".spotlight")
    await expect(card).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    await expect(card.locator("[data-field=title]")).to_have_text("Caravan to the processing center")
    await expect(card.locator("[data-field=kicker]")).to_have_text("Spotlight · Car caravan")
    await expect(card.locator("[data-field=place]")).to_have_text("Houston, TX")
    await expect(card.locator("[data-field=count]")).to_have_text("45 people")
    await expect(card.locator("[data-field=message]")).to_have_text(
        "Candles lit at the gate. We will be here all night."
    )
    photo = card.locator("[data-field=photo]")
    assert re.fullmatch(r"/api/photos/[A-Za-z0-9_-]+\.jpg", await photo.get_attribute("src") or "")
    await expect(card).to_have_attribute("data-photo", "true")
    await page.wait_for_function("document.querySelector('.spotlight img').naturalWidth > 0")
    await page.screenshot(path=shot("checkins-spotlight.png"))
    for n, (action_id, _) in enumerate(payload_actions):
        await set_air(url, spotlight=action_id)
        await expect(card).to_have_attribute("data-action", action_id, timeout=WAIT_MS)
        await expect(card).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
        await expect(card.locator("[data-field=title]")).to_have_text(PAYLOADS[n])
        await expect(card.locator("[data-field=place]")).to_have_text(f"{PAYLOADS[n]}, TX")
        await expect(card.locator("[data-field=message]")).to_have_text(PAYLOADS[n])
        await expect(card.locator("[data-field=count]")).to_have_text(f"{99 if n == 1 else 10 + n} people")
        await expect(card).to_have_attribute("data-photo", "false")
    await page.wait_for_timeout(500)  # its entrance
    await page.screenshot(path=shot("checkins-spotlight-payload.png"))
    await assert_nothing_ran(page, dialogs, ".spotlight-body")
    assert await card.locator("img").count() == 1 and await photo.get_attribute("src") is None


async def test_the_ticker_waits_for_a_check_in_then_follows_live_and_obeys_the_air(browser, server):
    page, _ = await watched_page(browser, OBS)
    await page.goto(f"{server.url}/overlays/checkin-ticker")
    await connected(page)
    ticker = page.locator(".checkin-ticker")
    await expect(ticker).to_have_attribute("data-visible", "false")
    for element in ("html", "body"):
        colour = await page.evaluate(f"getComputedStyle(document.querySelector('{element}')).backgroundColor")
        assert colour == "rgba(0, 0, 0, 0)", (element, colour)

    el_paso, link = await approved_action(server.url, city="El Paso", state="TX")
    await approved_checkin(server.url, link, 1, "")
    await expect(ticker).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    await expect(ticker.locator("li[data-current=true]")).to_have_text("El Paso, TX — 1 person")
    await expect(ticker.locator("[data-field=totals]")).to_have_text("1 action live · 1 person")

    checkin = await approved_checkin(server.url, link, 25, "Twenty-five of us now")
    await expect(ticker.locator("li[data-current=true]")).to_have_text(
        "El Paso, TX — 25 people: Twenty-five of us now", timeout=WAIT_MS
    )
    await expect(ticker.locator("[data-field=totals]")).to_have_text("1 action live · 25 people")

    # A producer hides it: it comes off the ticker, the one before comes back on.
    status, _ = await call(server.url, "POST", f"/api/checkins/{checkin}/hide", **PRODUCER)
    assert status == 200
    await expect(ticker.locator("li")).to_have_count(1, timeout=WAIT_MS)
    await expect(ticker.locator("li[data-current=true]")).to_have_text("El Paso, TX — 1 person")

    # One longer than the band glides left to its end, after a moment to read its start.
    long = "We are still here at the gate and we are not leaving until they are free. " * 3
    await approved_checkin(server.url, link, 30, long.strip())
    current = ticker.locator("li[data-current=true]")
    await expect(current).to_contain_text("We are still here", timeout=WAIT_MS)
    text = current.locator(".ticker-text")
    assert await text.evaluate("el => getComputedStyle(el).transform") == "none"
    await expect(text).not_to_have_css("transform", "none", timeout=WAIT_MS)
    await page.screenshot(path=shot("checkins-ticker-long.png"))
    assert await page.evaluate("performance.getEntriesByType('navigation')[0].type") == "navigate"

    # The on-air delay: a check-in approved while it runs is in the topic's feed at once,
    # but not on the ticker until it has reached the air.
    await set_air(server.url, delay_s=600)
    held = await approved_checkin(server.url, link, 31, "Held back a while")
    await page.wait_for_function(
        "id => ER.client.topics.checkins.feed.some(item => item.id === id)", arg=held, timeout=WAIT_MS
    )
    assert await ticker.locator(f"li[data-checkin='{held}']").count() == 0
    await set_air(server.url, delay_s=0)
    await expect(ticker.locator(f"li[data-checkin='{held}']")).to_have_count(1, timeout=WAIT_MS)

    # The kill switch takes the ticker, the map and the spotlight card off air together,
    # and lifting it brings them back. The map steps aside while the spotlight card takes
    # its slot, and comes back after it.
    await set_air(server.url, spotlight=el_paso)
    overlays = {"checkin-ticker": ticker}
    for name, selector in (("checkin-map", ".checkin-map"), ("spotlight", ".spotlight")):
        other = await page.context.new_page()
        await other.goto(f"{server.url}/overlays/{name}")
        await connected(other)
        overlays[name] = other.locator(selector)
    the_map = overlays.pop("checkin-map")
    for graphic in overlays.values():
        await expect(graphic).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    await expect(the_map).to_have_attribute("data-visible", "false")
    await set_air(server.url, killed=True)
    for graphic in overlays.values():
        await expect(graphic).to_have_attribute("data-visible", "false", timeout=WAIT_MS)
    await set_air(server.url, killed=False)
    for graphic in overlays.values():
        await expect(graphic).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    await set_air(server.url, spotlight=None)
    await expect(the_map).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    await set_air(server.url, killed=True)
    await expect(the_map).to_have_attribute("data-visible", "false", timeout=WAIT_MS)


# --- hosting an action --------------------------------------------------------------------


async def test_a_host_sends_an_action_from_the_form_and_a_producer_sees_it_waiting(browser, server):
    page, dialogs = await watched_page(browser, PHONE, timezone_id="Europe/Berlin")
    await page.goto(f"{server.url}/")
    await connected(page)
    form = page.locator("#host-form")
    await expect(form).to_be_visible()
    await expect(page.locator("[data-field=host-nojs]")).to_be_hidden()

    await page.fill("#host-title", "Vigil at the <b>Montgomery</b> Processing Center")
    await page.select_option("#host-type", "vigil")
    await page.fill("#host-venue", "Front gate")
    await page.fill("#host-city", "Conroe")
    await page.select_option("#host-state", "TX")
    # The state picks the zone its times are read in.
    await expect(page.locator("#host-zone")).to_have_value("America/Chicago")
    await page.fill("#host-detention", "Montgomery Processing Center")
    await page.fill("#host-starts", f"{JANUARY_15}T18:00")
    await page.fill("#host-ends", f"{JANUARY_15}T17:00")  # before it starts: the server says no
    await page.fill("#host-description", "Bring candles.")
    await page.fill("#host-contact", "organizer@example.org")
    await page.click("[data-field=host-submit]")
    error = page.locator("[data-field=host-error]")
    await expect(error).to_be_visible(timeout=WAIT_MS)
    await expect(error).to_contain_text("ends_at must come after starts_at")
    await expect(page.locator("#host-ends")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#host-ends")).to_be_focused()
    await page.screenshot(path=shot("checkins-host-error-phone.png"), full_page=True)

    await page.fill("#host-ends", f"{JANUARY_15}T20:30")
    await page.click("[data-field=host-submit]")
    await expect(page.locator("[data-field=host-thanks]")).to_have_text(
        "Thanks — a producer will review it.", timeout=WAIT_MS
    )
    await expect(error).to_be_hidden()
    await expect(page.locator("#host-ends")).not_to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#host-title")).to_have_value("")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await assert_nothing_ran(page, dialogs, PAGE_SECTIONS)

    status, pending = await call(server.url, "GET", "/api/actions?status=pending", **PRODUCER)
    assert status == 200
    [sent] = pending["actions"]
    assert sent["title"] == "Vigil at the <b>Montgomery</b> Processing Center"
    assert (sent["city"], sent["state"], sent["type"]) == ("Conroe", "TX", "vigil")
    assert sent["detention_center"] == "Montgomery Processing Center"
    assert sent["contact"] == "organizer@example.org"
    assert sent["timezone"] == "America/Chicago"
    # 18:00 in Houston's winter (UTC-6), not in the browser's Berlin.
    assert sent["starts_at"] == int(datetime(JANUARY_15.year, 1, 16, 0, 0, tzinfo=UTC).timestamp() * 1000)
    assert sent["ends_at"] == int(datetime(JANUARY_15.year, 1, 16, 2, 30, tzinfo=UTC).timestamp() * 1000)
    # Not public until a producer approves it.
    assert (await call(server.url, "GET", "/api/actions"))[1] == {"actions": [], "live": {}}

    # Approved, it is listed live, in the viewer's zone first and the action's second.
    status, _ = await call(server.url, "POST", f"/api/actions/{sent['id']}/approve", **PRODUCER)
    assert status == 200
    card = page.locator(f"[data-action='{sent['id']}']")
    await expect(card).to_be_visible(timeout=WAIT_MS)
    await expect(card.locator(".action-title")).to_have_text(
        "Vigil at the <b>Montgomery</b> Processing Center"
    )
    await expect(card.locator("[data-field=when-yours]")).to_contain_text("1:00")  # Berlin, the next day
    await expect(card.locator("[data-field=when-yours]")).to_contain_text("Jan 16")
    await expect(card.locator("[data-field=when-local]")).to_contain_text("6:00")
    await expect(card.locator("[data-field=when-local]")).to_contain_text("CST")
    await expect(card.locator("[data-field=when-local]")).to_contain_text("Jan 15")
    await card.scroll_into_view_if_needed()
    await page.screenshot(path=shot("checkins-host-approved-phone.png"))


async def test_the_list_filters_by_state_and_searches_by_city(browser, server):
    url = server.url
    await approved_action(url, title="Rally in Houston", type="rally", city="Houston", state="TX")
    await approved_action(url, 3, title="Vigil in El Paso", city="El Paso", state="TX")  # the later one
    await approved_action(url, title="Caravan in LA", type="caravan", city="Los Angeles", state="CA")
    await approved_action(
        url, title="Press in San José", type="press conference", city="San José", state="CA"
    )
    page, _ = await watched_page(browser, DESKTOP, timezone_id="America/Los_Angeles")
    await page.goto(f"{url}/")
    await connected(page)
    titles = page.locator("#actions .action-title")
    await expect(titles).to_have_count(4, timeout=WAIT_MS)
    # States with actions, with how many.
    options = await page.locator("#actions-state option").all_text_contents()
    assert options == ["All states (4)", "California (2)", "Texas (2)"]

    await page.select_option("#actions-state", "TX")
    await expect(titles).to_have_text(["Rally in Houston", "Vigil in El Paso"])  # by start
    await page.fill("#actions-city", "paso")
    await expect(titles).to_have_text(["Vigil in El Paso"])
    await expect(page.locator("[data-field=actions-count]")).to_have_text("1 action of 4.")
    await page.fill("#actions-city", "los")
    await expect(titles).to_have_count(0)
    await expect(page.locator("[data-field=actions-count]")).to_contain_text("No actions match")
    await page.select_option("#actions-state", "")
    await expect(titles).to_have_text(["Caravan in LA"])
    await page.fill("#actions-city", "san jose")  # without the accent
    await expect(titles).to_have_text(["Press in San José"])
    await page.screenshot(path=shot("checkins-filter-desktop.png"), full_page=True)

    # A new one, approved while the page is open, joins the filtered list by itself.
    await page.select_option("#actions-state", "CA")
    await page.fill("#actions-city", "")
    await approved_action(url, title="Vigil in Adelanto", city="Adelanto", state="CA")
    await expect(titles).to_have_count(3, timeout=WAIT_MS)
    await expect(page.locator("#actions-state option:checked")).to_have_text("California (3)")
    assert await page.evaluate("performance.getEntriesByType('navigation')[0].type") == "navigate"


async def test_without_javascript_the_sections_say_what_they_need(browser, server):
    context = await browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{server.url}/")
    await expect(page.locator("#actions-heading")).to_have_text("Find and join an action")
    await expect(page.locator("[data-field=actions-count]")).to_contain_text("needs JavaScript")
    await expect(page.locator("[data-field=host-nojs]")).to_be_visible()
    await expect(page.locator("#host-form")).to_be_hidden()
    await expect(page.locator("#actions-state")).to_be_hidden()
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


# --- the page's lists mirror the server's --------------------------------------------------


async def test_the_forms_states_zones_and_kinds_are_the_servers(running):
    async with aiohttp.ClientSession() as session, session.get(f"{running.url}/") as answer:
        page = await answer.text()

    def select(element_id: str) -> str:
        start = page.index(f'id="{element_id}"')
        return page[start : page.index("</select>", start)]

    option = r'<option value="(\w\w)" data-zone="([^"]+)">([^<]+)</option>'
    states = {code: (unescape(name), zone) for code, zone, name in re.findall(option, select("host-state"))}
    assert states == STATES
    assert tuple(re.findall(r'<option value="([^"]+)"', select("host-type"))) == ACTION_TYPES
