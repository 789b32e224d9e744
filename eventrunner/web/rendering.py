"""Jinja2 page rendering: autoescaped templates from the package and the overlays folder."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from eventrunner.config import OVERLAYS_DIR, STATIC_DIR, TEMPLATES_DIR


def _static_url_factory(static_dir: Path) -> Callable[[str], str]:
    versions: dict[str, str] = {}

    def static_url(path: str) -> str:
        # A content hash in the query: OBS caches hard, and a stale script on air is worse
        # than a re-download after an upgrade.
        if path not in versions:
            try:
                digest = hashlib.sha256((static_dir / path).read_bytes()).hexdigest()[:10]
            except OSError:
                digest = "missing"
            versions[path] = digest
        return f"/static/{path}?v={versions[path]}"

    return static_url


def event_time_formatter(zone_name: str) -> Callable[[int], str]:
    zone = ZoneInfo(zone_name)

    def event_time(ms: int) -> str:
        local = datetime.fromtimestamp(ms / 1000, tz=UTC).astimezone(zone)
        return local.strftime("%I:%M %p").lstrip("0") + " " + (local.tzname() or "")

    return event_time


class Pages:
    def __init__(
        self,
        templates_dir: Path = TEMPLATES_DIR,
        overlays_dir: Path = OVERLAYS_DIR,
        static_dir: Path = STATIC_DIR,
    ) -> None:
        self.env = jinja2.Environment(
            loader=jinja2.ChoiceLoader(
                [
                    jinja2.PrefixLoader({"overlays": jinja2.FileSystemLoader(overlays_dir)}),
                    jinja2.FileSystemLoader(templates_dir),
                ]
            ),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        self.env.globals["static_url"] = _static_url_factory(static_dir)

    def render(self, template: str, status: int = 200, **context: Any) -> web.Response:
        html = self.env.get_template(template).render(**context)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
