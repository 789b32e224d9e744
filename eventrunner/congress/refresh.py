"""Rebuilds data/legislators.json and data/districts.txt from their public sources (see
data/PROVENANCE.md): the current members of Congress (unitedstates/congress-legislators,
legislators-current.yaml) and ZIP code areas to congressional districts (a zccd.csv of
OpenSourceActivismTech/us-zipcodes-congress), each from a URL or a local file."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from eventrunner.congress.lookup import (
    DISTRICT_ID,
    DISTRICTS_FILE,
    MEMBERS_FILE,
    NO_SENATORS,
    TERRITORY_ZIPS,
    ZIP_CODE,
)

LEGISLATORS_URL = (
    "https://raw.githubusercontent.com/unitedstates/congress-legislators/main/legislators-current.yaml"
)
DISTRICTS_URL = (
    "https://raw.githubusercontent.com/OpenSourceActivismTech/us-zipcodes-congress/master/zccd.csv"
)
FETCH_TIMEOUT_S = 60
MAX_SOURCE_BYTES = 64 * 1024 * 1024  # both sources are about 1 MB
STATE_CODE = re.compile(r"[A-Z]{2}")
WEB_ADDRESS = re.compile(r"https?://\S+")
DISTRICTS_HEADER = """\
# ZIP code tabulation areas (ZCTAs) by congressional district: one line per district,
# "ST-NN" (00: the one seat of a state, DC or Puerto Rico), then its ZCTAs. An area that
# spans districts is on each of their lines. Made by `eventrunner congress-refresh`
# (see PROVENANCE.md); do not edit by hand.
"""


class RefreshError(Exception):
    """A source cannot be read or is not what it should be."""


@dataclass(frozen=True)
class Refreshed:
    members: int
    zctas: int
    districts: int
    warnings: list[str]


def read_source(where: str) -> bytes:
    """The bytes of an http(s) URL or a local file."""
    try:
        if re.match(r"https?://", where):
            with urllib.request.urlopen(where, timeout=FETCH_TIMEOUT_S) as answer:
                data: bytes = answer.read(MAX_SOURCE_BYTES + 1)
        else:
            data = Path(where).read_bytes()
    except (OSError, ValueError) as error:
        raise RefreshError(f"cannot read {where}: {error}") from error
    if len(data) > MAX_SOURCE_BYTES:
        raise RefreshError(f"{where} is larger than {MAX_SOURCE_BYTES // (1024 * 1024)} MB")
    return data


def _web_address(value: Any) -> str | None:
    # Only http(s) addresses reach the page's links.
    return value if isinstance(value, str) and WEB_ADDRESS.fullmatch(value) else None


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def members_from_yaml(data: bytes) -> list[dict[str, Any]]:
    """What the page shows of each current member (their latest term), senators of a
    state senior first, then the House by district."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        entries = yaml.load(data, Loader=loader)
    except yaml.YAMLError as error:
        raise RefreshError(f"the legislators file is not YAML: {error}") from error
    if not isinstance(entries, list) or not entries:
        raise RefreshError("the legislators file is not a list of members")
    members = []
    for entry in entries:
        try:
            bioguide, name, term = entry["id"]["bioguide"], entry["name"], entry["terms"][-1]
            chamber = {"sen": "senate", "rep": "house"}[term["type"]]
            state = term["state"]
            district = f"{state}-{int(term['district']):02d}" if chamber == "house" else None
        except (KeyError, IndexError, TypeError, ValueError) as error:
            raise RefreshError(f"a member's entry lacks its id, name or current term: {error!r}") from error
        if not STATE_CODE.fullmatch(state) or (district and not DISTRICT_ID.fullmatch(district)):
            raise RefreshError(f"{bioguide}: state {state!r} or district {district!r} is malformed")
        full = name.get("official_full") or " ".join(
            part for part in (name.get("first"), name.get("last"), name.get("suffix")) if part
        )
        rank = 0 if term.get("state_rank") == "senior" else 1
        key = (state, chamber != "senate", rank, district or "")
        members.append(
            (
                key,
                {
                    "bioguide": bioguide,
                    "name": full,
                    "chamber": chamber,
                    "state": state,
                    "district": district,
                    "party": _text(term.get("party")) or "",
                    "url": _web_address(term.get("url")),
                    "contact_form": _web_address(term.get("contact_form")),
                    "phone": _text(term.get("phone")),
                    "address": _text(term.get("address")) or _text(term.get("office")),
                },
            )
        )
    return [member for _, member in sorted(members, key=lambda pair: pair[0])]


