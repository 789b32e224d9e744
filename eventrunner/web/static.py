"""Static files (scripts, styles, the vendored socket.io client), preloaded at start.

Every file under the static folder is read once, with its gzip bytes and a content hash.
A request is a dict lookup by its relative path, so nothing outside the folder (and no
file added later) can ever be served. `static_url` puts the hash in the query (`?v=`):
such a URL never changes content, so it is cached for a year; a plain URL is cached
briefly and revalidated with its ETag.
"""

from __future__ import annotations

import hashlib
import mimetypes
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from pathlib import Path

from aiohttp import hdrs, web

from eventrunner.web.middleware import accepts_gzip, gzipped

IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "public, max-age=60, must-revalidate"
TYPES = {
    ".js": "text/javascript",
    ".mjs": "text/javascript",
    ".css": "text/css",
    ".html": "text/html",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".txt": "text/plain",
    "": "text/plain",  # LICENSE files
}
TEXT_TYPES = ("text/", "application/json", "image/svg+xml")


def content_version(body: bytes) -> str:
    """The `?v=` of a static URL (StaticFiles.url)."""
    return hashlib.sha256(body).hexdigest()[:10]


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzip: bytes | None
    content_type: str
    version: str
    modified: datetime

    @property
    def etag(self) -> str:
        # Weak: the gzip and the plain bytes are the same content under one tag.
        return f'W/"{self.version}"'


def _content_type(path: Path) -> str:
    guessed = TYPES.get(path.suffix.lower()) or mimetypes.guess_type(path.name)[0]
    kind = guessed or "application/octet-stream"
    return f"{kind}; charset=utf-8" if kind.startswith(TEXT_TYPES) else kind


def _load(path: Path) -> Asset:
    body = path.read_bytes()
    content_type = _content_type(path)
    return Asset(
        body=body,
        gzip=gzipped(body) if content_type.startswith(TEXT_TYPES) else None,
        content_type=content_type,
        version=content_version(body),
        modified=datetime.fromtimestamp(int(path.stat().st_mtime), tz=UTC),
    )


def load_assets(root: Path) -> dict[str, Asset]:
    """Regular files under `root` (not hidden ones, not links leading out of it)."""
    root = root.resolve()
    assets = {}
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if any(part.startswith(".") for part in relative.parts) or not path.is_file():
            continue
        if not path.resolve().is_relative_to(root):
            continue
        assets[relative.as_posix()] = _load(path)
    return assets


def _matches(if_none_match: str, etag: str) -> bool:
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


class StaticFiles:
    def __init__(self, root: Path, prefix: str = "/static") -> None:
        self.prefix = prefix
        self.assets = load_assets(root)

    def add(self, assets: Mapping[str, Asset]) -> None:
        """Assets made here rather than read from the folder (web/bundles.py)."""
        self.assets.update(assets)

    def url(self, path: str) -> str:
        """`static_url` in templates: a content hash in the query (`?v=`). OBS caches
        hard, and a stale script on air is worse than a re-download after an upgrade."""
        asset = self.assets.get(path)
        return f"{self.prefix}/{path}?v={asset.version if asset else 'missing'}"

    def register(self, app: web.Application) -> None:
        app.router.add_get(self.prefix + "/{path:.+}", self.serve)

    async def serve(self, request: web.Request) -> web.StreamResponse:
        asset = self.assets.get(request.match_info["path"])
        if asset is None:
            raise web.HTTPNotFound(text="no such file")
        headers = {
            hdrs.ETAG: asset.etag,
            hdrs.LAST_MODIFIED: format_datetime(asset.modified, usegmt=True),
            # A stale ?v= (an old page after an upgrade) gets today's file, so only the
            # matching version may be kept for good.
            hdrs.CACHE_CONTROL: IMMUTABLE if request.query.get("v") == asset.version else REVALIDATE,
        }
        if asset.gzip is not None:
            headers[hdrs.VARY] = "Accept-Encoding"
        if_none_match = request.headers.get(hdrs.IF_NONE_MATCH)
        if_modified_since = request.if_modified_since
        if (if_none_match is not None and _matches(if_none_match, asset.etag)) or (
            if_none_match is None and if_modified_since is not None and asset.modified <= if_modified_since
        ):
            return web.Response(status=304, headers=headers)
        body = asset.body
        if asset.gzip is not None and accepts_gzip(request):
            body = asset.gzip
            headers[hdrs.CONTENT_ENCODING] = "gzip"
        headers[hdrs.CONTENT_TYPE] = asset.content_type
        return web.Response(body=body, headers=headers)
