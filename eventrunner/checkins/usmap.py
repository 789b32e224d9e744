"""Where a check-in's city sits on the US map overlay.

The map is `static/maps/us-states.svg`, drawn in a 975x610 Albers USA layout (Alaska and
Hawaii as insets, the layout of us-atlas's `states-albers-10m.json`). City points, already
projected into that space, ship as package data in `data/us-cities.json`; both files come
from `scripts/build_usmap.py` (see `data/PROVENANCE.md`). Nothing here needs the network
or the packages the generator used.

A city missing from the table falls back to a point inside its state; an unknown state,
and Puerto Rico, which Albers USA does not show, have no point at all.
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import cache, lru_cache
from importlib import resources

MAP_SIZE = (975, 610)

# GeoNames' licence (CC BY 4.0) asks for this credit wherever the points are shown.
GEONAMES_CREDIT = "City coordinates: GeoNames (geonames.org), CC BY 4.0"

_DATA_FILE = "data/us-cities.json"

_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "ft": "fort", "mt": "mount"}
# "St. Louis", "St.Louis" and "St Louis"; "ste" before "st" so "Ste." is not read as "St".
_ABBREVIATION = re.compile(r"\b(ste|st|ft|mt)(?:\.|\s)")
_PUNCTUATION = re.compile(r"[\W_]+")

Point = tuple[float, float]


def normalize_city(name: str) -> str:
    """The form city names are compared in: no accents, case-folded, "St." spelled
    "saint" (likewise "Ste.", "Ft.", "Mt."), punctuation as spaces, single spaces."""
    decomposed = unicodedata.normalize("NFKD", name)
    text = "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()
    text = _ABBREVIATION.sub(lambda match: _ABBREVIATIONS[match[1]] + " ", text)
    return " ".join(_PUNCTUATION.sub(" ", text).split())


@cache
def _table() -> tuple[dict[str, dict[str, Point]], dict[str, Point]]:
    raw = json.loads(resources.files("eventrunner.checkins").joinpath(_DATA_FILE).read_text("utf-8"))
    cities = {
        state: {name: (float(x), float(y)) for name, (x, y) in names.items()}
        for state, names in raw["cities"].items()
    }
    states = {state: (float(x), float(y)) for state, (x, y) in raw["states"].items()}
    return cities, states


def city_point(city: str, state: str) -> Point | None:
    """The point of `city` in `state` if the table knows that city, else None."""
    cities, _ = _table()
    return cities.get(state.strip().upper(), {}).get(normalize_city(city))


@lru_cache(maxsize=8192)  # every view lists every action: each place is looked up once
def map_point(city: str, state: str) -> Point | None:
    """Where on the 975x610 map a check-in from `city`, `state` (postal code) goes: the
    city's point if known, else a point inside the state, else None (unknown state, PR)."""
    code = state.strip().upper()
    return city_point(city, code) or _table()[1].get(code)
