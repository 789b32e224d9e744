"""Sharing the participant page: the picture social sites show with its link
(`/share.png`) and a QR code of its address for slides and posters (`/qr.svg`)."""

from __future__ import annotations

import asyncio
import io
from functools import lru_cache

import segno
from aiohttp import web

from eventrunner.control.dispatcher import Dispatcher
from eventrunner.core.languages import translated
from eventrunner.i18n.dates import long_date
from eventrunner.i18n.negotiation import choose_language
from eventrunner.web.address import page_url, use_public_url
from eventrunner.web.shareimage import share_image

QR_SCALE = 8  # pixels per module in the SVG's width and height; it scales without loss
QR_BORDER = 4  # the quiet zone the QR standard asks for, in modules


@lru_cache(maxsize=32)
def qr_svg(url: str) -> bytes:
    """Black on white (with its quiet zone) so it scans on any slide; a viewBox and a
    size, so it scales in slide and poster tools and has a size in a page."""
    qr = segno.make_qr(url, error="m")
    out = io.BytesIO()
    qr.save(out, kind="svg", border=QR_BORDER, dark="#000", light="#fff", xmldecl=False, omitsize=True)
    width, height = qr.symbol_size(scale=QR_SCALE, border=QR_BORDER)
    return out.getvalue().replace(b"<svg ", f'<svg width="{width}" height="{height}" '.encode(), 1)


def shared_url(page: str, lang: str) -> str:
    """The page's address as shared from a page in `lang`: the link opens in it."""
    return page if lang == "en" else f"{page}?lang={lang}"


class ShareRoutes:
    def __init__(self, dispatcher: Dispatcher, public_url: str | None = None) -> None:
        self.dispatcher = dispatcher
        self.public_url = public_url

    def register(self, app: web.Application) -> None:
        use_public_url(app, self.public_url)
        app.router.add_get("/share.png", self.image)
        app.router.add_get("/qr.svg", self.qr)

    async def image(self, request: web.Request) -> web.Response:
        # Only the address chooses: social sites fetch the picture without the visitor's
        # cookie or languages, and one address is one picture for every cache.
        lang = choose_language(request.query.get("lang"), None, None)
        event = self.dispatcher.views["public"]["event"]
        day = long_date(event["date"], lang)
        hashtags = tuple(event.get("hashtags", ()))
        # Drawing takes a tenth of a second, once per text: not on the event loop.
        png = await asyncio.to_thread(share_image, translated(event, "title", lang), hashtags, day)
        # The same for every host: shared caches and social sites may keep it a while.
        return web.Response(
            body=png, content_type="image/png", headers={"Cache-Control": "public, max-age=300"}
        )

    async def qr(self, request: web.Request) -> web.Response:
        # `?lang=es` for a Spanish page's QR code: the page it opens is in Spanish too.
        url = shared_url(page_url(request), choose_language(request.query.get("lang"), None, None))
        try:
            # Drawing a long address takes a while: not on the event loop.
            svg = await asyncio.to_thread(qr_svg, url)
        except segno.DataOverflowError:
            raise web.HTTPBadRequest(text="The page's address is too long for a QR code.") from None
        # Without --public-url the address is the client's Host header: the answer is for
        # this client only, never a shared cache's copy for everyone.
        return web.Response(
            body=svg,
            content_type="image/svg+xml",
            headers={"Cache-Control": "private, max-age=300"},
        )
