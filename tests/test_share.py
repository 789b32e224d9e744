"""Sharing the participant page: the Open Graph picture (/share.png), the QR code of the
page's address (/qr.svg) and the share macros' meta tags and links."""

from __future__ import annotations

import io
import re
from html import unescape
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree

import aiohttp
import pytest
import segno
from PIL import Image
from playwright.async_api import expect

from eventrunner.cli import main
from eventrunner.core.languages import translated
from eventrunner.web import share, shareimage
from eventrunner.web.address import checked_public_url
from eventrunner.web.rendering import Pages
from eventrunner.web.share import QR_BORDER, QR_SCALE

SVG = "{http://www.w3.org/2000/svg}"


async def get(url: str, **kwargs) -> tuple[aiohttp.ClientResponse, bytes]:
    async with aiohttp.ClientSession() as session, session.get(url, **kwargs) as response:
        return response, await response.read()


# --- the picture -------------------------------------------------------------------------


async def test_the_share_picture_is_a_1200_by_630_png(running):
    response, body = await get(f"{running.url}/share.png")
    assert response.status == 200 and response.headers["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(body))
    assert (image.format, image.size) == ("PNG", (1200, 630))
    _, again = await get(f"{running.url}/share.png")
    assert again == body
    response, spanish = await get(f"{running.url}/share.png?lang=es")
    assert Image.open(io.BytesIO(spanish)).size == (1200, 630) and spanish != body  # the title is translated


def margins_are_empty(png: bytes) -> bool:
    """Nothing drawn within 40 px of any edge (the text's margin is 80)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    background = image.getpixel((0, 0))
    width, height = image.size
    edges = [(x, y) for x in range(width) for y in (*range(40), *range(height - 40, height))]
    edges += [(x, y) for y in range(height) for x in (*range(40), *range(width - 40, width))]
    return all(image.getpixel(point) == background for point in edges)


LONG_TITLE = "The " + "Longest National Day of Action Ever Announced " * 12 + "#" + "X" * 300


@pytest.mark.parametrize("fonts", ["dejavu", "pillow's own"])
def test_long_titles_shrink_and_wrap_inside_the_picture(monkeypatch, fonts):
    if fonts == "dejavu" and not shareimage.BOLD.is_file():
        pytest.skip("fonts-dejavu-core is not installed (tests/run.sh installs it)")
    if fonts != "dejavu":
        monkeypatch.setattr(shareimage, "BOLD", Path("/nonexistent/bold.ttf"))
        monkeypatch.setattr(shareimage, "REGULAR", Path("/nonexistent/regular.ttf"))
    hashtags = ("#CommunitiesNotCages", "#FreeThemAll", "#" + "Y" * 120)
    draw = shareimage.share_image.__wrapped__  # not the cached picture of another test
    for title in (LONG_TITLE, "#" + "Z" * 400, "Short"):
        png = draw(title, hashtags, "Thursday, March 3, 2022")
        assert Image.open(io.BytesIO(png)).size == (1200, 630)
        assert margins_are_empty(png), title[:40]


def test_a_title_shrinks_before_a_word_is_broken():
    block = shareimage.fit(
        "#CommunitiesNotCages National Day of Action", shareimage.BOLD, (200, 100, 60), 1040, 400, 5
    )
    assert block.lines == ["#CommunitiesNotCages", "National Day of Action"]
    cut = shareimage.fit("word " * 200, shareimage.BOLD, (60,), 1040, 150, 5)
    assert len(cut.lines) == 2 and cut.lines[-1].endswith("…")


# --- the QR code ---------------------------------------------------------------------------


def dark_modules(svg: bytes) -> set[tuple[int, int]]:
    """The dark modules segno's SVG draws: one path of 1-module-high lines, `M x y` to
    start, `h n` to draw n modules, `m dx dy` to move."""
    root = ElementTree.fromstring(svg)
    [path] = [p for p in root.iter(f"{SVG}path") if p.get("stroke")]
    x = y = 0.0
    dark = set()
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path.get("d", "")):
        if command == "M":
            x, y = float(a), float(b)
        elif command == "m":
            x, y = x + float(a), y + float(b)
        else:
            dark |= {(int(x) + i, int(y)) for i in range(int(a))}
            x += float(a)
    assert set(re.findall(r"[A-Za-z]", path.get("d", ""))) <= {"M", "m", "h"}
    return dark


def expected_modules(url: str) -> set[tuple[int, int]]:
    matrix = segno.make_qr(url, error="m").matrix
    return {(x + QR_BORDER, y + QR_BORDER) for y, row in enumerate(matrix) for x, on in enumerate(row) if on}


async def test_the_qr_code_is_the_pages_address(running):
    response, body = await get(f"{running.url}/qr.svg")
    assert response.status == 200 and response.headers["Content-Type"] == "image/svg+xml"
    assert "private" in response.headers["Cache-Control"]
    root = ElementTree.fromstring(body)
    assert root.tag == f"{SVG}svg"
    url = f"{running.url}/"
    size = segno.make_qr(url, error="m").symbol_size(scale=QR_SCALE, border=QR_BORDER)
    assert (int(root.get("width")), int(root.get("height"))) == size
    modules = size[0] // QR_SCALE
    assert root.get("viewBox") == f"0 0 {modules} {modules}"
    assert dark_modules(body) == expected_modules(url)


@pytest.mark.parametrize("behind_proxy", [True, False])
async def test_the_qr_code_has_the_scheme_the_visitor_sees(start_server, behind_proxy):
    running = await start_server(behind_proxy=behind_proxy)
    _, body = await get(
        f"{running.url}/qr.svg", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    )
    # Only a server told it is behind a proxy believes the header.
    scheme = "https" if behind_proxy else "http"
    assert dark_modules(body) == expected_modules(f"{scheme}://{running.url.split('://')[1]}/")


async def test_a_spanish_pages_qr_code_opens_it_in_spanish(running):
    _, body = await get(f"{running.url}/qr.svg?lang=es")
    assert dark_modules(body) == expected_modules(f"{running.url}/?lang=es")
    _, body = await get(f"{running.url}/qr.svg?lang=xx")  # not a language of the server's
    assert dark_modules(body) == expected_modules(f"{running.url}/")


@pytest.mark.parametrize(
    "host", ["a" * 3000, "[abc", "day.example/x", "[::1", "host:99999", "a" * 252 + ".org"]
)
@pytest.mark.parametrize("path", ["/qr.svg", "/"])
async def test_a_host_header_that_is_not_a_host_is_a_bad_request(running, host, path):
    """The Host header is the client's to write: only a plain host[:port] names the page
    in its QR code, links and tags, never a 500 (segno's overflow, urlsplit's error)."""
    response, body = await get(f"{running.url}{path}", headers={"Host": host})
    assert response.status == 400
    assert body.decode().startswith("The Host header must be a host name or address")


@pytest.mark.parametrize("host", ["[::1]:8080", "day.example.org", "192.0.2.7:80", "localhost"])
async def test_a_plain_host_header_names_the_page(running, host):
    _, body = await get(f"{running.url}/qr.svg", headers={"Host": host})
    assert dark_modules(body) == expected_modules(f"http://{host}/")


async def test_an_address_too_long_for_a_qr_code_is_a_bad_request(running, monkeypatch):
    def overflow(url: str) -> bytes:
        raise segno.DataOverflowError("Data too large")

    monkeypatch.setattr(share, "qr_svg", overflow)
    response, body = await get(f"{running.url}/qr.svg")
    assert response.status == 400 and body == b"The page's address is too long for a QR code."


async def test_the_public_url_is_the_address_whatever_the_host(start_server):
    running = await start_server(public_url="https://day.example.org/")
    for host in ("192.168.1.20:8080", "evil.example", "[abc", "a" * 3000):
        response, body = await get(f"{running.url}/qr.svg", headers={"Host": host})
        assert response.status == 200
        assert dark_modules(body) == expected_modules("https://day.example.org/")
        _, body = await get(f"{running.url}/qr.svg?lang=es", headers={"Host": host})
        assert dark_modules(body) == expected_modules("https://day.example.org/?lang=es")
        response, page = await get(f"{running.url}/", headers={"Host": host})
        assert response.status == 200
        tags = meta(page.decode())
        assert tags["og:url"] == "https://day.example.org/"
        assert tags["og:image"] == "https://day.example.org/share.png"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("https://Day.Example.org", "https://day.example.org/"),
        ("http://[2001:db8::1]:8080/", "http://[2001:db8::1]:8080/"),
        ("http://192.0.2.7", "http://192.0.2.7/"),
    ],
)
def test_a_public_url_is_an_http_address_with_a_host(given, used):
    assert checked_public_url(given) == used


@pytest.mark.parametrize(
    "given",
    [
        "day.example.org",
        "ftp://day.example.org",
        "https://",
        "http://[abc",
        "https://user@day.example.org",
        "https://day.example.org:99999",
        "https://day.example.org/rally",
        "https://day.example.org/?a=b",
        "https://exa mple.org",
    ],
)
def test_anything_else_is_refused_at_start(given, capsys):
    with pytest.raises(ValueError, match="address"):
        checked_public_url(given)
    with pytest.raises(SystemExit) as exit_:
        main(["serve", "--demo", "--public-url", given])
    assert exit_.value.code == 2
    assert "argument --public-url:" in capsys.readouterr().err


# --- the macros ------------------------------------------------------------------------------


def render_share(doc: dict, lang: str = "en") -> str:
    env = Pages(static_url=lambda path: f"/static/{path}").envs[lang]
    template = env.from_string(
        '{% import "share.html" as share %}'
        "<head>{{ share.share_meta(doc, 'https://day.example/', 'https://day.example/share.png') }}</head>"
        "<body>{{ share.share_panel(doc, 'https://day.example/') }}"
        "{{ share.calendar_links() }}{{ share.calendar_links(doc.rundown[0]) }}</body>"
    )
    return template.render(doc=doc)


def meta(html: str) -> dict[str, str]:
    return {
        name: unescape(content)
        for name, content in re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)">', html)
    }


def test_meta_tags_describe_the_day(running):
    doc = running.server.dispatcher.views["public"]
    html = render_share(doc)
    tags = meta(html)
    title = "#CommunitiesNotCages National Day of Action"
    assert tags["og:title"] == tags["twitter:title"] == title
    assert tags["og:type"] == "website" and tags["og:url"] == "https://day.example/"
    assert tags["og:image"] == tags["twitter:image"] == "https://day.example/share.png"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    assert tags["og:locale"] == "en_US" and tags["twitter:card"] == "summary_large_image"
    assert tags["og:description"].startswith("One year into the Biden administration")
    assert len(tags["og:description"]) <= 205 and tags["og:description"] == tags["twitter:description"]
    assert title in tags["og:image:alt"]

    # The share links: the title and the hashtag it does not carry, and the address.
    message = "%23CommunitiesNotCages%20National%20Day%20of%20Action%20%23FreeThemAll"
    assert f"https://twitter.com/intent/tweet?text={message}&amp;url=https%3A//day.example/" in html
    assert f"https://bsky.app/intent/compose?text={message}%20https%3A//day.example/" in html
    assert f"https://mastodon.social/share?text={message}%20https%3A//day.example/" in html
    assert '<img src="/qr.svg"' in html and 'loading="lazy"' in html
    assert '<label for="share-mastodon-server">' in html and '<label for="share-link">' in html
    assert 'href="/schedule.ics"' in html and 'href="/schedule/livestream.ics"' in html
    assert 'href="/schedule/livestream/google"' in html


def test_meta_tags_in_spanish(running):
    doc = running.server.dispatcher.views["public"]
    html = render_share(doc, "es")
    tags = meta(html)
    assert tags["og:title"] == translated(doc["event"], "title", "es") != doc["event"]["title"]
    assert tags["og:locale"] == "es_US"
    assert 'href="/schedule.ics?lang=es"' in html and 'href="/schedule/livestream.ics?lang=es"' in html

    # What it shares opens the page in Spanish: previews, links, the copied link, posters.
    assert tags["og:url"] == "https://day.example/?lang=es"
    page = quote("https://day.example/?lang=es", safe="/")
    assert page == "https%3A//day.example/%3Flang%3Des"
    assert f"&amp;url={page}" in html
    assert "https://bsky.app/intent/compose?text=" in html and html.count(f"%20{page}") == 2
    assert 'data-share-link value="https://day.example/?lang=es"' in html
    assert '<img src="/qr.svg?lang=es"' in html and 'href="/qr.svg?lang=es" download=' in html
    # An English page's address carries no language: each visitor's own choice stands.
    english = render_share(doc)
    assert "lang=" not in english and '<img src="/qr.svg"' in english


# --- the panel in a browser -------------------------------------------------------------------


@pytest.mark.browser
async def test_the_share_panel_works_by_keyboard_and_touch(browser, running):
    doc = running.server.dispatcher.views["public"]
    env = Pages(static_url=lambda path: f"/static/{path}").envs["en"]
    panel = env.from_string('{% import "share.html" as share %}{{ share.share_panel(doc, url) }}')
    html = (
        '<!doctype html><html lang="en"><head><meta name="viewport" content="width=device-width">'
        '<link rel="stylesheet" href="/static/css/site.css"><link rel="stylesheet" href="/static/css/share.css">'
        f"</head><body><main class='wrap'>{panel.render(doc=doc, url=running.url + '/')}</main>"
        '<script src="/static/js/i18n.js"></script><script src="/static/js/showclient.js"></script>'
        '<script src="/static/js/share.js"></script></body></html>'
    )
    context = await browser.new_context(viewport={"width": 360, "height": 800})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    # The panel on a page of the real server's origin: its scripts, styles and /qr.svg.
    await page.route(f"{running.url}/panel", lambda route: route.fulfill(body=html, content_type="text/html"))
    await page.goto(f"{running.url}/panel")

    server = page.get_by_label("Your Mastodon server")
    mastodon = page.get_by_role("link", name="Share on Mastodon")
    await server.fill("mas.to")
    href = await mastodon.get_attribute("href")
    assert href.startswith("https://mas.to/share?text=%23CommunitiesNotCages%20National%20Day%20of%20Action")
    assert href.endswith(f"%20{quote(running.url + '/', safe='')}")
    assert await page.evaluate("localStorage.getItem('eventrunner.mastodon')") == "mas.to"

    # A pasted address counts as its server's name (the sample posts read it the same way).
    await server.fill("https://mastodon.online/")
    await server.press("Tab")
    await expect(server).to_have_attribute("aria-invalid", "false")
    assert (await mastodon.get_attribute("href")).startswith("https://mastodon.online/share?text=")
    await server.fill("mas.to")

    # No server name: said when the field is left, and the link does not go anywhere.
    await server.fill("not a server")
    await server.press("Tab")
    await expect(server).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_text("Enter the server's name only, like mastodon.social.")).to_be_visible()
    await mastodon.press("Enter")
    await expect(server).to_be_focused()
    assert len(context.pages) == 1 and (await mastodon.get_attribute("href")).startswith("https://mas.to/")

    await page.get_by_role("button", name="Copy link").click()
    await expect(page.get_by_role("status")).to_have_text(
        re.compile(r"Link copied\.|The link is selected: copy it by hand\.")
    )
    assert await page.eval_on_selector(".share-qr img", "img => img.complete && img.naturalWidth") > 0

    for control in await page.locator("#share a, #share button:visible, #share input").all():
        box = await control.bounding_box()
        assert box["height"] >= 44, await control.evaluate("el => el.outerHTML")
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, await control.evaluate("el => el.outerHTML")
    assert errors == []
