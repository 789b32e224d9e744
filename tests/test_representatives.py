"""Members of Congress by ZIP code: the lookup on the shipped data (real ZIP codes checked
against it), GET /api/representatives, the budgets that let a watch party behind one
address all look up, privacy (nothing kept, logged or cached), and the refresh command
that rebuilds the data (from small files written here, so it needs no network)."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from eventrunner.cli import main
from eventrunner.congress.lookup import (
    DATA_DIR,
    NO_SENATORS,
    NOT_A_DISTRICT,
    NOT_A_ZIP,
    BadQuery,
    Directory,
    prefix_states,
)
from eventrunner.congress.refresh import RefreshError, refresh
from eventrunner.web.rendering import Pages
from eventrunner.web.representatives import PER_ADDRESS, RepresentativeRoutes, shipped_directory

from .process import ServerProcess


@pytest.fixture(scope="module")
def shipped() -> Directory:
    return shipped_directory()


def house_ids(answer: dict) -> list[str]:
    return [member["district"] for member in answer["representatives"]]


def states_of(members: list[dict]) -> set[str]:
    return {member["state"] for member in members}


# --- the lookup ----------------------------------------------------------------------


def test_a_zip_in_one_district_has_two_senators_and_one_representative(shipped):
    answer = shipped.lookup("10013").as_json()  # Manhattan, Tribeca
    assert [d["id"] for d in answer["districts"]] == ["NY-10"]
    assert [s["role"] for s in answer["senators"]] == ["senator", "senator"]
    assert states_of(answer["senators"]) == {"NY"}
    assert house_ids(answer) == ["NY-10"]
    assert answer["representatives"][0]["role"] == "representative"
    assert answer["state"] == "NY" and answer["state_name"] == "New York"
    assert answer["notes"] == []
    assert answer["as_of"] == "2026-06-15"


def test_a_zip_across_districts_lists_each_and_asks_to_pick(shipped):
    answer = shipped.lookup("10001").as_json()  # Manhattan, Chelsea
    assert [d["id"] for d in answer["districts"]] == ["NY-10", "NY-12"]
    assert house_ids(answer) == ["NY-10", "NY-12"]
    assert len(answer["senators"]) == 2
    (note,) = answer["notes"]
    assert note["code"] == "several_districts" and note["count"] == 2
    assert note["text"] == "ZIP code 10001 is in 2 congressional districts: pick yours."


def test_picking_a_district_narrows_to_its_representative(shipped):
    answer = shipped.lookup("10001", "NY-12").as_json()
    assert house_ids(answer) == ["NY-12"]
    assert [d["id"] for d in answer["districts"]] == ["NY-10", "NY-12"]  # the picker keeps its choices
    assert len(answer["senators"]) == 2
    assert answer["notes"] == []


def test_a_zip_across_a_state_line_has_both_states_senators_until_one_is_picked(shipped):
    answer = shipped.lookup("30165").as_json()  # Rome, GA, reaching into Alabama
    assert [d["id"] for d in answer["districts"]] == ["AL-03", "GA-14"]
    assert answer["state"] is None
    assert states_of(answer["senators"]) == {"AL", "GA"} and len(answer["senators"]) == 4
    picked = shipped.lookup("30165", "GA-14").as_json()
    assert states_of(picked["senators"]) == {"GA"} and len(picked["senators"]) == 2
    assert house_ids(picked) == ["GA-14"] and picked["state"] == "GA"


@pytest.mark.parametrize(("zip_code", "state"), [("82001", "WY"), ("05401", "VT"), ("99501", "AK")])
def test_an_at_large_state_has_one_representative_for_the_whole_state(shipped, zip_code, state):
    answer = shipped.lookup(zip_code).as_json()
    (district,) = answer["districts"]
    assert district == {
        "id": f"{state}-00",
        "state": state,
        "state_name": district["state_name"],
        "number": 0,
        "at_large": True,
    }
    assert house_ids(answer) == [f"{state}-00"]
    assert answer["representatives"][0]["role"] == "representative"
    assert states_of(answer["senators"]) == {state} and len(answer["senators"]) == 2


def test_dc_has_a_delegate_and_no_senators_and_says_so(shipped):
    answer = shipped.lookup("20001").as_json()
    assert answer["senators"] == []
    (delegate,) = answer["representatives"]
    assert delegate["role"] == "delegate" and delegate["district"] == "DC-00"
    assert answer["notes"] == [
        {
            "code": "no_senators",
            "text": "District of Columbia has no senators and a non-voting delegate in the House.",
            "state": "DC",
            "state_name": "District of Columbia",
        }
    ]


@pytest.mark.parametrize(
    ("zip_code", "territory", "role"),
    [
        ("00901", "PR", "resident_commissioner"),  # San Juan: in the Census data
        ("96910", "GU", "delegate"),  # Hagåtña: placed by hand (no ZCTAs outside the states, DC, PR)
        ("00802", "VI", "delegate"),
        ("96799", "AS", "delegate"),
        ("96950", "MP", "delegate"),
    ],
)
def test_a_territory_has_its_delegate_and_no_senators(shipped, zip_code, territory, role):
    answer = shipped.lookup(zip_code).as_json()
    assert answer["senators"] == []
    assert [(m["role"], m["district"]) for m in answer["representatives"]] == [(role, f"{territory}-00")]
    assert [n["code"] for n in answer["notes"]] == ["no_senators"]
    seat = "resident commissioner" if territory == "PR" else "delegate"
    assert f"no senators and a non-voting {seat}" in answer["notes"][0]["text"]


def test_an_unknown_zip_says_why_plainly(shipped):
    found = shipped.lookup("00000")
    answer = found.as_json()
    assert not found.found
    assert answer["error"] == (
        "ZIP code 00000 was not found: the Census Bureau's ZIP code areas leave out ZIP codes "
        "that only serve PO boxes or a single organization. Try the ZIP code of your home address."
    )
    assert answer["senators"] == answer["representatives"] == answer["districts"] == []
    assert answer["state"] is None


def test_a_po_box_zip_gets_the_senators_of_the_state_its_digits_name(shipped):
    answer = shipped.lookup("10008").as_json()  # New York's Church Street Station PO boxes
    assert "ZIP codes starting with 100 are in New York." in answer["error"]
    assert states_of(answer["senators"]) == {"NY"} and len(answer["senators"]) == 2
    assert answer["representatives"] == [] and answer["districts"] == []  # 26 districts: it depends
    assert answer["notes"][0] | {"text": ""} == {
        "code": "unknown_zip",
        "text": "",
        "prefix": "100",
        "state": "NY",
        "state_name": "New York",
    }


def test_a_po_box_zip_of_an_at_large_state_gets_its_representative_too(shipped):
    answer = shipped.lookup("82003").as_json()  # Cheyenne PO boxes
    assert answer["error"].endswith(
        "ZIP codes starting with 820 are in Wyoming, which has one seat in the House."
    )
    assert house_ids(answer) == ["WY-00"] and len(answer["senators"]) == 2


def test_a_vacant_seat_is_named(shipped):
    answer = shipped.lookup("94541").as_json()  # Hayward, CA-14: vacant on 2026-06-15
    assert answer["representatives"] == []
    assert {"code": "vacant", "text": "The House seat for CA-14 is vacant.", "district": "CA-14"} in answer[
        "notes"
    ]
    assert len(answer["senators"]) == 2


@pytest.mark.parametrize(
    "zip_code", ["", "abc", "1234", "123456", "12 34", "1234a", "١٢٣٤٥", "10001\n", "10001-1234"]
)
def test_a_malformed_zip_is_refused(shipped, zip_code):
    with pytest.raises(BadQuery, match=re.escape(NOT_A_ZIP)):
        shipped.lookup(zip_code)


@pytest.mark.parametrize("district", ["ny-10", "NY10", "NY-1", "NY-100", ""])
def test_a_malformed_district_is_refused(shipped, district):
    with pytest.raises(BadQuery, match=re.escape(NOT_A_DISTRICT)):
        shipped.lookup("10001", district)


def test_a_district_the_zip_is_not_in_is_refused(shipped):
    with pytest.raises(BadQuery, match=r"District NY-14 is not one of ZIP code 10001's: NY-10, NY-12\."):
        shipped.lookup("10001", "NY-14")


def test_a_prefix_names_the_state_of_most_of_its_areas():
    zctas = {
        "57601": ("SD-00",),
        "57602": ("SD-00",),
        "57603": ("ND-00",),  # a stray area across the line does not outvote the rest
        "57604": ("ND-00", "SD-00"),  # nor does one straddling it count
        "88101": ("NM-02",),
        "88102": ("TX-19",),  # a tie names no state
    }
    assert prefix_states(zctas) == {"576": "SD"}


# --- the shipped data ----------------------------------------------------------------


def test_the_shipped_data_covers_every_state_and_seat(shipped):
    members = json.loads((DATA_DIR / "legislators.json").read_text())
    assert date.fromisoformat(members["as_of"])
    senate = [m for m in members["members"] if m["chamber"] == "senate"]
    house = [m for m in members["members"] if m["chamber"] == "house"]
    states = {m["state"] for m in senate}
    assert len(states) == 50 and len(senate) == 100 and not states & NO_SENATORS
    assert {m["state"] for m in house if m["district"].endswith("-00")} >= NO_SENATORS
    assert 430 <= len(house) <= 441
    for member in members["members"]:
        assert set(member) == {
            "bioguide",
            "name",
            "chamber",
            "state",
            "district",
            "party",
            "url",
            "contact_form",
            "phone",
            "address",
        }
        assert re.fullmatch(r"[A-Z][0-9]{6}", member["bioguide"]) and member["name"]
        for link in (member["url"], member["contact_form"]):
            assert link is None or re.fullmatch(r"https?://\S+", link)
    lines = [
        line.split()
        for line in (DATA_DIR / "districts.txt").read_text().splitlines()
        if not line.startswith("#")
    ]
    assert all(re.fullmatch(r"[A-Z]{2}-[0-9]{2}", district) for district, *_ in lines)
    assert all(re.fullmatch(r"[0-9]{5}", zcta) for _, *zctas in lines for zcta in zctas)
    assert 435 <= len(lines) <= 437  # the House's seats, DC's and Puerto Rico's
    assert len({zcta for _, *zctas in lines for zcta in zctas}) > 33_000


def test_the_shipped_data_stays_small():
    # It ships in every wheel and is read at every start.
    assert sum(path.stat().st_size for path in DATA_DIR.glob("*")) < 600_000


# --- the API -------------------------------------------------------------------------


async def get(url: str, query: str) -> tuple[int, dict, Mapping[str, str]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{url}/api/representatives?{query}") as answer,
    ):
        return answer.status, await answer.json(), answer.headers


async def test_the_api_answers_a_zip_with_senators_representatives_and_districts(running):
    status, answer, headers = await get(running.url, "zip=10001")
    assert status == 200
    assert {"senators", "representatives", "districts"} <= set(answer)
    assert [d["id"] for d in answer["districts"]] == ["NY-10", "NY-12"]
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Referrer-Policy"] == "no-referrer"


async def test_the_api_narrows_to_a_picked_district(running):
    status, answer, _ = await get(running.url, "zip=10001&district=NY-10")
    assert status == 200 and house_ids(answer) == ["NY-10"]


async def test_the_api_answers_404_with_a_clear_message_for_an_unknown_zip(running):
    status, answer, headers = await get(running.url, "zip=00000")
    assert status == 404
    assert answer["error"].startswith("ZIP code 00000 was not found")
    assert headers["Cache-Control"] == "private, no-store"
    status, answer, _ = await get(running.url, "zip=10008")
    assert status == 404 and len(answer["senators"]) == 2


@pytest.mark.parametrize(
    "query", ["zip=abc", "zip=1234", "zip=123456", "", "zip=", "zip=%3Cb%3E", "zip=10001&district=NY-14"]
)
async def test_the_api_refuses_malformed_input_with_400(running, query):
    status, answer, headers = await get(running.url, query)
    assert status == 400
    assert answer["error"]
    assert "<b>" not in answer["error"]  # never echoes what it was sent
    assert headers["Cache-Control"] == "private, no-store"
    assert headers["Referrer-Policy"] == "no-referrer"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_a_watch_party_behind_one_address_can_all_look_up(shipped):
    """The route's own budget (see the report about /api's per-address budget in the
    middleware): hundreds at once from one address, then 20 a second; a refused lookup
    is told when to try again."""
    clock = Clock()
    app = web.Application()
    RepresentativeRoutes(shipped, clock=clock).register(app)
    async with TestClient(TestServer(app)) as client:
        for _ in range(PER_ADDRESS[1]):
            async with client.get("/api/representatives?zip=82001") as answer:
                assert answer.status == 200
        async with client.get("/api/representatives?zip=82001") as answer:
            assert answer.status == 429
            assert answer.headers["Retry-After"] == "1"
            assert answer.headers["Cache-Control"] == "private, no-store"
            assert "try again in 1 s" in (await answer.json())["error"]
        clock.now += 1.0
        for _ in range(20):
            async with client.get("/api/representatives?zip=82001") as answer:
                assert answer.status == 200


async def test_every_address_together_has_a_cap(shipped):
    clock = Clock()
    routes = RepresentativeRoutes(shipped, clock=clock)
    many = [f"198.51.100.{n}" for n in range(1, 251)]
    allowed = sum(routes._budget.take(address) == 0 for _ in range(30) for address in many)
    assert allowed == 5000  # the overall burst; each address alone would have had 30
    assert routes._budget.take("203.0.113.9") > 0  # a newcomer waits too


@pytest.mark.slow
async def test_the_server_logs_nothing_the_viewer_typed(tmp_path):
    server = ServerProcess(["--demo"], tmp_path / "data").start()
    try:
        for query in ("zip=82001", "zip=10001&district=NY-12", "zip=07777", "zip=4545x"):
            await get(server.url, query)
    finally:
        server.stop()
    log = server.log_after_exit()
    for typed in ("82001", "10001", "NY-12", "07777", "4545x", "representatives"):
        assert typed not in log


# --- refreshing the data -------------------------------------------------------------

LEGISLATORS_YAML = """\
- id: {bioguide: S000001}
  name: {first: Ann, last: Senior, official_full: Ann Q. Senior}
  terms:
  - {type: rep, start: '2001-01-03', end: '2003-01-03', state: WY, district: 0, party: Democrat}
  - {type: sen, start: '2021-01-03', end: '2027-01-03', state: WY, party: Republican, state_rank: senior,
     url: 'https://www.senior.senate.gov', contact_form: 'https://www.senior.senate.gov/contact',
     phone: 202-224-0001, address: 1 Hart Senate Office Building Washington DC 20510}
