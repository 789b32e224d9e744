"""Hosting an action and checking in from it, through the API: validation, what waits for
a producer, what the public sees (never a host's contact), moderation over both socket
endpoints, idempotency, rate limits, and what a kill -9 keeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from eventrunner.checkins.forms import ActionForm
from eventrunner.core.validation import parse

from .builders import live_now_schedule
from .conftest import TOKEN
from .process import ServerProcess
from .redisserver import redis_server  # noqa: F401  (a fixture)
from .sockets import Recorder

PRODUCER = {"Authorization": f"Bearer {TOKEN}"}
CONTACT = "host-private@example.org"


def action(**changes: object) -> dict:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    return {
        "title": "Vigil at the Etowah County Detention Center",
        "type": "vigil",
        "venue": "Courthouse lawn",
        "city": "Gadsden",
        "state": "AL",
        "detention_center": "Etowah County Detention Center",
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "description": "Candles and songs for those inside.",
        "contact": CONTACT,
        **changes,
    }


async def call(url: str, method: str, path: str, body: object = None, **headers: str) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        kwargs = {"json": body} if body is not None else {}
        async with session.request(method, url + path, headers=headers, **kwargs) as answer:
            return answer.status, await answer.json()


def api_link(link: str) -> str:
    """Where the check-in page a host's link opens posts its check-ins."""
    return link.replace("/checkin/", "/api/checkin/", 1)


async def approved_action(url: str, **changes: object) -> tuple[str, str]:
    """(the action's id, the address its host posts check-ins to), approved by a producer."""
    status, created = await call(url, "POST", "/api/actions", action(**changes))
    assert status == 201 and created["status"] == "pending"
    status, approved = await call(url, "POST", f"/api/actions/{created['id']}/approve", **PRODUCER)
    assert status == 200 and approved["status"] == "approved"
    return created["id"], api_link(approved["checkin_url"])


