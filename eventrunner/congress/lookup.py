"""Who represents a ZIP code in Congress: the senators of its state and the member of the
House for each congressional district it lies in, from the files in data/ (made by
refresh.py). Loaded once, answered from memory; nothing asked is kept."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eventrunner.checkins.places import STATES

DATA_DIR = Path(__file__).resolve().parent / "data"
MEMBERS_FILE = "legislators.json"
DISTRICTS_FILE = "districts.txt"

# [0-9], not \d: \d also matches other scripts' digits ("١٢٣٤٥").
ZIP_CODE = re.compile(r"[0-9]{5}")
DISTRICT_ID = re.compile(r"[A-Z]{2}-[0-9]{2}")  # "NY-10"; "WY-00" for an at-large seat

# The Census Bureau's ZIP code areas cover the states, DC and Puerto Rico only: the other
# territories' ZIP codes (USPS ranges, first to last) are placed here. Each is one seat.
TERRITORY_ZIPS: tuple[tuple[str, str, str], ...] = (
    ("00801", "00851", "VI"),
    ("96799", "96799", "AS"),
    ("96910", "96932", "GU"),
    ("96950", "96952", "MP"),
)
TERRITORY_NAMES = {
    "AS": "American Samoa",
    "GU": "Guam",
    "MP": "Northern Mariana Islands",
    "VI": "U.S. Virgin Islands",
}
# No senators, and in the House a non-voting delegate (Puerto Rico: resident commissioner).
NO_SENATORS = frozenset({"DC", "PR", *TERRITORY_NAMES})

NOT_A_ZIP = "Enter a 5-digit ZIP code, such as 20001."
NOT_A_DISTRICT = "A district looks like NY-10 (WY-00 for a state with one representative)."
NOT_IN_CENSUS = (
    "ZIP code {zip} was not found: the Census Bureau's ZIP code areas leave out ZIP codes "
    "that only serve PO boxes or a single organization."
)


class BadQuery(ValueError):
    """The question is malformed (the message says how to ask)."""


def state_name(code: str) -> str:
    return STATES[code][0] if code in STATES else TERRITORY_NAMES.get(code, code)


def _territory_of(zip_code: str) -> str | None:
    return next((code for first, last, code in TERRITORY_ZIPS if first <= zip_code <= last), None)


@dataclass(frozen=True)
class Member:
    bioguide: str
    name: str
    chamber: str  # "senate" or "house"
    state: str
    district: str | None  # "NY-10"; None for a senator
    party: str
    url: str | None
    contact_form: str | None
    phone: str | None
    address: str | None

    @property
    def role(self) -> str:
        if self.chamber == "senate":
            return "senator"
        if self.state == "PR":
            return "resident_commissioner"
        return "delegate" if self.state in NO_SENATORS else "representative"

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "state_name": state_name(self.state), "role": self.role}


@dataclass(frozen=True)
class District:
    id: str  # "NY-10"

    @property
    def state(self) -> str:
        return self.id[:2]

    @property
    def number(self) -> int:
        return int(self.id[3:])

    def as_json(self) -> dict[str, Any]:
        state = self.state
        return {
            "id": self.id,
            "state": state,
            "state_name": state_name(state),
            "number": self.number,
            "at_large": self.number == 0,
        }


@dataclass(frozen=True)
class Note:
    """Something the viewer should know, as English `text` and as a `code` with `params`
    from which a page says it in the viewer's language."""

    code: str
    text: str
    params: dict[str, str | int] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "text": self.text, **self.params}


@dataclass(frozen=True)
class Lookup:
    zip: str
    found: bool  # False: not a ZIP code of the data; `state` may still name its state
    state: str | None  # the one state (or DC, territory) of the answer, if there is one
    districts: tuple[District, ...]  # every district of the ZIP code
    senators: tuple[Member, ...]
    representatives: tuple[Member, ...]  # one per district asked about; none for a vacant seat
    notes: tuple[Note, ...]
    as_of: str  # the date of the member data

    def as_json(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "zip": self.zip,
            "state": self.state,
            "state_name": state_name(self.state) if self.state else None,
            "senators": [member.as_json() for member in self.senators],
            "representatives": [member.as_json() for member in self.representatives],
            "districts": [district.as_json() for district in self.districts],
            "notes": [note.as_json() for note in self.notes],
            "as_of": self.as_of,
        }
        if not self.found:
            answer["error"] = next(note.text for note in self.notes if note.code == "unknown_zip")
        return answer


