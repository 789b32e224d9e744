"""Jinja2 page rendering: autoescaped templates from the package and the overlays folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from eventrunner.config import OVERLAYS_DIR, STATIC_DIR, TEMPLATES_DIR
from eventrunner.core import timetext
from eventrunner.web.static import content_version


def _static_url_factory(static_dir: Path) -> Callable[[str], str]:
    versions: dict[str, str] = {}

    def static_url(path: str) -> str:
        # A content hash in the query: OBS caches hard, and a stale script on air is worse
        # than a re-download after an upgrade.
        if path not in versions:
            try:
                digest = content_version((static_dir / path).read_bytes())
            except OSError:
                digest = "missing"
            versions[path] = digest
        return f"/static/{path}?v={versions[path]}"

    return static_url


def event_time_formatter(zone_name: str) -> Callable[[int], str]:
    zone = timetext.zone_of(zone_name)

    def event_time(ms: int) -> str:
        return timetext.event_time(ms, zone)

    return event_time


def iso_datetime(ms: int, zone_name: str = "UTC") -> str:
    """`{{ ms|iso_datetime(event.timezone) }}`: an instant for <time datetime="...">, in ISO
    8601 with the zone's offset (2022-03-03T11:30:00-05:00; UTC as ...Z)."""
    return timetext.iso_datetime(ms, timetext.zone_of(zone_name))


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
        self.env.filters["iso_datetime"] = iso_datetime

    def render(self, template: str, status: int = 200, **context: Any) -> web.Response:
        html = self.env.get_template(template).render(**context)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
