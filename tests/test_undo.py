"""`undo`: a person's last command, within 30 s, taken back through the dispatcher: the
show exactly as it was (actual times too), a new version, logged; refused, saying why,
when there is nothing to undo. Any process of a show on Redis can undo another's."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from eventrunner.control.commands import UNDO_WINDOW_MS, Advance
from eventrunner.stores.contract import StoredShow

from .builders import at
from .conftest import TOKEN
from .redisserver import redis_server  # noqa: F401  (a fixture)
from .test_cluster import two, wait_until  # noqa: F401  (two: a fixture, two processes on one Redis)
from .test_sessions import producer_socket

PRODUCER = {"Authorization": f"Bearer {TOKEN}"}


async def post(url: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/api/show/commands", json=body, headers=PRODUCER) as answer,
    ):
        return answer.status, await answer.json()


async def get(url: str, path: str) -> dict[str, Any]:
    async with aiohttp.ClientSession() as http, http.get(f"{url}{path}", headers=PRODUCER) as answer:
        assert answer.status == 200, await answer.text()
        return await answer.json()


def without_version(running) -> dict[str, Any]:
    return running.server.dispatcher.state.model_dump(exclude={"version"})


@pytest.mark.parametrize(
    "body",
    [
        {"command": "next"},
        {"command": "hold"},
        {"command": "take", "cue": "detained-today"},
        {"command": "extend", "minutes": 5, "shift_rest": True},
        {"command": "jump", "segment": "digital-action-hour"},
    ],
    ids=lambda body: body["command"],
)
async def test_undo_restores_the_state_before_the_command_exactly(running, body):
    # Within seconds, so that nothing the clock does (a graphic's 15 s on air) comes between.
    running.clock.now = at("2022-03-03 11:46")
    await post(running.url, {"command": "next"})  # a cue with an actual time to keep
    running.clock.now += 2000
    earlier, version = without_version(running), running.version
    status, answer = await post(running.url, body)
    assert status == 200, answer
    assert without_version(running) != earlier

    running.clock.now += 3000
    status, answer = await post(running.url, {"command": "undo"})
    assert status == 200, answer
    assert answer["version"] == version + 2  # versions only grow
    assert without_version(running) == earlier  # program, graphics, holds, planned and actual times
    stored = running.server.dispatcher.store
    assert (await stored.load()).state.model_dump(exclude={"version"}) == earlier  # and saved

    # Logged as an undo, naming what it undid; a second undo has nothing to undo.
    entry = (await get(running.url, f"/api/asrun?since={version + 1}"))["entries"]
    assert [(e["command"], e["who"], e.get("args")) for e in entry] == [
        ("undo", "api", {"undoes": body["command"]})
    ]
    status, answer = await post(running.url, {"command": "undo"})
    assert status == 400 and "nothing to undo" in answer["error"] and "no redo" in answer["error"]


async def test_undo_brings_back_actual_times_a_next_set(running):
    running.clock.now = at("2022-03-03 12:20")
    await post(running.url, {"command": "jump", "segment": "digital-action-hour"})
    dispatcher = running.server.dispatcher
    started = dispatcher.state.segments[1].actual_start
    running.clock.now = at("2022-03-03 12:21")
    await post(running.url, {"command": "previous"})  # undoes the segment: its actual times go
    assert dispatcher.state.segments[1].actual_start is None
    status, _ = await post(running.url, {"command": "undo"})
    assert status == 200
    assert dispatcher.state.segments[1].actual_start == started == at("2022-03-03 12:20")
    assert dispatcher.state.segments[0].actual_end == at("2022-03-03 12:20")


async def test_undo_is_refused_after_30_s_and_when_nothing_can_be_undone(running):
    status, answer = await post(running.url, {"command": "undo"})
    assert status == 400
    assert answer["error"] == "nothing to undo: no command has changed the show since it was opened"

    # At 11:45 nothing falls due for a minute: the window alone decides.
    version = running.version
    await post(running.url, {"command": "hold"})
    running.clock.now += UNDO_WINDOW_MS - 1
    status, _ = await post(running.url, {"command": "undo"})
    assert status == 200 and running.version == version + 2
    await post(running.url, {"command": "hold"})
    version = running.version
    running.clock.now += UNDO_WINDOW_MS
    status, answer = await post(running.url, {"command": "undo"})
    assert status == 400
    assert answer["error"] == "nothing to undo: the last command (hold, 30 s ago) is older than 30 s"
    assert running.version == version  # nothing changed

    # The clock's own changes are not undone, and they end the chance to undo the one before.
    await post(running.url, {"command": "resume"})
    running.clock.now = at("2022-03-03 12:30")  # the livestream's planned end
    await running.server.dispatcher.dispatch(Advance(), source="autopilot")
    assert running.server.dispatcher.state.phase == "gap"
    status, answer = await post(running.url, {"command": "undo"})
    assert status == 400 and "the last change was the clock's (advance" in answer["error"]

    # The server fills in what was undone: a client cannot claim it.
    status, answer = await post(running.url, {"command": "undo", "undoes": "next"})
    assert status == 400 and "undoes" in answer["error"]


async def test_undo_on_the_producer_socket_honours_if_version(running):
    async with producer_socket(running.url, auth={"token": TOKEN}) as (client, _):
        await client.call("command", {"command": "take", "cue": "detained-today"}, namespace="/producer")
        version = running.version
        stale = await client.call(
            "command", {"command": "undo", "if_version": version - 1}, namespace="/producer"
        )
        assert stale["ok"] is False and stale["conflict"] is True
        done = await client.call("command", {"command": "undo", "if_version": version}, namespace="/producer")
        assert done == {"ok": True, "version": version + 1}
    assert "card" not in running.server.dispatcher.state.graphics


def test_a_show_stored_before_undo_existed_is_read_with_nothing_to_undo(running):
    record = running.server.dispatcher.state.model_dump_json()
    ref = '{"source": "day.yaml", "sha256": "x"}'
    old = StoredShow.model_validate_json(f'{{"schema_version": 1, "schedule": {ref}, "state": {record}}}')
    assert old.last_change is None


@pytest.mark.slow
async def test_a_command_on_one_process_is_undone_through_the_other(two):  # noqa: F811
    a, b = two
    before = await get(b.url, "/api/show?audience=producer")
    # No timed graphic: under load its 3 s on air could end first, and the clock's change
    # is rightly not undoable.
    status, taken = await post(a.url, {"command": "extend", "minutes": 5})
    assert status == 200
    status, undone = await post(b.url, {"command": "undo"})
    assert status == 200, undone
    assert undone["version"] == taken["version"] + 1
    for url in (a.url, b.url):

        async def caught_up(url: str = url) -> bool:  # the other process hears of it over the bus
            return (await get(url, "/api/show?audience=producer"))["version"] >= undone["version"]

        await wait_until(caught_up, 5, "the undo reaching both processes")
        after = await get(url, "/api/show?audience=producer")
        assert after["version"] == undone["version"]
        drop = ("version", "server_time")
        assert {k: v for k, v in after.items() if k not in drop} == {
            k: v for k, v in before.items() if k not in drop
        }
    entries = (await get(a.url, f"/api/asrun?since={taken['version']}"))["entries"]
    assert [(e["command"], e.get("args")) for e in entries] == [("undo", {"undoes": "extend"})]


async def test_a_console_cannot_undo_another_consoles_command(running):
    await post(running.url, {"command": "hold"})  # the API's command
    async with producer_socket(running.url, auth={"token": TOKEN}) as (client, _):
        refused = await client.call("command", {"command": "undo"}, namespace="/producer")
    assert refused["ok"] is False and "another console" in refused["error"]
    assert running.server.dispatcher.state.held
