"""Graphics that cannot collide, in a real browser: one 1920x1080 scene with every graphic,
twice (the program overlay, and every single overlay stacked as OBS would stack its browser
sources), through every graphic cue of both shipped schedules with the all-day graphics up
(clock, up next, the check-in map and ticker, the post counter and the top post) and the
spotlight card. After each change, no two visible graphics' boxes intersect and every box
lies inside the title-safe area; long texts shrink, then wrap or are cut, inside their box.
Screenshots land in test-artifacts/ (scene-program.png, scene-all-overlays.png, ...)."""

from __future__ import annotations

import asyncio
import itertools
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import yaml
from aiohttp.test_utils import TestServer
from playwright.async_api import Frame, Page

from eventrunner.app import build_server
from eventrunner.config import Settings
from eventrunner.web.overlays import FONTS, OVERLAYS

from .browser import WAIT_MS
from .builders import CNC, FREE_THEM_ALL, REPO, at
from .test_checkins_browser import OBS, approved_action, approved_checkin, set_air, shot
from .test_posts_browser import SECRET, post, producer_call, send, settings

pytestmark = pytest.mark.browser

# Title-safe: 90% of the frame, 5% in from each edge (96 px of 1920, 54 px of 1080).
SAFE = {"left": 96, "top": 54, "right": 1824, "bottom": 1026}
SINGLES = [o.name for o in OVERLAYS if o.name != "program"]
GRAPHIC_OF_KIND = {"lower_third": "lower-third", "stat": "stat-card", "quote": "quote-card", "cta": "cta"}
# Who steps aside for whom (static/js/overlay.js YIELDS, docs/OVERLAYS.md "Slots").
YIELDS = {
    "checkin-map": {"spotlight"},
    "post-counter": {"stat-card", "quote-card"},
    "top-post": {"stat-card", "quote-card"},
    "up-next": {"lower-third"},
    "checkin-ticker": {"cta"},
}
LONG_FIGURE = "1,234,567,890,123,456,789,012,345,678,90"  # 40 characters
LONG_NAME = ("Representative of the Interfaith Coalition for Immigrant Justice " * 4)[:200]

# Each visible graphic of a document: its box, and whether its content is cut by the box.
BOXES = """() => Array.from(document.querySelectorAll('.graphic[data-visible="true"]')).map(el => {
  const r = el.getBoundingClientRect();
  return {name: el.dataset.graphic, left: r.left, top: r.top, right: r.right, bottom: r.bottom,
          spills: el.scrollWidth > el.clientWidth || el.scrollHeight > el.clientHeight};
})"""
# Each fitted text of the visible graphics: its own box and its text's extent, its graphic's
# box, and whether it is cut (the last line that fits ends in an ellipsis).
FITTED = """() => Array.from(document.querySelectorAll('.graphic[data-visible="true"] [data-fit]'))
  .filter(el => el.textContent).map(el => {
    const r = el.getBoundingClientRect();
    const g = el.closest('.graphic').getBoundingClientRect();
    const css = getComputedStyle(el);
    return {field: el.closest('.graphic').dataset.graphic + ' ' + el.dataset.field, size: parseFloat(css.fontSize),
            lineHeight: parseFloat(css.lineHeight), clamp: css.webkitLineClamp, fit: el.dataset.fit,
            scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
            scrollHeight: el.scrollHeight, clientHeight: el.clientHeight,
            box: [r.left, r.top, r.right, r.bottom], graphic: [g.left, g.top, g.right, g.bottom]};
  })"""
# Recorded from before an overlay's scripts run: each time a graphic comes on while another
# whose place it shares is still to be seen (in layout boxes, which transitions do not move).
MEETINGS = """
window.__meetings = [];
new MutationObserver(records => records.forEach(r => {
  const el = r.target;
  if (!el.classList.contains('graphic') || el.dataset.visible !== 'true' || r.oldValue === 'true') return;
  const box = g => [g.offsetLeft, g.offsetTop, g.offsetLeft + g.offsetWidth, g.offsetTop + g.offsetHeight];
  const a = box(el);
  document.querySelectorAll('.graphic').forEach(other => {
    const b = box(other);
    if (other !== el && parseFloat(getComputedStyle(other).opacity) > 0.05 &&
        a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3]) {
      window.__meetings.push(el.dataset.graphic + ' over ' + other.dataset.graphic);
    }
  });
})).observe(document, {subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ['data-visible']});
"""
# Nothing is moving: no graphic is in its entrance or exit, none is waiting to come on.
SETTLED = """() => document.body.dataset.connection === 'connected' && document.getAnimations().every(
  a => !(a.effect && a.effect.target && a.effect.target.classList.contains('graphic')))"""


