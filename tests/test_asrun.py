"""The as-run log: every change a command saved, with who, when, and planned and actual
times; kept in the store (both stores), read as JSON and as CSV, by producers only."""

from __future__ import annotations

import asyncio
import csv
import io
import logging
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from playwright.async_api import expect

from eventrunner.control.asrun import PAGE, AsRunLog, page_status
from eventrunner.stores.contract import StoreUnavailable
from eventrunner.stores.sqlite import SqliteCollections
from eventrunner.web.asrun import COLUMNS, csv_row

from .axe import readable, violations
from .browser import WAIT_MS, connected
from .builders import at, minutes
from .conftest import PASSWORD, TOKEN
from .redisserver import redis_server  # noqa: F401  (a fixture)
from .test_checkins_browser import shot
from .test_sessions import producer_socket, sign_in

PRODUCER = {"Authorization": f"Bearer {TOKEN}"}


async def command(url: str, body: dict[str, Any]) -> int:
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{url}/api/show/commands", json=body, headers=PRODUCER) as answer,
    ):
        assert answer.status == 200, await answer.text()
        return int((await answer.json())["version"])


async def entries(url: str, since: int | None = None) -> list[dict[str, Any]]:
    query = "" if since is None else f"?since={since}"
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{url}/api/asrun{query}", headers=PRODUCER) as answer,
    ):
        assert answer.status == 200, await answer.text()
        return (await answer.json())["entries"]