def prefix_states(zctas: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """First three digits -> the state holding most of the ZIP code areas that start so
    and lie in one state. USPS gives each prefix to one state; an area straddling a
    state line does not count, and a stray area across it does not outvote the rest."""
    counts: dict[str, Counter[str]] = {}
    for zcta, ids in zctas.items():
        states = {district[:2] for district in ids}
        if len(states) == 1:
            counts.setdefault(zcta[:3], Counter())[states.pop()] += 1
    prefixes = {}
    for prefix, states in counts.items():
        state, most = states.most_common(1)[0]
        if most * 2 > sum(states.values()):
            prefixes[prefix] = state
    return prefixes


class Directory:
    def __init__(self, members: list[Member], zctas: dict[str, tuple[str, ...]], as_of: str) -> None:
        self.as_of = as_of
        self._zctas = zctas
        self._senators: dict[str, list[Member]] = {}
        self._house: dict[str, Member] = {}
        for member in members:
            if member.district is None:
                self._senators.setdefault(member.state, []).append(member)
            else:
                self._house[member.district] = member
        self._districts_of_state: dict[str, set[str]] = {}
        for ids in zctas.values():
            for district in ids:
                self._districts_of_state.setdefault(district[:2], set()).add(district)
        self._prefixes = prefix_states(zctas)

    @classmethod
    def load(cls, data_dir: Path = DATA_DIR) -> Directory:
        shipped = json.loads((data_dir / MEMBERS_FILE).read_text(encoding="utf-8"))
        members = [Member(**member) for member in shipped["members"]]
        zctas: dict[str, list[str]] = {}
        for line in (data_dir / DISTRICTS_FILE).read_text(encoding="utf-8").splitlines():
            if line and not line.startswith("#"):
                district, *areas = line.split()
                for zcta in areas:
                    zctas.setdefault(zcta, []).append(district)
        return cls(members, {zcta: tuple(ids) for zcta, ids in zctas.items()}, shipped["as_of"])

    def lookup(self, zip_code: str, district: str | None = None) -> Lookup:
        """The members for `zip_code`; `district`, one of its districts, narrows them to
        that district's representative and its state's senators. BadQuery if either is
        malformed or the district is not one of the ZIP code's."""
        if not ZIP_CODE.fullmatch(zip_code):
            raise BadQuery(NOT_A_ZIP)
        if district is not None and not DISTRICT_ID.fullmatch(district):
            raise BadQuery(NOT_A_DISTRICT)
        territory = _territory_of(zip_code)
        ids = self._zctas.get(zip_code) or ((f"{territory}-00",) if territory else ())
        if not ids:
            return self._unknown(zip_code)
        if district is not None and district not in ids:
            raise BadQuery(f"District {district} is not one of ZIP code {zip_code}'s: {', '.join(ids)}.")
        districts = tuple(District(i) for i in ids)
        asked = [District(district)] if district else list(districts)
        states = list(dict.fromkeys(d.state for d in asked))
        notes = []
        if len(districts) > 1 and district is None:
            count = len(districts)
            text = f"ZIP code {zip_code} is in {count} congressional districts: pick yours."
            notes.append(Note("several_districts", text, {"count": count}))
        notes += self._state_notes(states)
        notes += self._vacancies(asked)
        return Lookup(
            zip=zip_code,
            found=True,
            state=states[0] if len(states) == 1 else None,
            districts=districts,
            senators=tuple(s for state in states for s in self._senators.get(state, ())),
            representatives=tuple(self._house[d.id] for d in asked if d.id in self._house),
            notes=tuple(notes),
            as_of=self.as_of,
        )

    def _unknown(self, zip_code: str) -> Lookup:
        """Not a ZIP code area: the senators of the state its first three digits name,
        and its representative too when the state has only one."""
        state = self._prefixes.get(zip_code[:3])
        text = NOT_IN_CENSUS.format(zip=zip_code)
        if state is None:
            note = Note("unknown_zip", f"{text} Try the ZIP code of your home address.")
            return Lookup(zip_code, False, None, (), (), (), (note,), self.as_of)
        seats = sorted(self._districts_of_state.get(state, ()))
        districts = tuple(District(i) for i in seats) if len(seats) == 1 else ()
        name = state_name(state)
        text += f" ZIP codes starting with {zip_code[:3]} are in {name}"
        text += ", which has one seat in the House." if districts else "."
        notes = [Note("unknown_zip", text, {"prefix": zip_code[:3], "state": state, "state_name": name})]
        notes += self._state_notes([state])
        notes += self._vacancies(districts)
        return Lookup(
            zip=zip_code,
            found=False,
            state=state,
            districts=districts,
            senators=tuple(self._senators.get(state, ())),
            representatives=tuple(self._house[d.id] for d in districts if d.id in self._house),
            notes=tuple(notes),
            as_of=self.as_of,
        )

    @staticmethod
    def _state_notes(states: list[str]) -> list[Note]:
        notes = []
        for state in states:
            if state in NO_SENATORS:
                name = state_name(state)
                seat = "resident commissioner" if state == "PR" else "delegate"
                text = f"{name} has no senators and a non-voting {seat} in the House."
                notes.append(Note("no_senators", text, {"state": state, "state_name": name}))
        return notes

    def _vacancies(self, districts: list[District] | tuple[District, ...]) -> list[Note]:
        return [
            Note("vacant", f"The House seat for {d.id} is vacant.", {"district": d.id})
            for d in districts
            if d.id not in self._house
        ]