def wall_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture
async def start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[Callable[..., Awaitable[str]]]:
    """start(schedule, show time) -> the URL of a server whose clock reads that show time
    now and runs on at the real pace (the pages keep time between its answers)."""
    monkeypatch.setenv("EVENTRUNNER_WEBHOOK_SECRET", SECRET)
    started: list[TestServer] = []
    names = itertools.count()

    async def start(schedule: Path, show_time: int) -> str:
        shift = show_time - wall_ms()
        settings_ = Settings(schedule=schedule, data_dir=tmp_path / f"data{next(names)}")
        server = await build_server(settings_, clock=lambda: wall_ms() + shift)
        http = TestServer(server.app, host="127.0.0.1")
        await http.start_server()
        started.append(http)
        return str(http.make_url("")).rstrip("/")

    yield start
    for http in started:
        await http.close()


async def scene(browser, url: str, names: list[str], query: str = "", sockets: list | None = None) -> Page:
    """A 1920x1080 page holding each named overlay in a transparent full-size frame, one over
    the other, as OBS stacks browser sources (the overlays' own frame-ancestors policy wants
    a page of the server around them). `sockets` collects the websockets they open."""
    page = await (await browser.new_context(viewport=OBS)).new_page()
    if sockets is not None:
        page.on("websocket", lambda socket: sockets.append(socket))
    await page.add_init_script(MEETINGS)
    await page.goto(f"{url}/overlays/")
    await page.evaluate(
        """([names, query]) => {
          document.head.querySelectorAll('link').forEach(link => link.remove());
          document.body.replaceChildren();
          Object.assign(document.body.style, {margin: '0', width: '1920px', height: '1080px', overflow: 'hidden',
            background: 'radial-gradient(circle at 50% 40%, #8b7d6b, #3b4654 60%, #1e2530)'});
          names.forEach(name => {
            const frame = document.createElement('iframe');
            frame.src = '/overlays/' + name + query;
            Object.assign(frame.style, {position: 'absolute', left: '0', top: '0', width: '1920px',
              height: '1080px', border: '0', background: 'transparent'});
            document.body.appendChild(frame);
          });
        }""",
        [names, query],
    )
    for frame in await overlay_frames(page, len(names)):
        await frame.wait_for_function(SETTLED, timeout=WAIT_MS)
    return page


async def overlay_frames(page: Page, count: int | None = None) -> list[Frame]:
    if count is not None:
        await page.wait_for_function(
            """count => Array.from(document.querySelectorAll('iframe')).filter(
              f => f.contentDocument && f.contentDocument.readyState === 'complete').length === count""",
            arg=count,
            timeout=WAIT_MS,
        )
    return [frame for frame in page.frames if "/overlays/" in frame.url and frame != page.main_frame]


async def settle(page: Page) -> None:
    """Until nothing moves: a hand-over waits for the graphic going off (0.45 s) first."""
    await page.wait_for_timeout(150)
    for _ in range(2):
        for frame in await overlay_frames(page):
            await frame.wait_for_function(SETTLED, timeout=WAIT_MS)
        await page.wait_for_timeout(500)


async def boxes(page: Page) -> list[dict]:
    found = []
    for frame in await overlay_frames(page):
        found += await frame.evaluate(BOXES)
    return found


def intersect(a: dict, b: dict) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and b["top"] < a["bottom"]
    )


def problems(found: list[dict]) -> list[str]:
    wrong = []
    for box in found:
        if not (
            box["left"] >= SAFE["left"]
            and box["top"] >= SAFE["top"]
            and box["right"] <= SAFE["right"]
            and box["bottom"] <= SAFE["bottom"]
        ):
            wrong.append(f"{box['name']} leaves the title-safe area: {box}")
        if box["spills"]:
            wrong.append(f"{box['name']}'s content is cut by its box")
    for a, b in itertools.combinations(found, 2):
        if intersect(a, b):
            wrong.append(f"{a['name']} and {b['name']} overlap: {a} {b}")
    return wrong


async def check(
    scenes: dict[str, Page], when: str, wanted: set[str], unwanted: set[str] = frozenset(), whole: bool = True
) -> set[str]:
    """Both scenes show exactly the same graphics, `wanted` among them and none of
    `unwanted`, without a collision, and (`whole`) every text whole; returns them."""
    shown = {}
    for name, page in scenes.items():
        await settle(page)
        found = await boxes(page)
        wrong = problems(found)
        if whole:
            for frame in await overlay_frames(page):
                wrong += [
                    f"{f['field']} is cut: {f}" for f in await frame.evaluate(FITTED) if f["clamp"] != "none"
                ]
        assert not wrong, f"{when}, {name}:\n" + "\n".join(wrong)
        shown[name] = {box["name"] for box in found}
    program, singles = shown.values()
    assert program == singles, (when, program ^ singles)
    assert wanted <= program and not (unwanted & program), (when, program)
    for graphic, overs in YIELDS.items():
        assert not (graphic in program and overs & program), (when, graphic, program)
    return program