@pytest.mark.parametrize(
    ("changes", "named"),
    [
        ({"title": ""}, "title"),
        ({"state": "XX"}, "state"),
        ({"type": "picnic"}, "type"),
        ({"field_office": "nowhere"}, "field_office"),
        ({"starts_at": "2022-03-03T13:00:00"}, "starts_at"),  # no offset: whose 13:00?
        ({"ends_at": "2000-01-01T00:00:00+00:00"}, "ends_at must come after starts_at"),
        ({"contact": None}, "contact"),
        ({"surprise": 1}, "surprise"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
    ],
)
async def test_a_bad_action_is_refused_naming_the_field(running, changes, named):
    status, answer = await call(running.url, "POST", "/api/actions", action(**changes))
    assert status == 400 and named in answer["error"]


async def test_actions_wait_for_a_producer_and_the_contact_never_goes_public(running):
    status, created = await call(running.url, "POST", "/api/actions", action())
    assert status == 201
    assert (await call(running.url, "GET", "/api/actions"))[1] == {"actions": [], "live": {}}
    assert (await call(running.url, "GET", "/api/actions?status=pending"))[0] == 401
    status, pending = await call(running.url, "GET", "/api/actions?status=pending", **PRODUCER)
    assert status == 200 and [a["contact"] for a in pending["actions"]] == [CONTACT]
    assert (await call(running.url, "POST", f"/api/actions/{created['id']}/approve"))[0] == 401

    status, approved = await call(running.url, "POST", f"/api/actions/{created['id']}/approve", **PRODUCER)
    assert status == 200 and approved["checkin_url"].startswith(running.url + "/checkin/")
    # Approving twice cannot make a second link.
    assert (await call(running.url, "POST", f"/api/actions/{created['id']}/approve", **PRODUCER))[0] == 409
    listed = (await call(running.url, "GET", "/api/actions"))[1]["actions"]
    assert [a["title"] for a in listed] == ["Vigil at the Etowah County Detention Center"]
    assert listed[0]["timezone"] == "America/Chicago"  # derived from Gadsden, AL
    async with aiohttp.ClientSession() as session:
        for path in ("/", "/api/actions", "/api/checkins", "/api/show"):
            async with session.get(running.url + path) as answer:
                text = await answer.text()
            assert CONTACT not in text and approved["checkin_url"] not in text, path
    public = running.server.hub.snapshot("checkins", "crowd", "public")
    assert CONTACT not in str(public) and "checkin_url" not in str(public)


async def test_a_retried_submission_creates_nothing_new(running):
    headers = {"Idempotency-Key": "form-7f3a"}
    first = await call(running.url, "POST", "/api/actions", action(), **headers)
    again = await call(running.url, "POST", "/api/actions", action(), **headers)
    assert first[0] == again[0] == 201 and first[1]["id"] == again[1]["id"]
    _, pending = await call(running.url, "GET", "/api/actions?status=pending", **PRODUCER)
    assert len(pending["actions"]) == 1


async def test_check_ins_are_held_approved_and_reach_both_endpoints(running):
    _, link = await approved_action(running.url)
    path = link.removeprefix(running.url)
    assert (await call(running.url, "POST", path, {"headcount": -1}))[1]["error"].startswith("headcount")
    assert (await call(running.url, "POST", path, {"headcount": 3, "message": "x" * 281}))[0] == 400
    assert (await call(running.url, "POST", "/api/checkin/not-a-link", {"headcount": 3}))[0] == 404

    lane, sio = Recorder(["checkins"]), Recorder(["checkins"])
    await lane.connect(running.url, ["/overlay"], expect=("checkins",), socketio_path="live")
    await sio.connect(running.url, ["/public"], expect=("checkins",))
    try:
        status, checkin = await call(running.url, "POST", path, {"headcount": 40, "message": "We are live!"})
        assert status == 201 and checkin["status"] == "pending"  # nobody public sees it yet
        assert (await call(running.url, "GET", "/api/checkins"))[1] == {"checkins": []}
        status, _ = await call(running.url, "POST", f"/api/checkins/{checkin['id']}/approve", **PRODUCER)
        assert status == 200
        for recorder, namespace in ((lane, "/overlay"), (sio, "/public")):
            doc = await recorder.wait_for(namespace, lambda d: bool(d["feed"]), "checkins")
            assert doc["feed"][0]["message"] == "We are live!" and doc["feed"][0]["city"] == "Gadsden"
            assert "venue" not in doc["feed"][0]  # city level only
            assert doc["totals"] == {"actions": 1, "live": 1, "people": 40}
        status, _ = await call(running.url, "POST", f"/api/checkins/{checkin['id']}/hide", **PRODUCER)
        assert status == 200
        await sio.wait_for("/public", lambda d: not d["feed"], "checkins")
    finally:
        await lane.close()
        await sio.close()


async def test_a_trusted_hosts_clean_text_goes_on_and_anything_risky_still_waits(running):
    action_id, link = await approved_action(running.url)
    path = link.removeprefix(running.url)
    assert (await call(running.url, "POST", f"/api/actions/{action_id}/trust", **PRODUCER))[0] == 200
    clean = await call(running.url, "POST", path, {"headcount": 12, "message": "Twelve of us singing"})
    assert clean[1]["status"] == "approved"
    for risky in ("Call Ana at 205-555-0134", "Meet at 123 Main St", "esto es una mierda", "see bit.ly/x"):
        status, held = await call(running.url, "POST", path, {"headcount": 12, "message": risky})
        assert status == 201 and held["status"] == "pending", risky
    _, shown = await call(running.url, "GET", "/api/checkins")
    assert [c["message"] for c in shown["checkins"]] == ["Twelve of us singing"]


async def test_one_link_cannot_flood(running):
    _, link = await approved_action(running.url)
    path = link.removeprefix(running.url)
    answers = [await call(running.url, "POST", path, {"headcount": n}) for n in range(8)]
    statuses = [status for status, _ in answers]
    assert statuses[:5] == [201] * 5 and 429 in statuses
    async with (
        aiohttp.ClientSession() as session,
        session.post(running.url + path, json={"headcount": 1}) as answer,
    ):
        assert answer.status == 429 and int(answer.headers["Retry-After"]) >= 1


@pytest.mark.slow
@pytest.mark.parametrize("store", ["embedded", "redis"])
async def test_kill_9_right_after_a_201_keeps_the_submission(tmp_path, store, request):
    args = [str(live_now_schedule(tmp_path / "day.yaml"))]
    if store == "redis":
        args += ["--redis-url", request.getfixturevalue("redis_server").url]
    server = ServerProcess(args, tmp_path / "data").start()
    try:
        status, created = await call(server.url, "POST", "/api/actions", action())
        assert status == 201
        server.kill()  # SIGKILL at once: no shutdown code runs
        server.start()
        status, pending = await call(server.url, "GET", "/api/actions?status=pending", **PRODUCER)
        assert [a["id"] for a in pending["actions"]] == [created["id"]]
    finally:
        server.kill()


@pytest.mark.parametrize(
    ("headers", "body", "named"),
    [
        ({"Content-Type": "multipart/form-data"}, b"--x\r\n", "the form cannot be read"),  # no boundary
        ({"Content-Type": "application/json"}, b"[" * 16_000, "not JSON"),  # nested past any stack
        ({"Content-Type": "text/plain"}, b"{}", "must be JSON"),
    ],
)
async def test_a_check_in_body_that_does_not_parse_is_a_400(running, headers, body, named):
    _, link = await approved_action(running.url)
    async with aiohttp.ClientSession() as session, session.post(link, data=body, headers=headers) as answer:
        assert answer.status == 400 and named in (await answer.json())["error"]
    form = aiohttp.FormData()
    form.add_field("headcount", "²", content_type="text/plain")  # a digit to str.isdigit, not to int()
    async with aiohttp.ClientSession() as session, session.post(link, data=form) as answer:
        assert answer.status == 400 and (await answer.json())["error"].startswith("headcount")


@pytest.mark.parametrize(
    "message",
    [
        "+52 55 1234 5678",
        "555\u2013123\u20134567",
        "call5551234567now",
        "555\u200b123\u200b4567",
        "ig: @maria_lopez",
        "maria at gmail dot com",
        "maria [arroba] gmail [punto] com",
        "his plate is 6TRM 992",
        "7ABC123",
    ],
)
def test_screening_holds_what_can_identify_someone(message):
    from eventrunner.checkins.screening import hold_reasons

    assert hold_reasons(message), message


@pytest.mark.parametrize(
    "message",
    ["300 marchers", "12:30 until 2:00", "KTLA 5 and ABC7 are here", "Route 66", "Somos 200 personas"],
)
def test_screening_lets_ordinary_rally_news_through(message):
    from eventrunner.checkins.screening import hold_reasons

    assert hold_reasons(message) == [], message


async def test_a_lost_or_leaked_link_is_replaced_and_the_old_one_stops_working(running):
    action_id, old_link = await approved_action(running.url)
    assert (await call(running.url, "POST", old_link.removeprefix(running.url), {"headcount": 1}))[0] == 201
    assert (await call(running.url, "POST", f"/api/actions/{action_id}/relink"))[0] == 401
    status, relinked = await call(running.url, "POST", f"/api/actions/{action_id}/relink", **PRODUCER)
    assert status == 200 and api_link(relinked["checkin_url"]) != old_link
    assert (await call(running.url, "POST", old_link.removeprefix(running.url), {"headcount": 2}))[0] == 404
    new_path = api_link(relinked["checkin_url"]).removeprefix(running.url)
    assert (await call(running.url, "POST", new_path, {"headcount": 3}))[0] == 201


async def test_producers_see_what_screening_found_in_an_action_before_approving_it(running):
    await call(running.url, "POST", "/api/actions", action(description="Call Ana at 205-555-0134 to carpool"))
    await call(running.url, "POST", "/api/actions", action(title="Vigil for families"))
    _, pending = await call(running.url, "GET", "/api/actions?status=pending", **PRODUCER)
    held = {a["title"]: a["held_for"] for a in pending["actions"]}
    assert held["Vigil at the Etowah County Detention Center"] == ["it may contain a phone number"]
    assert held["Vigil for families"] == []
    assert "held_for" not in str((await call(running.url, "GET", "/api/actions"))[1])


async def test_producers_set_the_delay_the_kill_switch_and_the_spotlight_and_overlays_follow(running):
    action_id, link = await approved_action(running.url)
    path = link.removeprefix(running.url)
    assert (await call(running.url, "POST", "/api/checkins/air", {"killed": True}))[0] == 401
    for bad, named in (
        ({"delay_s": 601}, "delay_s"),
        ({"killed": "yes"}, "killed"),
        ({"spotlight": "no-such-action"}, "spotlight: not an approved action"),
        ({"volume": 11}, "volume"),
    ):
        status, answer = await call(running.url, "POST", "/api/checkins/air", bad, **PRODUCER)
        assert status == 400 and named in answer["error"], bad
    _, checkin = await call(running.url, "POST", path, {"headcount": 40, "message": "We are live!"})
    await call(running.url, "POST", f"/api/checkins/{checkin['id']}/approve", **PRODUCER)

    overlay = Recorder(["checkins"])
    await overlay.connect(running.url, ["/overlay"], expect=("checkins",), socketio_path="live")
    try:
        await overlay.wait_for("/overlay", lambda d: d["air"]["feed"] == [checkin["id"]], "checkins")
        status, air = await call(
            running.url, "POST", "/api/checkins/air", {"spotlight": action_id}, **PRODUCER
        )
        assert status == 200 and air == {"delay_s": 0, "killed": False, "spotlight": action_id}
        doc = await overlay.wait_for("/overlay", lambda d: "spotlight" in d["air"], "checkins")
        assert doc["air"]["spotlight"]["checkin"]["message"] == "We are live!"
        await call(running.url, "POST", "/api/checkins/air", {"killed": True}, **PRODUCER)
        doc = await overlay.wait_for("/overlay", lambda d: d["air"]["killed"], "checkins")
        assert doc["air"]["feed"] == [] and "spotlight" not in doc["air"]
        # Back on air with a delay: a new check-in reaches the overlays a second after approval.
        await call(running.url, "POST", "/api/checkins/air", {"killed": False, "delay_s": 1}, **PRODUCER)
        running.clock.now += 60_000
        _, later = await call(running.url, "POST", path, {"headcount": 45, "message": "More arriving"})
        await call(running.url, "POST", f"/api/checkins/{later['id']}/approve", **PRODUCER)
        doc = await overlay.wait_for(
            "/overlay", lambda d: later["id"] in [c["id"] for c in d["feed"]], "checkins"
        )
        assert later["id"] not in doc["air"]["feed"]
        running.clock.now += 1000  # the show's clock: the server wakes when the second is up
        doc = await overlay.wait_for("/overlay", lambda d: later["id"] in d["air"]["feed"], "checkins")
        assert doc["air"]["spotlight"]["checkin"]["headcount"] == 45
    finally:
        await overlay.close()


async def test_hiding_an_actions_latest_check_in_brings_back_the_headcount_before_it(running):
    action_id, link = await approved_action(running.url)
    path = link.removeprefix(running.url)
    ids = []
    for people in (20, 35):
        _, checkin = await call(running.url, "POST", path, {"headcount": people})
        await call(running.url, "POST", f"/api/checkins/{checkin['id']}/approve", **PRODUCER)
        ids.append(checkin["id"])
    headcounts = running.server.desk.seen.headcounts
    assert headcounts[action_id].people == 35
    await call(running.url, "POST", f"/api/checkins/{ids[1]}/hide", **PRODUCER)
    assert running.server.desk.seen.headcounts[action_id].people == 20
    await call(running.url, "POST", f"/api/checkins/{ids[0]}/hide", **PRODUCER)
    assert action_id not in running.server.desk.seen.headcounts


async def test_a_batch_of_decisions_is_one_request_and_says_what_it_could_not_do(running):
    _, link = await approved_action(running.url)
    path = link.removeprefix(running.url)
    ids = [(await call(running.url, "POST", path, {"headcount": n}))[1]["id"] for n in range(3)]
    _, waiting = await call(running.url, "POST", "/api/actions", action(title="Caravan"))
    batch = {"decision": "approve", "checkins": [*ids, "nope"], "actions": [waiting["id"]]}
    assert (await call(running.url, "POST", "/api/decisions", batch))[0] == 401
    status, answer = await call(running.url, "POST", "/api/decisions", batch, **PRODUCER)
    assert status == 200
    assert sorted(d["id"] for d in answer["decided"]) == sorted([*ids, waiting["id"]])
    assert next(a for a in answer["decided"] if a["id"] == waiting["id"])["checkin_url"].startswith(
        running.url
    )
    assert [u["id"] for u in answer["undecided"]] == ["nope"]
    for bad, named in (
        ({"decision": "trust", "actions": ["x"]}, "decision"),
        ({"decision": "hide", "actions": ["x"]}, "actions take approve or reject"),
        ({"decision": "approve", "checkins": ["x"] * 201}, "checkins"),
    ):
        status, refused = await call(running.url, "POST", "/api/decisions", bad, **PRODUCER)
        assert status == 400 and named in refused["error"], bad


async def test_the_hosts_of_many_actions_behind_one_address_all_check_in(running):
    """Past the API's per-address budget (a burst of 60): each host has its own link, and
    check-ins are limited per link, not by the address they share."""
    desk = running.server.desk
    ids = [
        (await desk.submit_action(parse(ActionForm, action(title=f"Vigil {n}")), None)).id for n in range(70)
    ]
    status, batch = await call(
        running.url, "POST", "/api/decisions", {"decision": "approve", "actions": ids}, **PRODUCER
    )
    assert status == 200 and len(batch["decided"]) == 70
    paths = [api_link(answer["checkin_url"]).removeprefix(running.url) for answer in batch["decided"]]
    statuses = [(await call(running.url, "POST", path, {"headcount": 5}))[0] for path in paths]
    assert statuses == [201] * 70
