"""The hashtag post count in a real browser: the `post-counter` and `top-post` overlays and
the participant page's live line, fed through the signed webhook of a real server process.

The counter counts up to each new total, but never replays: a reload puts the present total
up at once (every value the page ever showed is recorded from before its scripts run, so a
count up from 0 would be seen), and so does reduced motion. A post's text is only ever text:
markup in it injects nothing and runs nothing. Screenshots land in test-artifacts/."""

from __future__ import annotations

import hashlib
import hmac
import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import orjson
import pytest
from playwright.async_api import Page, expect

from .browser import WAIT_MS, connected
from .process import ServerProcess
from .test_checkins_browser import DESKTOP, INJECTED, OBS, PHONE, PRODUCER, shot, watched_page

pytestmark = pytest.mark.browser

SECRET = "webhook-secret-for-browser-tests"
TAG = "#CommunitiesNotCages"
TOP_POST_PAYLOAD = (
    "<img src=x onerror=\"window.__xss='img';alert('img')\"> <script>window.__xss='script'</script>"
    ' "><b>bold</b> Free them all! ' + TAG
)

# Recorded from before any page script runs: every total the page received (the `posts`
# documents handed to ER.follow's callbacks), every text the counter's total and the
# participant page's total ever had (in order, without repeats), every entrance of a graphic
# and whether it was instant (no transition), and CSP violations.
WATCH = """
window.__received = [];
window.ER = {};
Object.defineProperty(window.ER, 'follow', {
  configurable: true,
  get: function () { return this.__follow; },
  set: function (follow) {
    this.__follow = function (topic, onTopic) {
      return follow(topic, topic !== 'posts' ? onTopic : function (doc) {
        window.__received.push(doc.total);
        onTopic(doc);
      });
    };
  }
});
window.__totals = [];
window.__lines = [];
window.__entrances = [];
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.sample || ''));
});
function __keep(list, el) {
  if (!el) return;
  var text = el.textContent;
  if (text && list[list.length - 1] !== text) list.push(text);
}
new MutationObserver(function (records) {
  __keep(window.__totals, document.querySelector('.post-counter [data-field="total"]'));
  __keep(window.__lines, document.querySelector('[data-field="post-count-total"]'));
  records.forEach(function (r) {
    if (r.type === 'attributes' && r.attributeName === 'data-visible' && r.oldValue !== 'true' &&
        r.target.dataset.visible === 'true') {
      var names = Array.prototype.filter.call(r.target.classList, function (name) {
        return name !== 'graphic' && name !== 'plate' && name !== 'instant';
      });
      window.__entrances.push({ graphic: names.join(' '), instant: r.target.classList.contains('instant') });
    }
  });
}).observe(document, { subtree: true, childList: true, characterData: true, attributes: true,
                       attributeOldValue: true, attributeFilter: ['data-visible'] });
"""

_ids = itertools.count(1)


def storm_day(path: Path) -> Path:
    """Today (UTC) with a Twitterstorm that began five minutes ago; posts are counted over
    its time, so none from before it (or from tomorrow, near midnight) gets in the way."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    path.write_text(f"""
event: {{title: Count day, timezone: UTC, date: "{start:%Y-%m-%d}", hashtags: ["{TAG}"]}}
segments:
  - id: storm
    title: Twitterstorm
    kind: twitterstorm
    start: "{start:%Y-%m-%d %H:%M}"
    duration: 1h
    sample_posts: ["Shut down detention now. {TAG}"]
    cues:
      - {{id: figure, at: 50m, kind: stat, figure: "18,000+", label: people detained,
          as_of: 2022-03-03, source: DWN, take: manual}}
posts:
  window: [storm]
""")
    return path


@pytest.fixture
def server(tmp_path, monkeypatch):
    monkeypatch.setenv("EVENTRUNNER_WEBHOOK_SECRET", SECRET)  # ServerProcess passes os.environ on
    process = ServerProcess([str(storm_day(tmp_path / "day.yaml"))], tmp_path / "data").start()
    yield process
    process.kill()


def post(text: str = f"Free them all {TAG}", platform: str = "bluesky") -> dict:
    """A post made just now, with an id never used before."""
    return {
        "platform": platform,
        "id": f"p{next(_ids)}",
        "created_at": datetime.now(UTC).isoformat(),
        "text": text,
    }


async def send(url: str, posts: list[dict]) -> None:
    """Through the signed webhook, as any tool would: all counted."""
    body = orjson.dumps(posts)
    digest = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"X-Eventrunner-Signature": f"sha256={digest}", "Content-Type": "application/json"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/api/posts/webhook", data=body, headers=headers) as answer,
    ):
        result = await answer.json()
        assert answer.status == 200 and result["counted"] == len(posts), result


async def producer_call(url: str, path: str, body: dict) -> dict:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + path, json=body, headers=PRODUCER) as answer,
    ):
        result = await answer.json()
        assert answer.status == 200, result
        return result


async def settings(url: str, **changes: object) -> dict:
    """The producers' goal and top post (`top`: a counted post's "<platform>:<id>")."""
    return await producer_call(url, "/api/posts/settings", changes)


async def total(url: str) -> int:
    async with aiohttp.ClientSession() as session, session.get(url + "/api/posts") as answer:
        return (await answer.json())["total"]


async def has_posts(page: Page) -> None:
    """Until the page holds the `posts` topic's document."""
    await page.wait_for_function("window.ER && ER.client && !!ER.client.topics.posts", timeout=WAIT_MS)