def seconds(on_air: str | None) -> float:
    """A cue's `on_air` ("20s", "1m") in seconds; without one it stays until replaced."""
    if on_air is None:
        return float("inf")
    number, unit = re.fullmatch(r"(\d+)([sm])", on_air).groups()
    return int(number) * (60 if unit == "m" else 1)


def graphic_cues(schedule: Path) -> list[dict]:
    document = yaml.safe_load(schedule.read_text())
    return [
        cue
        for segment in document["segments"]
        for cue in segment.get("cues", [])
        if cue["kind"] in GRAPHIC_OF_KIND
    ]


async def take(url: str, cue: str) -> None:
    await producer_call(url, "/api/show/commands", {"command": "take", "cue": cue})


async def all_day_graphics(url: str, tag: str) -> str:
    """Check-ins on the map and the ticker, the post counter with a goal, a top post; returns
    an action to put in the spotlight."""
    houston, link = await approved_action(
        url, 0, title="Caravan to the processing center", city="Houston", state="TX"
    )
    await approved_checkin(url, link, 40, "We are outside the processing center. Free them all!")
    _, chicago = await approved_action(
        url, 0, title="Vigil at the Broadview center", city="Chicago", state="IL"
    )
    await approved_checkin(url, chicago, 25, "Candles at the gate.")
    await set_air(url, killed=False, delay_s=0)
    top = post(f"We marched to the field office and read the names of everyone inside. {tag}")
    await send(url, [top, post(f"Free them all {tag}")])
    await settings(url, goal=20_000, top=f"{top['platform']}:{top['id']}")
    return houston


@pytest.mark.parametrize(
    ("schedule", "show_time", "tag"),
    [
        # The action hour is live, the Twitterstorm follows: the clock and up next are up.
        (CNC, at("2022-03-03 13:30"), "#CommunitiesNotCages"),
        # Before the day's one segment: the clock counts down to it, up next names it.
        (FREE_THEM_ALL, at("2020-04-01 08:45"), "#FreeThemAll"),
    ],
    ids=["communities-not-cages", "free-them-all"],
)
async def test_no_two_graphics_collide_with_every_cue_of_the_shipped_schedules(
    browser, start, schedule, show_time, tag
):
    url = await start(schedule, show_time)
    spotlight = await all_day_graphics(url, tag)
    scenes = {
        "program": await scene(browser, url, ["program"]),
        "all overlays": await scene(browser, url, SINGLES),
    }
    all_day = {"clock", "up-next", "checkin-map", "checkin-ticker", "post-counter", "top-post"}
    await check(scenes, "the all-day graphics", all_day)

    cues = graphic_cues(schedule)
    assert cues
    most = (0, 0)  # the most slots taken, then graphics shown: the scenes are photographed then
    on_air: dict[str, tuple[str, float]] = {}  # the show's slot -> its graphic, until when (wall clock)
    for cue in cues:
        await take(url, cue["id"])
        slot = "card" if cue["kind"] in ("stat", "quote") else cue["kind"]
        on_air[slot] = (GRAPHIC_OF_KIND[cue["kind"]], time.time() + seconds(cue.get("on_air")))
        # One that comes off by itself while the scenes are measured is let go first.
        for gone, (_, until) in sorted(on_air.items(), key=lambda item: item[1][1]):
            if until < time.time() + 8:
                await asyncio.sleep(max(0, until - time.time() + 1))
                del on_air[gone]
        shown = {graphic for graphic, _ in on_air.values()}
        aside = {name for name, overs in YIELDS.items() if overs & shown}
        crowd = (len(on_air), len(await check(scenes, f"{cue['id']} taken", shown, aside)))
        if schedule == CNC and crowd > most:
            most = crowd
            await scenes["program"].screenshot(path=shot("scene-program.png"))
            await scenes["all overlays"].screenshot(path=shot("scene-all-overlays.png"))

    # The spotlight card takes the map's slot, with the show's graphics on air and without.
    await set_air(url, spotlight=spotlight)
    await check(scenes, "the spotlight", {"spotlight"}, {"checkin-map"})
    await producer_call(url, "/api/show/commands", {"command": "clear"})
    await check(
        scenes, "the spotlight, slots clear", {"spotlight", "up-next", "checkin-ticker", "post-counter"}
    )
    if schedule == CNC:
        await scenes["program"].screenshot(path=shot("scene-program-spotlight.png"))
    await set_air(url, spotlight=None)
    await check(scenes, "all clear again", all_day)
    # In the program overlay one graphic hands its place to the next: they never met.
    program = (await overlay_frames(scenes["program"]))[0]
    assert await program.evaluate("window.__meetings") == []


