"""Jinja2 page rendering: autoescaped templates from the package and the overlays folder,
one environment per language (its catalog's gettext, and `tx` for the schedule's texts)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from eventrunner.config import OVERLAYS_DIR, TEMPLATES_DIR
from eventrunner.core import timetext
from eventrunner.core.languages import DEFAULT_LANGUAGE, LANGUAGE_NAMES, Language, translated
from eventrunner.i18n.catalogs import Catalog, load_catalogs


def event_time_formatter(zone_name: str, language: Language = DEFAULT_LANGUAGE) -> Callable[[int], str]:
    """`event_time(ms)` in templates: '1:00 PM EST', or '13:00 EST' in Spanish."""
    return partial(timetext.event_time, zone=timetext.zone_of(zone_name), language=language)


def iso_datetime(ms: int, zone_name: str = "UTC") -> str:
    """`{{ ms|iso_datetime(event.timezone) }}`: an instant for <time datetime="...">, in ISO
    8601 with the zone's offset (2022-03-03T11:30:00-05:00; UTC as ...Z)."""
    return timetext.iso_datetime(ms, timetext.zone_of(zone_name))


class Pages:
    def __init__(
        self,
        static_url: Callable[[str], str],
        templates_dir: Path = TEMPLATES_DIR,
        overlays_dir: Path = OVERLAYS_DIR,
        catalogs: Mapping[Language, Catalog] | None = None,
    ) -> None:
        loader = jinja2.ChoiceLoader(
            [
                jinja2.PrefixLoader({"overlays": jinja2.FileSystemLoader(overlays_dir)}),
                jinja2.FileSystemLoader(templates_dir),
            ]
        )
        self.envs = {
            language: _environment(loader, static_url, catalog)
            for language, catalog in (catalogs or load_catalogs()).items()
        }

    def render(
        self, template: str, status: int = 200, language: Language = DEFAULT_LANGUAGE, **context: Any
    ) -> web.Response:
        html = self.envs[language].get_template(template).render(**context)
        return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def _environment(
    loader: jinja2.BaseLoader, static_url: Callable[[str], str], catalog: Catalog
) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=loader,
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(catalog.translations, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static_url=static_url,
        lang=catalog.language,
        language_names=LANGUAGE_NAMES,
        script_messages=catalog.script_messages,
        # `tx(segment, "title")`: the schedule's text in the page's language, or as written.
        tx=partial(translated, language=catalog.language),
    )
    env.filters["iso_datetime"] = iso_datetime
    return env
