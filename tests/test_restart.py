"""The embedded store: a kill -9 mid-segment resumes the same show at the same point."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta

import pytest

from .builders import live_now_schedule
from .process import ServerProcess, command, show


def timing_and_program(doc: dict) -> tuple:
    return doc["version"], doc["timing"], doc["program"]


async def test_kill_9_mid_segment_resumes_the_same_point(tmp_path):
    schedule = tmp_path / "day.yaml"
    live_now_schedule(schedule)
    server = ServerProcess([str(schedule)], tmp_path / "data").start()
    try:
        await command(server.url, {"command": "next"})  # guest early: an actual time to keep
        await command(server.url, {"command": "extend", "minutes": 7, "shift_rest": True})
        before = await show(server.url)
        assert before["program"] | {"next_transition": 0} == {
            "phase": "live",
            "segment": "opening",
            "cue": "guest",
            "next_segment": "closing",
            "held": False,
            "next_transition": 0,
        }
        server.kill()  # SIGKILL: no shutdown code runs
        server.start()
        after = await show(server.url)
        assert timing_and_program(after) == timing_and_program(before)
        assert after["timing"]["segments"]["closing"]["planned_start"] == (
            before["timing"]["segments"]["opening"]["actual_start"] + (2 * 60 + 7) * 60_000
        )
        # ...and it keeps going from there.
        moved = await command(server.url, {"command": "next"})
        assert moved["version"] == before["version"] + 1
        assert (await show(server.url))["program"]["segment"] == "closing"
    finally:
        server.kill()


async def test_restarting_the_demo_resumes_the_same_demo(tmp_path):
    server = ServerProcess(["--demo"], tmp_path / "data").start()
    try:
        first = await show(server.url)
        planned = first["timing"]["segments"]["livestream"]["planned_start"]
        now_ms = time.time() * 1000
        assert 60_000 < planned - now_ms <= 180_000  # two minutes out, on a whole minute
        assert planned % 60_000 == 0
        await command(server.url, {"command": "hold"})
        server.kill()
        server.start()
        again = await show(server.url)
        assert again["timing"] == first["timing"] and again["program"]["held"] is True
    finally:
        server.kill()


async def test_a_data_dir_holding_another_show_is_not_overwritten(tmp_path):
    server = ServerProcess(["--demo"], tmp_path / "data").start()
    server.kill()
    other = tmp_path / "day.yaml"
    live_now_schedule(other)
    refused = ServerProcess([str(other)], tmp_path / "data")
    with pytest.raises(RuntimeError, match=r"holds the demo.*--reset"):
        refused.start()
    replaced = ServerProcess([str(other), "--reset"], tmp_path / "data").start()
    try:
        doc = await show(replaced.url)
        assert doc["program"]["segment"] == "opening" and doc["version"] > 1
    finally:
        replaced.kill()


async def test_a_second_server_on_the_same_data_dir_stops_before_writing(tmp_path):
    server = ServerProcess(["--demo"], tmp_path / "data").start()
    try:
        before = (tmp_path / "data" / "show.json").read_bytes()
        with pytest.raises(RuntimeError, match="another eventrunner is using"):
            ServerProcess(["--demo", "--reset"], tmp_path / "data").start()
        assert (tmp_path / "data" / "show.json").read_bytes() == before
    finally:
        server.kill()


async def test_restarting_with_an_edited_schedule_keeps_the_show(tmp_path):
    schedule = tmp_path / "day.yaml"
    live_now_schedule(schedule)
    server = ServerProcess([str(schedule)], tmp_path / "data").start()
    try:
        await command(server.url, {"command": "next"})  # on to 'guest' early
        await command(server.url, {"command": "extend", "minutes": 7, "shift_rest": True})
        await command(server.url, {"command": "hold"})
        before = await show(server.url)
        server.stop()
        # Mid-show fixes: a typo in a title, a new cue, the closing segment moved 10 minutes.
        text = schedule.read_text()
        closing_start = before["timing"]["segments"]["closing"]["planned_start"]
        edited = text.replace("title: Opening", "title: Opening remarks").replace(
            "      - {id: guest, at: 30m, kind: lower_third, name: Guest}",
            "      - {id: guest, at: 30m, kind: lower_third, name: Guest}\n"
            "      - {id: thanks, at: 50m, kind: lower_third, name: Thanks}",
        )
        head, closing = edited.split("- id: closing")
        planned = re.search(r'start: "([^"]+)"', closing).group(1)
        later = datetime.strptime(planned, "%Y-%m-%d %H:%M") + timedelta(minutes=10)
        edited = head + "- id: closing" + closing.replace(planned, f"{later:%Y-%m-%d %H:%M}")
        assert edited != text
        schedule.write_text(edited)
        server.start()
        assert any("carries on" in line for line in server.output)
        after = await show(server.url)
        assert after["version"] == before["version"] + 1
        assert after["program"] == before["program"]  # same segment, cue and hold
        opening_before = before["timing"]["segments"]["opening"]
        opening_after = after["timing"]["segments"]["opening"]
        assert opening_after == opening_before  # actual start kept, the extension too
        assert after["timing"]["cues"]["guest"] == before["timing"]["cues"]["guest"]
        assert after["timing"]["cues"]["thanks"]["planned"] == opening_before["actual_start"] + 50 * 60_000
        # The closing segment: the file's new time, still shifted by the producers' 7 minutes.
        assert after["timing"]["segments"]["closing"]["planned_start"] == closing_start + 10 * 60_000
        assert after["rundown"][0]["title"] == "Opening remarks"
    finally:
        server.kill()
