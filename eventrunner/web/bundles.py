"""Bundles: a page's scripts (or styles) served as one minified file, put together when
the server starts, so a phone on a slow network makes one request for them instead of
eight. There is no build step: the files in static/ are the source, served as they are
too, and a bundle's `?v=` changes with any of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

import rcssmin
import rjsmin

from eventrunner.web.middleware import gzipped
from eventrunner.web.static import Asset, content_version

# The participant page: the order is the order of the page's <script> tags before
# (socket.io and i18n first: the others use them; participant.js last: it connects).
BUNDLES: dict[str, tuple[str, ...]] = {
    "bundles/participant.js": (
        "vendor/socket.io.min.js",
        "js/i18n.js",
        "js/showclient.js",
        "js/program.js",
        "js/actions.js",
        "js/congress.js",
        "js/share.js",
        "js/participant.js",
    ),
    "bundles/participant.css": ("css/site.css", "css/actions.css", "css/congress.css", "css/share.css"),
}


# A vendored file's pointer to its source map: in a bundle it would send the browser's
# developer tools to a file that is not there.
SOURCE_MAP = re.compile(r"^//# sourceMappingURL=\S+$", re.MULTILINE)


def _minified(name: str, text: str) -> str:
    if name.endswith(".min.js"):
        return SOURCE_MAP.sub("", text)
    return rjsmin.jsmin(text) if name.endswith(".js") else rcssmin.cssmin(text)


def bundle(assets: Mapping[str, Asset], names: tuple[str, ...]) -> Asset:
    missing = [name for name in names if name not in assets]
    if missing:
        raise ValueError(f"a bundle names files that are not in static/: {', '.join(missing)}")
    # A newline and a semicolon between scripts: a file without a final one (or ending in
    # a // comment) must not run into the next.
    separator = "\n;\n" if names[0].endswith(".js") else "\n"
    text = separator.join(_minified(name, assets[name].body.decode("utf-8")) for name in names)
    body = text.encode("utf-8")
    first = assets[names[0]]
    return replace(
        first,
        body=body,
        gzip=gzipped(body),
        version=content_version(body),
        modified=max(assets[name].modified for name in names),
    )


def bundles(assets: Mapping[str, Asset]) -> dict[str, Asset]:
    """Every bundle of BUNDLES, made of `assets` (the static folder's files)."""
    return {path: bundle(assets, names) for path, names in BUNDLES.items()}
