"""The official socket.io JS client (from npm, run by Node) gets the same events, in order,
from the live lane as from python-socketio, and as the Python client does."""

from __future__ import annotations

import asyncio
import json
import shutil

from .builders import REPO
from .conftest import TOKEN
from .sockets import Recorder

RECORDER = REPO / "tests" / "js" / "record.mjs"
COMMANDS = [
    {"command": "next"},
    {"command": "take", "cue": "detained-2021"},
    {"command": "hold"},
    {"command": "extend", "minutes": 5, "shift_rest": True},
    {"command": "clear"},
]


async def test_js_and_python_clients_see_the_same_events_on_both_endpoints(running):
    node = shutil.which("node")
    assert node, "node is missing"
    assert (REPO / "node_modules" / "socket.io-client").exists(), "run `npm ci` (tests/run.sh does)"
    js = await asyncio.create_subprocess_exec(
        node,
        str(RECORDER),
        running.url,
        str(len(COMMANDS)),
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    python_live, python_sio = Recorder(), Recorder()
    try:
        assert (await asyncio.wait_for(js.stdout.readline(), 20)).strip() == b"ready"
        await python_live.connect(running.url, ["/public"], socketio_path="live")
        await python_sio.connect(running.url, ["/public"], socketio_path="socket.io")
        producer = Recorder()
        await producer.connect(running.url, ["/producer"], auth={"token": TOKEN})
        for command in COMMANDS:
            assert (await producer.call("command", command, "/producer"))["ok"], command
        await producer.close()
        output, errors = await asyncio.wait_for(js.communicate(), 20)
        assert js.returncode == 0, errors.decode()
    finally:
        if js.returncode is None:
            js.kill()
        await python_live.close()
        await python_sio.close()

    received = json.loads(output)
    live = received["live/public"]
    assert [event for event, _ in live] == ["show"] + ["patch"] * len(COMMANDS)
    versions = [data["version"] for _, data in live]
    assert versions == list(range(versions[0], versions[0] + len(COMMANDS) + 1))
    assert received["socket.io/public"] == live
    assert received["live/overlay"] == live  # overlays see the public view
    for recorder in (python_live, python_sio):
        patches = [{k: v for k, v in m.items() if k != "server_time"} for m in recorder.patches["/public"]]
        assert patches == [data for _, data in live[1:]]


def test_the_pages_vendor_the_client_version_tested_here():
    vendored = (REPO / "static" / "vendor" / "socket.io.min.js").read_text()
    tested = json.loads((REPO / "node_modules" / "socket.io-client" / "package.json").read_text())
    assert f"v{tested['version']}" in vendored[:200]
