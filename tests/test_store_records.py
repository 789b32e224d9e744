"""A stored show record is outside input: one that makes no sense is refused with a clear
message and left in place, never half-loaded."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from eventrunner.app import build_server
from eventrunner.config import Settings
from eventrunner.stores.contract import StoreCorrupt

from .builders import CNC, at

NOW = at("2022-03-03 11:45")


async def stored_record(tmp_path: Path) -> dict:
    """Start and stop a real server once, so the data dir holds a good record."""
    server = await build_server(Settings(schedule=CNC, data_dir=tmp_path), clock=lambda: NOW)
    server.dispatcher.store.close()
    return json.loads((tmp_path / "show.json").read_text())


def set_path(record: dict, path: str, value) -> dict:
    *parents, last = path.split(".")
    target = record
    for step in parents:
        target = target[int(step)] if step.isdigit() else target[step]
    target[int(last) if last.isdigit() else last] = value
    return record


CRAFTED = {
    "index past the end": ("state.index", 99, "index 99 is not one of the"),
    "negative index": ("state.index", -1, "index -1 is not one of the"),
    "cue past the end": ("state.cue", 50, "cue 50 is not one of the"),
    "no segments": ("state.segments", [], "the show has no segments"),
    "negative version": ("state.version", -5, "version is -5"),
    "version past what browsers count": ("state.version", 2**60, "versions run from 1 to 2\\*\\*53"),
    "far future end": ("state.segments.0.planned_end", 2**62, "not an instant between 1970 and 2101"),
    "renamed segment": ("state.segments.0.id", "someone-else", "not the schedule's"),
    "huge demo shift": ("schedule.shift_ms", 10**19, "out of any calendar"),
    "graphic of no cue": ("state.graphics", {"card": {"cue": "nope", "since": NOW}}, "names no cue"),
    "another layout": ("schema_version", 2, "schema_version"),
    "not a state": ("state", "garbage", "is not a show record"),
}


@pytest.mark.parametrize("case", CRAFTED)
async def test_a_crafted_record_is_refused_and_left_in_place(tmp_path, case):
    path, value, message = CRAFTED[case]
    record = set_path(await stored_record(tmp_path), path, value)
    crafted = json.dumps(record)
    (tmp_path / "show.json").write_text(crafted)
    with pytest.raises(StoreCorrupt, match=message):
        await build_server(Settings(schedule=CNC, data_dir=tmp_path), clock=lambda: NOW)
    assert (tmp_path / "show.json").read_text() == crafted


@pytest.mark.parametrize("kind", ["directory", "fifo", "dev-zero"])
async def test_a_record_that_is_not_a_regular_file_is_refused_without_hanging(tmp_path, kind):
    record = tmp_path / "show.json"
    if kind == "directory":
        record.mkdir()
    elif kind == "fifo":
        os.mkfifo(record)
    else:
        record.symlink_to("/dev/zero")
    with pytest.raises(StoreCorrupt, match=r"is not a regular file|cannot be read"):
        await build_server(Settings(schedule=CNC, data_dir=tmp_path), clock=lambda: NOW)


async def test_temporary_records_left_by_a_kill_are_cleaned_at_start(tmp_path):
    await stored_record(tmp_path)
    leftover = tmp_path / ".show-abc123.tmp"
    leftover.write_text("{half a rec")
    server = await build_server(Settings(schedule=CNC, data_dir=tmp_path), clock=lambda: NOW)
    server.dispatcher.store.close()
    assert not leftover.exists()


async def test_a_record_from_before_baselines_gets_one_on_its_next_start(tmp_path):
    record = await stored_record(tmp_path)
    del record["schedule"]["baseline"]
    (tmp_path / "show.json").write_text(json.dumps(record))
    server = await build_server(Settings(schedule=CNC, data_dir=tmp_path), clock=lambda: NOW)
    server.dispatcher.store.close()
    stored = json.loads((tmp_path / "show.json").read_text())
    assert stored["schedule"]["baseline"]["livestream"] == [
        record["state"]["segments"][0]["planned_start"],
        record["state"]["segments"][0]["planned_end"],
    ]
    assert stored["state"] == record["state"]
