"""The check-ins map: the state outlines and where a city's check-ins land on them.

The outlines are read back from the shipped SVG, so these tests prove the generator's
projection of the cities (scripts/build_usmap.py) agrees with us-atlas's layout.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from functools import cache
from importlib import resources

import pytest

from eventrunner.checkins.places import FIELD_OFFICES, STATES
from eventrunner.checkins.usmap import (
    GEONAMES_CREDIT,
    MAP_SIZE,
    city_point,
    map_point,
    normalize_city,
)

from .builders import REPO

SVG = REPO / "static" / "maps" / "us-states.svg"
SVG_NS = "{http://www.w3.org/2000/svg}"
MAPPED_STATES = sorted(set(STATES) - {"PR"})
TOKEN = re.compile(r"[MLZ]|-?\d+(?:\.\d+)?")

Ring = list[tuple[float, float]]


def parse_path(data: str) -> list[Ring]:
    """The rings of a path written with absolute M, L (with implicit repeats) and Z only."""
    tokens = TOKEN.findall(data)
    assert "".join(tokens) == re.sub(r"[\s,]", "", data), f"unexpected path commands in {data[:80]}"
    rings: list[Ring] = []
    numbers: list[float] = []
    for token in tokens:
        if token == "M":
            rings.append([])
        elif token in "LZ":
            continue
        else:
            numbers.append(float(token))
            if len(numbers) == 2:
                rings[-1].append((numbers[0], numbers[1]))
                numbers = []
    assert not numbers
    return rings


@cache
def outlines() -> tuple[dict[str, str], dict[str, list[Ring]]]:
    root = ET.parse(SVG).getroot()
    paths = {path.get("data-state"): path for path in root.iter(f"{SVG_NS}path")}
    return dict(root.attrib), {code: parse_path(path.get("d", "")) for code, path in paths.items()}


def inside(point: tuple[float, float], rings: list[Ring]) -> bool:
    """Even-odd ray casting over every ring of a state."""
    x, y = point
    hit = False
    for ring in rings:
        for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
            if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
                hit = not hit
    return hit


def test_the_svg_has_the_layout_and_a_path_for_every_state():
    attributes, rings = outlines()
    assert attributes["viewBox"] == f"0 0 {MAP_SIZE[0]} {MAP_SIZE[1]}" == "0 0 975 610"
    assert sorted(rings) == MAPPED_STATES
    for code, state_rings in rings.items():
        assert state_rings, code
        for ring in state_rings:
            assert len(ring) >= 3, code
            # us-atlas's layout runs the far Aleutians off the left edge, as d3 draws them.
            left = -60 if code == "AK" else 0
            assert all(left <= x <= 975 and 0 <= y <= 610 for x, y in ring), code
    text = SVG.read_text(encoding="utf-8")
    assert "us-atlas" in text and "ISC" in text and "Census Bureau" in text
    assert SVG.stat().st_size < 150_000


def test_the_svg_outlines_are_not_inside_each_other():
    # A point-in-polygon that always says yes would pass the tests below: check it says no.
    _, rings = outlines()
    assert not inside(map_point("Dallas", "TX"), rings["OK"])
    assert not inside(map_point("Seattle", "WA"), rings["OR"])
    assert not inside((1.0, 1.0), rings["TX"])


@pytest.mark.parametrize("office", FIELD_OFFICES, ids=lambda office: office.id)
def test_every_field_office_city_lands_inside_its_state(office):
    point = city_point(office.city, office.state)
    assert point is not None, f"{office.city}, {office.state} is not in the city table"
    assert map_point(office.city, office.state) == point
    assert inside(point, outlines()[1][office.state]), (office.city, office.state, point)


@pytest.mark.parametrize(
    ("city", "state"),
    [
        ("Seattle", "WA"),
        ("Miami", "FL"),
        ("Anchorage", "AK"),
        ("Juneau", "AK"),
        ("Honolulu", "HI"),
        ("Hilo", "HI"),
        ("El Paso", "TX"),
        ("Gadsden", "AL"),
        ("Washington", "DC"),
        ("St. Louis", "MO"),
        ("Portland", "ME"),
        ("Portland", "OR"),
        ("Key West", "FL"),
        ("Coeur d'Alene", "ID"),
        ("Minneapolis", "MN"),
        ("Boise", "ID"),
    ],
)
def test_well_known_cities_land_in_their_state(city, state):
    point = city_point(city, state)
    assert point is not None, f"{city}, {state} is not in the city table"
    assert inside(point, outlines()[1][state]), (city, state, point)


def test_the_same_name_in_two_states_is_two_places():
    assert map_point("Portland", "ME") != map_point("Portland", "OR")
    assert map_point("Springfield", "IL") != map_point("Springfield", "MA")


def test_every_state_fallback_lies_inside_the_state():
    data = json.loads(resources.files("eventrunner.checkins").joinpath("data/us-cities.json").read_text())
    assert sorted(data["states"]) == MAPPED_STATES
    _, rings = outlines()
    for code in MAPPED_STATES:
        fallback = map_point("No Such Place Anywhere", code)
        assert fallback == tuple(data["states"][code])
        assert inside(fallback, rings[code]), (code, fallback)


def test_a_city_not_in_the_table_falls_back_to_its_state():
    assert city_point("Nowhere In Particular", "KS") is None
    assert map_point("Nowhere In Particular", "KS") == map_point("", "KS")
    assert map_point("Nowhere In Particular", "KS") != map_point("Wichita", "KS")


def test_unknown_states_and_puerto_rico_have_no_point():
    assert map_point("San Juan", "PR") is None
    assert map_point("Springfield", "ZZ") is None
    assert map_point("Springfield", "") is None
    assert city_point("San Juan", "PR") is None


def test_the_state_code_is_read_loosely():
    assert map_point("Houston", " tx ") == map_point("Houston", "TX") is not None


def test_names_are_normalized():
    assert normalize_city("St. Louis") == normalize_city("Saint Louis") == "saint louis"
    assert normalize_city("St Louis") == "saint louis"
    assert normalize_city("St.Louis") == "saint louis"
    assert normalize_city("San José") == normalize_city("San Jose") == "san jose"
    assert normalize_city("  new   YORK ") == "new york"
    assert normalize_city("Ste. Genevieve") == "sainte genevieve"
    assert normalize_city("Ft. Worth") == normalize_city("Fort Worth")
    assert normalize_city("Mt. Vernon") == normalize_city("Mount Vernon")
    assert normalize_city("Winston-Salem") == "winston salem"
    assert normalize_city("Coeur d'Alene") == "coeur d alene"
    # Only a word "st" is Saint: not the end of "West" or "Forest".
    assert normalize_city("West Point") == "west point"
    assert normalize_city("Forest Park") == "forest park"
    assert normalize_city("Mountain View") == "mountain view"


def test_lookups_use_the_normalized_name():
    assert city_point("St. Louis", "MO") == city_point("saint louis", "MO") is not None
    assert city_point("San José", "CA") == city_point("San Jose", "CA") is not None
    assert city_point("  new   YORK ", "NY") == city_point("New York", "NY") is not None
    assert city_point("Ft. Lauderdale", "FL") == city_point("Fort Lauderdale", "FL") is not None


def test_the_credit_line():
    assert GEONAMES_CREDIT == "City coordinates: GeoNames (geonames.org), CC BY 4.0"
    provenance = resources.files("eventrunner.checkins").joinpath("data/PROVENANCE.md").read_text()
    assert GEONAMES_CREDIT in provenance