- id: {bioguide: J000001}
  name: {first: Bo, last: Junior, suffix: Jr.}
  terms:
  - {type: sen, start: '2023-01-03', end: '2029-01-03', state: WY, party: Independent, state_rank: junior,
     url: 'javascript:alert(1)', office: 2 Russell Senate Office Building}
- id: {bioguide: H000001}
  name: {first: Cy, last: House, official_full: Cy House}
  terms:
  - {type: rep, start: '2025-01-03', end: '2027-01-03', state: WY, district: 0, party: Republican,
     url: 'https://house.house.gov', phone: 202-225-0001}
- id: {bioguide: D000001}
  name: {first: Di, last: Delegate, official_full: Di Delegate}
  terms:
  - {type: rep, start: '2025-01-03', end: '2027-01-03', state: GU, district: 0, party: Democrat}
"""
DISTRICTS_CSV = """\
state_fips,state_abbr,zcta,cd
56,WY,82001,0
56,WY,82007,0
01,AL,35005,6
01,AL,35005,7
"""


def sources(
    tmp_path: Path, legislators: str = LEGISLATORS_YAML, districts: str = DISTRICTS_CSV
) -> tuple[str, str]:
    (tmp_path / "legislators.yaml").write_text(legislators)
    (tmp_path / "zccd.csv").write_text(districts)
    return str(tmp_path / "legislators.yaml"), str(tmp_path / "zccd.csv")


def test_refresh_builds_what_the_lookup_reads(tmp_path):
    out = tmp_path / "out"
    done = refresh(*sources(tmp_path), out, date(2026, 6, 15))
    assert (done.members, done.zctas, done.districts) == (4, 3, 3)
    assert done.warnings == [
        "no representative for AL-06 (a vacant seat?)",
        "no representative for AL-07 (a vacant seat?)",
        "no representative for AS-00 (a vacant seat?)",
        "no representative for MP-00 (a vacant seat?)",
        "no representative for VI-00 (a vacant seat?)",
        "AL has 0 of its 2 senators",
    ]
    assert (out / "districts.txt").read_text().splitlines()[-3:] == [
        "AL-06 35005",
        "AL-07 35005",
        "WY-00 82001 82007",
    ]
    directory = Directory.load(out)
    assert directory.as_of == "2026-06-15"
    answer = directory.lookup("82007").as_json()
    assert [(s["name"], s["party"]) for s in answer["senators"]] == [
        ("Ann Q. Senior", "Republican"),
        ("Bo Junior Jr.", "Independent"),
    ]
    junior = answer["senators"][1]
    assert junior["url"] is None  # not an http(s) address: never a link on the page
    assert junior["address"] == "2 Russell Senate Office Building"
    assert answer["representatives"][0]["name"] == "Cy House"
    assert directory.lookup("96910").as_json()["representatives"][0]["name"] == "Di Delegate"
    assert directory.lookup("35005").as_json()["notes"][0]["code"] == "several_districts"


async def test_refresh_reads_its_sources_from_urls(tmp_path):
    files = dict(zip(("/legislators-current.yaml", "/zccd.csv"), sources(tmp_path), strict=True))

    async def upstream_file(request: web.Request) -> web.StreamResponse:
        if request.path not in files:
            raise web.HTTPNotFound()
        return web.FileResponse(files[request.path])

    app = web.Application()
    app.router.add_get("/{name}", upstream_file)
    async with TestServer(app) as upstream:
        legislators, districts, missing = (
            str(upstream.make_url(path))
            for path in ("/legislators-current.yaml", "/zccd.csv", "/missing.csv")
        )
        done = await asyncio.to_thread(refresh, legislators, districts, tmp_path / "out", date(2026, 6, 15))
        assert done.members == 4
        with pytest.raises(RefreshError, match=r"cannot read .*/missing\.csv: HTTP Error 404"):
            await asyncio.to_thread(refresh, legislators, missing, tmp_path / "out", date(2026, 6, 15))


def test_refresh_writes_the_same_bytes_from_the_same_sources(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    refresh(*sources(tmp_path), first, date(2026, 6, 15))
    refresh(*sources(tmp_path), second, date(2026, 6, 15))
    for name in ("legislators.json", "districts.txt"):
        assert (first / name).read_bytes() == (second / name).read_bytes()
    assert not list(first.glob("*.partial"))


@pytest.mark.parametrize(
    ("legislators", "districts", "problem"),
    [
        ("not: [a, list", DISTRICTS_CSV, "the legislators file is not YAML"),
        ("{}", DISTRICTS_CSV, "not a list of members"),
        (
            "- {id: {bioguide: X000001}, name: {first: X}, terms: []}",
            DISTRICTS_CSV,
            "lacks its id, name or current term",
        ),
        (LEGISLATORS_YAML, "zip,district\n82001,0\n", "not a CSV of state_abbr, zcta, cd"),
        (
            LEGISLATORS_YAML,
            "state_fips,state_abbr,zcta,cd\n56,WY,8200,0\n",
            "line 2: '8200' in 'WY' district '0'",
        ),
        (LEGISLATORS_YAML, "state_fips,state_abbr,zcta,cd\n", "no rows"),
    ],
)
def test_refresh_refuses_sources_that_are_not_what_they_should_be(tmp_path, legislators, districts, problem):
    out = tmp_path / "out"
    with pytest.raises(RefreshError, match=re.escape(problem)):
        refresh(*sources(tmp_path, legislators, districts), out, date(2026, 6, 15))
    assert not out.exists() or not list(out.iterdir())  # nothing half-written


def test_the_refresh_command(tmp_path, capsys):
    legislators, districts = sources(tmp_path)
    out = tmp_path / "out"
    args = [
        "congress-refresh",
        "--legislators",
        legislators,
        "--districts",
        districts,
        "--as-of",
        "2026-06-15",
    ]
    assert main([*args, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"4 members as of 2026-06-15, 3 ZIP code areas in 3 districts, written to {out}" in printed
    assert "  check: no representative for AL-06 (a vacant seat?)" in printed
    assert json.loads((out / "legislators.json").read_text())["as_of"] == "2026-06-15"
    assert (
        main(
            [
                "congress-refresh",
                "--legislators",
                str(tmp_path / "missing.yaml"),
                "--districts",
                districts,
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "eventrunner congress-refresh: cannot read" in capsys.readouterr().err


def test_the_refresh_command_defaults_to_the_upstream_files(capsys):
    with pytest.raises(SystemExit):
        main(["congress-refresh", "--help"])
    printed = "".join(capsys.readouterr().out.split())  # argparse wraps lines at hyphens
    assert (
        "raw.githubusercontent.com/unitedstates/congress-legislators/main/legislators-current.yaml" in printed
    )
    assert "raw.githubusercontent.com/OpenSourceActivismTech/us-zipcodes-congress/master/zccd.csv" in printed


# --- the panel on the participant page --------------------------------------------------

LETTER = "Dear Representative/Senator [Name],\n\nI'm your constituent from [CITY/TOWN].\n\n[Your Name]\n[Your City]"


def panel(congress: bool, language: str = "en") -> str:
    segment = {
        "id": "email-congress",
        "email": {
            "recipients": "your 2 Senators and 1 Representative",
            "subject": "Release them",
            "body": LETTER,
            "congress": congress,
            "translations": {"es": {"subject": "Libérenlos"}},
        },
    }
    env = Pages(static_url=lambda path: f"/static/{path}").envs[language]
    template = env.from_string(
        '{% from "congress.html" import congress_panel %}{{ congress_panel(segment) }}'
    )
    return template.render(segment=segment)


def test_the_panel_shows_only_for_an_email_to_congress():
    assert panel(congress=False).strip() == ""
    assert panel(congress=True).count("data-congress") == 1


def test_the_panel_sends_nothing_but_the_zip_code():
    html = panel(congress=True)
    form = html[html.index("<form") : html.index("</form>")]
    # No field has a name and the form no action: nothing typed can reach a URL by a
    # plain submit, and the form shows only once the script has taken it over.
    assert " name=" not in form and "action=" not in form
    assert re.search(r"<form [^>]*\bhidden\b", form)
    zip_input = re.search(r'<input [^>]*id="congress-email-congress-zip"[^>]*>', form).group(0)
    assert 'inputmode="numeric"' in zip_input and 'autocomplete="postal-code"' in zip_input
    assert (
        'aria-describedby="congress-email-congress-zip-hint congress-email-congress-zip-error"' in zip_input
    )
    for field in ("zip", "name", "city"):
        assert f'<label for="congress-email-congress-{field}">' in form
    assert 'role="status" aria-live="polite"' in html


def test_the_panel_carries_the_letter_to_fill_in_the_pages_language():
    html = panel(congress=True)
    assert "Dear Representative/Senator [Name],\n\nI&#39;m your constituent from [CITY/TOWN]." in html
    assert ">Release them</p>" in html
    assert ">Libérenlos</p>" in panel(congress=True, language="es")


async def test_a_watch_party_of_hundreds_behind_one_address_all_find_their_members(running):
    """Through the whole app (its /api budget of 60 at once per address included): the
    lookup keeps its own, larger budget, so 300 phones on one venue Wi-Fi all get answers."""
    async with aiohttp.ClientSession() as session:

        async def lookup() -> int:
            async with session.get(f"{running.url}/api/representatives?zip=10001") as answer:
                return answer.status

        statuses = await asyncio.gather(*(lookup() for _ in range(300)))
    assert statuses.count(200) == 300, sorted(set(statuses))
