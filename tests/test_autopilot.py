"""The autopilot follows the wall clock by itself: no producer touches the show here."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiohttp.test_utils import TestServer

from eventrunner.app import build_server
from eventrunner.config import Settings

from .sockets import Recorder


async def test_the_show_starts_advances_and_clears_graphics_on_time(tmp_path):
    start = datetime.now(UTC) + timedelta(seconds=2)
    fmt = "%Y-%m-%d %H:%M:%S"
    schedule = tmp_path / "soon.yaml"
    schedule.write_text(f"""
event: {{title: Soon, timezone: UTC, date: "{start:%Y-%m-%d}"}}
segments:
  - id: soon
    title: Soon
    kind: livestream
    start: "{start:{fmt}}"
    duration: 4s
    cues:
      - {{id: hello, at: 0s, kind: lower_third, name: Host, on_air: 1s}}
      - {{id: later, at: 2s, kind: cta, text: Act now}}
""")
    server = await build_server(Settings(schedule=schedule, data_dir=tmp_path / "data"))
    http = TestServer(server.app, host="127.0.0.1")
    await http.start_server()
    viewer = Recorder()
    try:
        await viewer.connect(str(http.make_url("")), ["/public"], socketio_path="live")
        assert viewer.docs["/public"]["program"]["phase"] == "pending"
        doc = await viewer.wait_for("/public", lambda d: d["program"]["phase"] == "live")
        assert doc["graphics"]["lower_third"]["cue"] == "hello"
        await viewer.wait_for("/public", lambda d: "lower_third" not in d["graphics"])
        doc = await viewer.wait_for("/public", lambda d: d["program"].get("cue") == "later")
        assert doc["graphics"]["cta"]["cue"] == "later"
        doc = await viewer.wait_for("/public", lambda d: d["program"]["phase"] == "ended")
        timing = doc["timing"]["segments"]["soon"]
        assert timing["actual_start"] == timing["planned_start"]
        assert timing["actual_end"] == timing["planned_end"]
        assert doc["graphics"] == {}
    finally:
        await viewer.close()
        await http.close()