def districts_from_csv(data: bytes) -> dict[str, list[str]]:
    """District ("ST-NN") -> its ZIP code areas, from rows of state_abbr, zcta and cd."""
    try:
        rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig")))
        districts: dict[str, set[str]] = {}
        for line, row in enumerate(rows, start=2):
            state, zcta, number = row["state_abbr"].strip(), row["zcta"].strip(), row["cd"].strip()
            district = f"{state}-{int(number):02d}" if number.isdigit() else ""
            if not ZIP_CODE.fullmatch(zcta) or not DISTRICT_ID.fullmatch(district):
                raise RefreshError(f"districts file, line {line}: {zcta!r} in {state!r} district {number!r}")
            districts.setdefault(district, set()).add(zcta)
    except (UnicodeDecodeError, KeyError, TypeError, AttributeError, csv.Error) as error:
        raise RefreshError(f"the districts file is not a CSV of state_abbr, zcta, cd: {error!r}") from error
    if not districts:
        raise RefreshError("the districts file has no rows")
    return {district: sorted(districts[district]) for district in sorted(districts)}


def warnings_for(members: list[dict[str, Any]], districts: dict[str, list[str]]) -> list[str]:
    """What is worth a look before shipping, though it may be true (a seat falls vacant)."""
    territories = {f"{code}-00" for _, _, code in TERRITORY_ZIPS}
    seats = set(districts) | territories
    house = {m["district"] for m in members if m["chamber"] == "house"}
    states = {district[:2] for district in districts}
    senators: dict[str, int] = {}
    for member in members:
        if member["chamber"] == "senate":
            senators[member["state"]] = senators.get(member["state"], 0) + 1
    found = [f"no representative for {seat} (a vacant seat?)" for seat in sorted(seats - house)]
    found += [f"{seat} has a representative but no ZIP code area" for seat in sorted(house - seats)]
    for state in sorted(states - NO_SENATORS):
        if senators.get(state, 0) != 2:
            found.append(f"{state} has {senators.get(state, 0)} of its 2 senators")
    return found


def _write(path: Path, text: str) -> None:
    # Whole or not at all: a server starting meanwhile reads the old file or the new one.
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def _json_lines(items: Iterable[dict[str, Any]]) -> str:
    # One member a line: a refresh reads as a short diff.
    return ",\n".join(json.dumps(item, ensure_ascii=False) for item in items)


def refresh(legislators: str, districts: str, out_dir: Path, as_of: date) -> Refreshed:
    """Reads both sources (URLs or paths), checks them, then writes both files."""
    members = members_from_yaml(read_source(legislators))
    by_district = districts_from_csv(read_source(districts))
    out_dir.mkdir(parents=True, exist_ok=True)
    _write(
        out_dir / MEMBERS_FILE,
        f'{{"as_of": "{as_of.isoformat()}", "members": [\n{_json_lines(members)}\n]}}\n',
    )
    lines = [" ".join([district, *zctas]) for district, zctas in by_district.items()]
    _write(out_dir / DISTRICTS_FILE, DISTRICTS_HEADER + "\n".join(lines) + "\n")
    zctas = {zcta for areas in by_district.values() for zcta in areas}
    return Refreshed(len(members), len(zctas), len(by_district), warnings_for(members, by_district))