def numbers(texts: list[str]) -> list[int]:
    return [int(text.replace(",", "")) for text in texts]


async def shown_and_received(page: Page) -> tuple[list[int], set[int]]:
    """The totals the counter showed, in order, and those the page was sent."""
    shown = numbers(await page.evaluate("window.__totals"))
    return shown, set(await page.evaluate("window.__received"))


async def test_the_counter_counts_up_to_new_totals_but_never_from_zero_on_a_reload(browser, server):
    url = server.url
    page, dialogs = await watched_page(browser, OBS, WATCH)
    await page.goto(f"{url}/overlays/post-counter?preview=1")
    await connected(page)
    await has_posts(page)
    counter = page.locator(".post-counter")
    figure = counter.locator("[data-field=total]")
    await expect(counter).to_have_attribute("data-visible", "false")  # nothing counted, no goal

    await send(url, [post() for _ in range(5)])
    await expect(counter).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    await expect(figure).to_have_text("5")
    await expect(counter.locator("[data-field=unit]")).to_have_text("posts")
    await expect(counter.locator("[data-field=hashtag]")).to_have_text(TAG)
    await expect(counter).to_have_attribute("data-goal", "false")

    await settings(url, goal=50)
    await expect(counter).to_have_attribute("data-goal", "true", timeout=WAIT_MS)
    await expect(counter.locator("[data-field=goal]")).to_have_text("5 of 50")
    bar = counter.locator("[data-field=goal-bar]")
    assert await bar.evaluate("bar => bar.style.width") == "10%"

    # 40 more: the figure counts up to 45 through numbers the server never sent.
    await send(url, [post(platform="mastodon") for _ in range(40)])
    await expect(figure).to_have_text("45", timeout=WAIT_MS)
    await expect(counter.locator("[data-field=goal]")).to_have_text("45 of 50")
    assert await bar.evaluate("bar => bar.style.width") == "90%"
    shown, received = await shown_and_received(page)
    assert shown[-1] == 45 and shown == sorted(shown), (shown, sorted(received))
    counted = [n for n in shown[shown.index(5) + 1 :] if n not in received]
    assert len(counted) >= 3 and all(5 < n < 45 for n in counted), f"it jumped: {shown}, sent {received}"
    # The sparkline of the last 30 minutes: a line, this minute's stretch and a dot.
    assert await counter.locator("svg .spark-line").get_attribute("points")
    assert await counter.locator("svg .spark-now").get_attribute("points")
    assert await counter.locator("svg .spark-dot").count() == 1
    await page.screenshot(path=shot("post-counter.png"))
    assert await page.evaluate("window.__entrances") == [{"graphic": "post-counter", "instant": False}]

    # A reload: the present total at once, never counting up to it, and no entrance replayed.
    # (A counter that counted up from 0, or from anything, would have shown other numbers.)
    assert await total(url) == 45
    await page.reload()
    await connected(page)
    await expect(figure).to_have_text("45", timeout=WAIT_MS)
    await page.evaluate("new Promise(requestAnimationFrame)")
    assert await figure.text_content() == "45"
    assert await page.evaluate("window.__totals") == ["45"]
    entrances = await page.evaluate("window.__entrances")
    assert entrances and all(entrance["instant"] for entrance in entrances), entrances

    # A stat card takes the counter's place: it steps aside, then comes back as it was.
    await producer_call(url, "/api/show/commands", {"command": "take", "cue": "figure"})
    await expect(counter).to_have_attribute("data-visible", "false", timeout=WAIT_MS)
    await producer_call(url, "/api/show/commands", {"command": "clear", "slot": "card"})
    await expect(counter).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    assert await page.evaluate("window.__totals") == ["45"]
    assert dialogs == [] and await page.evaluate("window.__csp") == []

    # With reduced motion the figure jumps: it shows only totals the server sent.
    calm, _ = await watched_page(browser, OBS, WATCH, reduced_motion="reduce")
    await calm.goto(f"{url}/overlays/post-counter")
    await connected(calm)
    calm_figure = calm.locator(".post-counter [data-field=total]")
    await expect(calm_figure).to_have_text("45", timeout=WAIT_MS)
    await send(url, [post(platform="threads") for _ in range(5)])
    await expect(calm_figure).to_have_text("50", timeout=WAIT_MS)
    await expect(calm.locator(".post-counter [data-field=goal]")).to_have_text("50 of 50")
    await expect(calm.locator(".post-counter")).to_have_attribute("data-reached", "true")
    shown, received = await shown_and_received(calm)
    assert shown[0] == 45 and shown[-1] == 50 and set(shown) <= received, (shown, received)