async def csv_text(url: str, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """(the CSV, its Content-Disposition)."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{url}/api/asrun.csv", headers=headers or PRODUCER) as answer,
    ):
        assert answer.status == 200, await answer.text()
        assert answer.content_type == "text/csv"
        return (await answer.read()).decode("utf-8-sig"), answer.headers["Content-Disposition"]


async def test_commands_are_logged_with_who_when_and_planned_and_actual_times(running):
    url, clock = running.url, running.clock
    livestream = {"planned_start": at("2022-03-03 11:30"), "planned_end": at("2022-03-03 12:30")}
    opened = await entries(url)
    assert [(e["version"], e["who"], e["command"]) for e in opened] == [(1, "server", "open")]
    assert opened[0]["segment"] | livestream == opened[0]["segment"]  # on air since 11:30, by the clock
    assert opened[0]["segment"]["actual_start"] == at("2022-03-03 11:30")

    clock.now = at("2022-03-03 11:46")
    await command(url, {"command": "next"})
    clock.now = at("2022-03-03 11:47")
    await command(url, {"command": "hold"})
    await command(url, {"command": "take", "cue": "detained-today"})
    clock.now = at("2022-03-03 11:48")
    await command(url, {"command": "extend", "minutes": 5})
    log = await entries(url)
    assert [(e["version"], e["who"], e["command"]) for e in log] == [
        (1, "server", "open"),
        (2, "api", "next"),
        (3, "api", "hold"),
        (4, "api", "take"),
        (5, "api", "extend"),
    ]
    next_, hold, take, extend = log[1:]
    assert next_["at"] == at("2022-03-03 11:46")
    assert next_["at_iso"] == "2022-03-03T11:46:00.000-05:00"  # in the event's zone
    assert next_["segment"] == {
        "id": "livestream",
        "title": "National Livestream",
        **livestream,
        "actual_start": at("2022-03-03 11:30"),
        "late_ms": 0,
    }
    assert next_["cue"]["id"] == "philadelphia"
    assert hold["held"] is True and hold["at"] == at("2022-03-03 11:47")
    assert hold["what"] == "held; lower third off air"  # the hold first applies what fell due
    assert take["args"] == {"cue": "detained-today"}
    assert take["taken"] == [
        {"slot": "card", "cue": "detained-today", "label": "18,000+ people held in immigrant detention today"}
    ]
    assert extend["args"] == {"minutes": 5, "shift_rest": False}
    assert extend["segment"]["planned_end"] == at("2022-03-03 12:35")
    assert "planned to end 12:35 PM (was 12:30 PM)" in extend["what"]

    # Held past its (new) planned end, then moved on: the over-run is actual minus planned.
    clock.now = at("2022-03-03 12:38")
    await command(url, {"command": "jump", "segment": "digital-action-hour"})
    jump = (await entries(url, since=5))[0]
    assert jump["ended"] == {
        "id": "livestream",
        "title": "National Livestream",
        "planned_start": at("2022-03-03 11:30"),
        "planned_end": at("2022-03-03 12:35"),
        "actual_start": at("2022-03-03 11:30"),
        "actual_end": at("2022-03-03 12:38"),
        "late_ms": 0,
        "over_ms": minutes(3),
    }
    assert jump["segment"]["late_ms"] == -minutes(22)  # started 22 minutes early
    assert "National Livestream off air (3 min over)" in jump["what"]
    assert "National Digital Action Hour on air (started 22 min early)" in jump["what"]


async def test_the_console_is_the_producer(running):
    async with producer_socket(running.url, auth={"token": TOKEN}) as (console, _):
        answer = await console.call("command", {"command": "hold"}, namespace="/producer")
    assert answer["ok"] is True
    last = (await entries(running.url))[-1]
    assert (last["version"], last["who"], last["command"]) == (answer["version"], "producer", "hold")


async def test_the_autopilots_transitions_are_logged_as_the_autopilot(start_server):
    running = await start_server(now=at("2022-03-03 12:29"))
    before = running.version
    advanced = asyncio.Event()
    running.server.dispatcher.on_change(lambda _: advanced.set())
    # The livestream ended at 12:30 and the action hour began at 13:00; wake the autopilot
    # now rather than at the planned instant.
    running.clock.now = at("2022-03-03 13:00:05")
    running.server.autopilot.replan()
    async with asyncio.timeout(5):
        await advanced.wait()
    [entry] = await entries(running.url, since=before)  # one advance did both
    assert (entry["who"], entry["command"], entry["at"]) == (
        "autopilot",
        "advance",
        at("2022-03-03 13:00:05"),
    )
    assert entry["ended"]["id"] == "livestream"
    assert entry["ended"]["actual_end"] == entry["ended"]["planned_end"] == at("2022-03-03 12:30")
    assert entry["ended"]["over_ms"] == 0
    assert entry["phase"] == "live" and entry["segment"]["id"] == "digital-action-hour"
    assert entry["segment"]["actual_start"] == at("2022-03-03 13:00") and entry["segment"]["late_ms"] == 0
    assert entry["what"].startswith(
        "National Livestream off air (on time); National Digital Action Hour on air (started on time)"
    )


async def test_the_log_survives_a_restart_with_the_same_data_dir(start_server, tmp_path):
    first = await start_server(data_dir=tmp_path / "kept")
    await command(first.url, {"command": "next"})
    await command(first.url, {"command": "hold"})
    kept = await entries(first.url)
    await first.http.close()  # the store closes with it, after the log's writes

    again = await start_server(data_dir=tmp_path / "kept")
    assert await entries(again.url) == kept
    version = await command(again.url, {"command": "resume"})
    log = await entries(again.url)
    assert log[:-1] == kept and (log[-1]["version"], log[-1]["command"]) == (version, "resume")


async def test_the_csv_matches_the_json_and_neutralizes_formulas(start_server, tmp_path):
    schedule = tmp_path / "formulas.yaml"
    schedule.write_text("""
event: {title: Formula day, timezone: America/Chicago, date: 2022-03-03}
segments:
  - id: rally
    title: "=HYPERLINK(\\"https://evil.example\\", \\"Rally\\")"
    kind: livestream
    start: "10:00"
    end: "11:00"
    cues:
      - {id: host, at: 0m, kind: lower_third, name: "@everyone", role: "+1 organizer"}
      - {id: act, at: 5m, kind: cta, text: "-5 minutes to go", take: manual}
""")
    running = await start_server(schedule=schedule, now=at("2022-03-03 10:01", ZoneInfo("America/Chicago")))
    await command(running.url, {"command": "take", "cue": "act"})
    await command(running.url, {"command": "hold"})
    log = await entries(running.url)
    text, disposition = await csv_text(running.url)
    assert disposition == 'attachment; filename="asrun-2022-03-03.csv"'
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == len(log) + 1
    for row, entry in zip(rows[1:], log, strict=True):
        cells = dict(zip(COLUMNS, row, strict=True))
        assert int(cells["version"]) == entry["version"]
        assert cells["at"] == entry["at_iso"] and int(cells["at_ms"]) == entry["at"]
        assert (cells["who"], cells["command"], cells["phase"]) == (
            entry["who"],
            entry["command"],
            entry["phase"],
        )
        assert cells["segment"] == entry["segment"]["id"] == "rally"
        assert cells["planned_start"] == "2022-03-03T10:00:00.000-06:00"
        assert cells["late_s"] == str(entry["segment"]["late_ms"] // 1000)
        assert row == [str(cell) for cell in csv_row(entry, "America/Chicago")]
        # Text a spreadsheet would run as a formula starts with a quote instead.
        assert cells["segment_title"] == "'" + entry["segment"]["title"]
        assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row)
    take = dict(zip(COLUMNS, rows[2], strict=True))
    assert take["command"] == "take" and take["taken"] == "cta: act (-5 minutes to go)"
    assert take["what"] == "call to action on air: -5 minutes to go"  # "c…": nothing to quote
    opened = dict(zip(COLUMNS, rows[1], strict=True))
    assert opened["cue_label"] == "'@everyone — +1 organizer"


async def test_only_producers_read_it(running):
    for path in ("/api/asrun", "/api/asrun.csv", "/api/asrun?since=0"):
        for headers in ({}, {"Authorization": "Bearer not-the-token"}):
            async with (
                aiohttp.ClientSession() as http,
                http.get(running.url + path, headers=headers) as answer,
            ):
                assert answer.status == 401, (path, headers)
                assert "producers" in (await answer.json())["error"]
    # A producer's session (the console's Download CSV link) reads it.
    status, cookie = await sign_in(running.url)
    assert status == 303
    text, _ = await csv_text(running.url, headers={"Cookie": cookie})
    assert text.startswith("version,at,")


async def test_since_must_be_a_version(running):
    for since in ("-1", "abc", "1.5", "9" * 16):
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"{running.url}/api/asrun?since={since}", headers=PRODUCER) as answer,
        ):
            assert answer.status == 400


async def test_a_store_that_fails_the_log_never_fails_the_show(running, monkeypatch, caplog):
    keep = SqliteCollections.insert

    async def failing(self, kind: str, *args: Any) -> bool:
        if kind == "asrun":
            raise StoreUnavailable("the disk is full")
        return await keep(self, kind, *args)

    monkeypatch.setattr(SqliteCollections, "insert", failing)
    with caplog.at_level(logging.WARNING, logger="eventrunner.control.asrun"):
        version = await command(running.url, {"command": "hold"})
        assert running.version == version
        assert [e["version"] for e in await entries(running.url)] == [1]
    assert "as-run entry not kept: StoreUnavailable: the disk is full" in caplog.text


async def test_pages_of_a_thousand_in_version_order(tmp_path):
    """Paging with the store's records only: each page of versions is a status."""
    collections = SqliteCollections(tmp_path)
    try:
        versions = list(range(1, 2 * PAGE + 501))
        # Out of order, as several processes may insert them.
        shuffled = versions[1::2] + versions[::2]
        await asyncio.gather(
            *(
                collections.insert("asrun", str(v), page_status(v), {"version": v, "at": v}, v)
                for v in shuffled
            )
        )
        # Only what reading asks of the dispatcher: the show's version.
        dispatcher = SimpleNamespace(state=SimpleNamespace(version=versions[-1]), on_command=lambda _: None)
        log = AsRunLog(dispatcher, collections)  # type: ignore[arg-type]
        since, pages = 0, []
        while True:
            found, more = await log.entries(since)
            pages.append([e["version"] for e in found])
            if not more:
                break
            since = found[-1]["version"]
        assert pages == [versions[:PAGE], versions[PAGE : 2 * PAGE], versions[2 * PAGE :]]
        newest, more = await log.entries(None)
        assert [e["version"] for e in newest] == versions[-PAGE:] and not more
        assert (await log.entries(999))[0][0]["version"] == 1000
        assert await log.entries(versions[-1]) == ([], False)
    finally:
        await collections.close()


async def test_redis_keeps_one_log_for_every_process(start_server, redis_server, tmp_path):  # noqa: F811
    first = await start_server(redis_url=redis_server.url, data_dir=tmp_path / "one")
    await command(first.url, {"command": "next"})
    second = await start_server(redis_url=redis_server.url, data_dir=tmp_path / "two")
    version = await command(second.url, {"command": "hold"})
    for url in (second.url, first.url):  # the second first: its answer waits for its own write
        log = await entries(url)
        assert [(e["who"], e["command"]) for e in log] == [
            ("server", "open"),
            ("api", "next"),
            ("api", "hold"),
        ]
        assert log[-1]["version"] == version
    text, _ = await csv_text(first.url)
    assert len(list(csv.reader(io.StringIO(text)))) == 4


def test_a_cell_that_starts_like_a_formula_is_quoted():
    entry = {
        "version": 3,
        "at": 0,
        "at_iso": "1970-01-01T00:00:00.000+00:00",
        "who": "api",
        "command": "next",
        "what": "=cmd|' /C calc'!A0",
        "phase": "live",
        "held": False,
        "segment": {"id": "s", "title": "+SUM(A1)", "planned_start": 0, "planned_end": 0, "late_ms": -60_000},
    }
    row = dict(zip(COLUMNS, csv_row(entry, "UTC"), strict=True))
    assert row["what"] == "'=cmd|' /C calc'!A0" and row["segment_title"] == "'+SUM(A1)"
    assert row["late_s"] == -60  # a number, not text: never quoted


@pytest.mark.browser
async def test_the_console_lists_the_newest_entries_with_over_runs_in_amber(browser, start_server):
    running = await start_server(now=at("2022-03-03 12:29"))
    context = await browser.new_context(viewport={"width": 1440, "height": 900}, bypass_csp=True)
    try:
        page = await context.new_page()
        await page.goto(f"{running.url}/producer")
        await page.fill("input[name=password]", PASSWORD)
        await page.click("button[type=submit]")
        await connected(page)
        panel = page.locator(".asrun")
        await panel.locator("summary").click()
        rows = panel.locator("[data-field=asrun-rows] tr")
        await expect(rows).to_have_count(1, timeout=WAIT_MS)
        await expect(rows.first).to_contain_text("show opened")
        csv_link = panel.locator("a", has_text="Download CSV")
        await expect(csv_link).to_have_attribute("href", "/api/asrun.csv")

        await page.click("[data-command=hold]")
        await expect(rows).to_have_count(2, timeout=WAIT_MS)
        await expect(rows.first).to_contain_text("producer")  # newest first
        await expect(rows.first).to_contain_text("hold")
        running.clock.now = at("2022-03-03 12:33")  # held three minutes past the planned end
        await command(running.url, {"command": "jump", "segment": "digital-action-hour"})
        await expect(rows).to_have_count(3, timeout=WAIT_MS)
        over = rows.first.locator(".is-over")
        await expect(over).to_have_text("National Livestream: ended 3:00 over")
        assert await over.evaluate("el => getComputedStyle(el).color") == "rgb(242, 178, 51)"  # amber
        await expect(rows.first.locator("td").first).to_have_text("12:33:00 PM")
        await page.screenshot(path=shot("asrun-console-1440.png"), full_page=True)
        assert readable(await violations(page), "the console with the as-run log open") == ""
    finally:
        await context.close()  # before the server stops, which would wait for the page's socket
