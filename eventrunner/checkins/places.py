"""Where actions happen: US states with their main time zone, and ICE's Enforcement and
Removal Operations (ERO) field offices with the cities they sit in.

Field offices: the 25 ERO field offices listed by U.S. Immigration and Customs
Enforcement at ice.gov/contact/field-offices (a work of the U.S. government, public
domain). A state's zone is where most of its people live; a host can name another.
"""

from __future__ import annotations

from dataclasses import dataclass

# State (or DC, PR) -> (name, main IANA time zone)
STATES: dict[str, tuple[str, str]] = {
    "AL": ("Alabama", "America/Chicago"),
    "AK": ("Alaska", "America/Anchorage"),
    "AZ": ("Arizona", "America/Phoenix"),
    "AR": ("Arkansas", "America/Chicago"),
    "CA": ("California", "America/Los_Angeles"),
    "CO": ("Colorado", "America/Denver"),
    "CT": ("Connecticut", "America/New_York"),
    "DE": ("Delaware", "America/New_York"),
    "DC": ("District of Columbia", "America/New_York"),
    "FL": ("Florida", "America/New_York"),
    "GA": ("Georgia", "America/New_York"),
    "HI": ("Hawaii", "Pacific/Honolulu"),
    "ID": ("Idaho", "America/Boise"),
    "IL": ("Illinois", "America/Chicago"),
    "IN": ("Indiana", "America/Indiana/Indianapolis"),
    "IA": ("Iowa", "America/Chicago"),
    "KS": ("Kansas", "America/Chicago"),
    "KY": ("Kentucky", "America/New_York"),
    "LA": ("Louisiana", "America/Chicago"),
    "ME": ("Maine", "America/New_York"),
    "MD": ("Maryland", "America/New_York"),
    "MA": ("Massachusetts", "America/New_York"),
    "MI": ("Michigan", "America/Detroit"),
    "MN": ("Minnesota", "America/Chicago"),
    "MS": ("Mississippi", "America/Chicago"),
    "MO": ("Missouri", "America/Chicago"),
    "MT": ("Montana", "America/Denver"),
    "NE": ("Nebraska", "America/Chicago"),
    "NV": ("Nevada", "America/Los_Angeles"),
    "NH": ("New Hampshire", "America/New_York"),
    "NJ": ("New Jersey", "America/New_York"),
    "NM": ("New Mexico", "America/Denver"),
    "NY": ("New York", "America/New_York"),
    "NC": ("North Carolina", "America/New_York"),
    "ND": ("North Dakota", "America/Chicago"),
    "OH": ("Ohio", "America/New_York"),
    "OK": ("Oklahoma", "America/Chicago"),
    "OR": ("Oregon", "America/Los_Angeles"),
    "PA": ("Pennsylvania", "America/New_York"),
    "PR": ("Puerto Rico", "America/Puerto_Rico"),
    "RI": ("Rhode Island", "America/New_York"),
    "SC": ("South Carolina", "America/New_York"),
    "SD": ("South Dakota", "America/Chicago"),
    "TN": ("Tennessee", "America/Chicago"),
    "TX": ("Texas", "America/Chicago"),
    "UT": ("Utah", "America/Denver"),
    "VT": ("Vermont", "America/New_York"),
    "VA": ("Virginia", "America/New_York"),
    "WA": ("Washington", "America/Los_Angeles"),
    "WV": ("West Virginia", "America/New_York"),
    "WI": ("Wisconsin", "America/Chicago"),
    "WY": ("Wyoming", "America/Denver"),
}

# Cities whose zone is not their state's main one.
CITY_ZONES: dict[tuple[str, str], str] = {
    ("el paso", "TX"): "America/Denver",
    ("pensacola", "FL"): "America/Chicago",
    ("louisville", "KY"): "America/Kentucky/Louisville",
    ("boise", "ID"): "America/Boise",
    ("coeur d'alene", "ID"): "America/Los_Angeles",
    ("gary", "IN"): "America/Chicago",
}


@dataclass(frozen=True)
class FieldOffice:
    id: str
    name: str
    city: str
    state: str


FIELD_OFFICES: tuple[FieldOffice, ...] = tuple(
    FieldOffice(office_id, name, city, state)
    for office_id, name, city, state in (
        ("atl", "Atlanta Field Office", "Atlanta", "GA"),
        ("bal", "Baltimore Field Office", "Baltimore", "MD"),
        ("bos", "Boston Field Office", "Burlington", "MA"),
        ("buf", "Buffalo Field Office", "Buffalo", "NY"),
        ("chi", "Chicago Field Office", "Chicago", "IL"),
        ("dal", "Dallas Field Office", "Dallas", "TX"),
        ("den", "Denver Field Office", "Centennial", "CO"),
        ("det", "Detroit Field Office", "Detroit", "MI"),
        ("elp", "El Paso Field Office", "El Paso", "TX"),
        ("hou", "Houston Field Office", "Houston", "TX"),
        ("hlg", "Harlingen Field Office", "Harlingen", "TX"),
        ("lax", "Los Angeles Field Office", "Los Angeles", "CA"),
        ("mia", "Miami Field Office", "Miramar", "FL"),
        ("nol", "New Orleans Field Office", "New Orleans", "LA"),
        ("nyc", "New York City Field Office", "New York", "NY"),
        ("nwk", "Newark Field Office", "Newark", "NJ"),
        ("phi", "Philadelphia Field Office", "Philadelphia", "PA"),
        ("phx", "Phoenix Field Office", "Phoenix", "AZ"),
        ("slc", "Salt Lake City Field Office", "West Valley City", "UT"),
        ("snd", "San Diego Field Office", "San Diego", "CA"),
        ("sfr", "San Francisco Field Office", "San Francisco", "CA"),
        ("sea", "Seattle Field Office", "Tukwila", "WA"),
        ("spm", "St. Paul Field Office", "Fort Snelling", "MN"),
        ("sna", "San Antonio Field Office", "San Antonio", "TX"),
        ("wdc", "Washington Field Office", "Chantilly", "VA"),
    )
)
FIELD_OFFICES_BY_ID = {office.id: office for office in FIELD_OFFICES}


def zone_of(city: str, state: str) -> str:
    """The IANA zone an action in `city`, `state` keeps its times in."""
    return CITY_ZONES.get((city.strip().lower(), state), STATES[state][1])