async def test_the_top_post_card_shows_markup_as_text_and_swaps_without_replaying(browser, server):
    url = server.url
    payload, plain = post(TOP_POST_PAYLOAD), post(f"We marched to the field office. {TAG}", "mastodon")
    await send(url, [payload, plain, post()])
    page, dialogs = await watched_page(browser, OBS, WATCH)
    await page.goto(f"{url}/overlays/top-post?preview=1")
    await connected(page)
    await has_posts(page)
    card = page.locator(".top-post")
    await expect(card).to_have_attribute("data-visible", "false")  # no top post yet

    await settings(url, top=f"bluesky:{payload['id']}")
    await expect(card).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    await expect(card.locator("[data-field=platform]")).to_have_text("Bluesky")
    await expect(card.locator("[data-field=hashtag]")).to_have_text(TAG)
    assert await card.locator("[data-field=text]").text_content() == TOP_POST_PAYLOAD
    assert await card.locator(INJECTED).count() == 0
    assert await page.evaluate("typeof window.__xss") == "undefined"
    assert dialogs == [] and await page.evaluate("window.__csp") == []
    # Nothing leaves the card.
    box = await card.bounding_box()
    text_box = await card.locator("[data-field=text]").bounding_box()
    assert box and text_box and text_box["y"] + text_box["height"] <= box["y"] + box["height"]
    await page.wait_for_timeout(500)  # its entrance
    await page.screenshot(path=shot("top-post.png"))
    first_key = await card.get_attribute("data-post")

    # Another post taken: the card swaps (off, then on with the new one).
    await settings(url, top=f"mastodon:{plain['id']}")
    await expect(card.locator("[data-field=text]")).to_have_text(plain["text"], timeout=WAIT_MS)
    await expect(card).to_have_attribute("data-visible", "true")
    await expect(card.locator("[data-field=platform]")).to_have_text("Mastodon")
    assert await card.get_attribute("data-post") not in (None, first_key)
    assert [entrance["instant"] for entrance in await page.evaluate("window.__entrances")] == [False, False]

    # A reload puts the card up as it is, without its entrance; taking it off hides it.
    await page.reload()
    await connected(page)
    await expect(card).to_have_attribute("data-visible", "true", timeout=WAIT_MS)
    await expect(card.locator("[data-field=text]")).to_have_text(plain["text"])
    assert await page.evaluate("window.__entrances") == [{"graphic": "top-post", "instant": True}]
    await settings(url, top=None)
    await expect(card).to_have_attribute("data-visible", "false", timeout=WAIT_MS)


async def test_the_participant_page_shows_the_live_total_beside_the_sample_posts(browser, server):
    url = server.url
    await send(url, [post() for _ in range(12)])
    await settings(url, goal=20000)
    for viewport, name in ((PHONE, "phone"), (DESKTOP, "desktop")):
        page, dialogs = await watched_page(browser, viewport, WATCH)
        await page.goto(f"{url}/")
        await connected(page)
        count = page.locator("#segment-storm [data-field=post-count]")
        await expect(count).to_be_visible(timeout=WAIT_MS)
        await expect(count.locator(".post-count-line")).to_have_text(
            f"12 posts with {TAG} so far · goal 20,000"
        )
        # Not a live region itself; its summary is, and says nothing of what the page opened with.
        assert await count.locator(".post-count-line").get_attribute("aria-live") == "off"
        summary = count.locator("[data-field=post-count-summary]")
        assert await summary.get_attribute("aria-live") == "polite"
        assert await summary.text_content() == ""
        assert await page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
        await count.scroll_into_view_if_needed()
        await page.screenshot(path=shot(f"posts-participant-{name}.png"))
        assert dialogs == [] and await page.evaluate("window.__csp") == []

    # It follows the count live; the summary waits its minute.
    await send(url, [post(platform="threads") for _ in range(3)])
    await expect(count.locator("[data-field=post-count-total]")).to_have_text("15", timeout=WAIT_MS)
    lines = numbers(await page.evaluate("window.__lines"))
    assert lines[0] == 12 and lines[-1] == 15 and set(lines) <= set(await page.evaluate("window.__received"))
    assert await summary.text_content() == ""