def long_texts_day(path: Path) -> Path:
    """The shipped day, with a 200-character name on a lower third and a 40-character figure
    on a stat card."""
    document = yaml.safe_load(CNC.read_text())
    cues = document["segments"][0]["cues"]
    cues.append({"id": "long-name", "at": "59m", "kind": "lower_third", "name": LONG_NAME, "role": LONG_NAME})
    cues.append(
        {
            "id": "long-figure",
            "at": "59m",
            "kind": "stat",
            "figure": LONG_FIGURE,
            "label": LONG_NAME,
            "as_of": "2022-03-03",
            "source": LONG_NAME,
        }
    )
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return path


async def test_long_figures_and_names_shrink_and_stay_in_their_boxes(browser, start, tmp_path):
    url = await start(long_texts_day(tmp_path / "long.yaml"), at("2022-03-03 11:45"))
    scenes = {
        "program": await scene(browser, url, ["program"]),
        "all overlays": await scene(browser, url, SINGLES),
    }
    await take(url, "long-name")
    await take(url, "long-figure")
    await check(scenes, "long texts", {"lower-third", "stat-card"}, {"up-next"}, whole=False)
    await scenes["program"].screenshot(path=shot("scene-long-texts.png"))
    for name, page in scenes.items():
        fields = {}
        for frame in await overlay_frames(page):
            for field in await frame.evaluate(FITTED):
                fields[field["field"]] = field
        figure, label = fields["stat-card figure"], fields["stat-card label"]
        lower, role = fields["lower-third name"], fields["lower-third role"]
        for field in (figure, label, lower, role):
            left, top, right, bottom = field["box"]
            g_left, g_top, g_right, g_bottom = field["graphic"]
            assert g_left <= left and g_top <= top and right <= g_right and bottom <= g_bottom, (name, field)
            assert field["scrollWidth"] <= field["clientWidth"], (name, field)
        # The figure shrank and wrapped, whole: no line of it is hidden (a glyph may reach a
        # little past its line box, not a line's height).
        assert figure["size"] < 108 and figure["fit"] == "clamped" and figure["clamp"] == "none", (
            name,
            figure,
        )
        assert figure["scrollHeight"] < figure["clientHeight"] + figure["lineHeight"] / 2, (name, figure)
        # The name shrank to its floor, then wrapped, and is cut after its second line, with an
        # ellipsis (its scrollHeight counts the lines cut off).
        for field in (lower, role, label):
            assert field["fit"] == "clamped" and field["clamp"] != "none", (name, field)
            assert field["clientHeight"] <= int(field["clamp"]) * field["lineHeight"] + 1, (name, field)
        assert lower["size"] == 36 and lower["clamp"] == "2", (name, lower)


async def test_the_program_overlay_takes_a_font_from_the_list_and_an_accent(browser, start):
    url = await start(CNC, at("2022-03-03 11:45"))
    script = (REPO / "static/js/overlay.js").read_text()
    in_script = re.search(r"var FONTS = \[([^\]]*)\]", script)
    assert in_script and tuple(re.findall(r"'([^']+)'", in_script[1])) == FONTS
    sockets: list = []
    page = await scene(browser, url, ["program"], "?font=georgia&accent=0a84ff", sockets)
    frame = (await overlay_frames(page))[0]
    # Every graphic of the program overlay, over one connection.
    assert await frame.locator(".graphic").count() == len(OVERLAYS) - 1
    assert len(sockets) == 1, [socket.url for socket in sockets]
    body = await frame.evaluate(
        "() => [getComputedStyle(document.body).fontFamily, getComputedStyle(document.querySelector('.kicker')).color]"
    )
    assert body[0].startswith("Georgia, Inter") and body[1] == "rgb(10, 132, 255)", body
    # A family off the list is ignored: the default stack stays.
    page = await scene(browser, url, ["clock"], "?font=Comic%20Sans%20MS")
    frame = (await overlay_frames(page))[0]
    assert (await frame.evaluate("getComputedStyle(document.body).fontFamily")).startswith("Inter,")
