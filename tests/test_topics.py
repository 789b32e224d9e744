"""Live topics over both endpoints: snapshots per topic, patches per topic, resync of one
topic, coalescing, and optimistic concurrency for commands."""

from __future__ import annotations

import asyncio
import json
import shutil

import aiohttp
import pytest

from eventrunner.topics.hub import Topic

from .builders import REPO
from .conftest import TOKEN
from .sockets import Recorder

VIEWER_PATHS = ["socket.io", "live"]


def pulse_views(count: int) -> dict:
    return {"producer": {"count": count, "secret": "producers only"}, "public": {"count": count}}


def add_pulse(running, per_second: float | None = None, state: dict | None = None) -> Topic:
    """A second live topic for the tests (check-ins and posts plug in the same way)."""
    state = state if state is not None else {"count": 0}
    render = (lambda: pulse_views(state["count"])) if per_second else None
    topic = Topic("pulse", pulse_views(state["count"]), version=1, per_second=per_second, render=render)
    return running.server.hub.add_topic(topic)


@pytest.mark.parametrize("path", VIEWER_PATHS)
async def test_one_snapshot_per_topic_and_patches_only_for_the_topic_that_changed(running, path):
    add_pulse(running)
    viewers = Recorder(topics="*")
    await viewers.connect(running.url, ["/public", "/overlay"], expect=("show", "pulse"), socketio_path=path)
    producer = Recorder(topics=["show", "pulse"])
    await producer.connect(running.url, ["/producer"], expect=("show", "pulse"), auth={"token": TOKEN})
    try:
        for recorder, namespace in [(viewers, "/public"), (viewers, "/overlay"), (producer, "/producer")]:
            assert recorder.snapshots[namespace, "show"] == 1
            assert recorder.snapshots[namespace, "pulse"] == 1
        assert producer.topic_docs["/producer"]["pulse"]["secret"] == "producers only"
        assert "secret" not in viewers.topic_docs["/public"]["pulse"]

        running.server.hub.publish("pulse", pulse_views(5))
        for recorder, namespace in [(viewers, "/public"), (viewers, "/overlay"), (producer, "/producer")]:
            doc = await recorder.wait_for(namespace, lambda d: d["count"] == 5, "pulse")
            assert doc["version"] == 2
            assert [p["topic"] for p in recorder.patches[namespace]] == ["pulse"]  # the show was not resent

        show_version = running.version
        await producer.call("command", {"command": "next"}, "/producer")
        await viewers.wait_for("/public", lambda d: d["version"] == show_version + 1)
        assert [p["topic"] for p in viewers.patches["/public"]] == ["pulse", "show"]
        assert viewers.topic_docs["/public"]["pulse"]["version"] == 2
    finally:
        await viewers.close()
        await producer.close()


@pytest.mark.parametrize("path", VIEWER_PATHS)
async def test_a_client_that_names_no_topics_gets_the_show_only(running, path):
    add_pulse(running)
    old = Recorder()  # no auth: a client written before topics existed
    await old.connect(running.url, ["/public"], socketio_path=path)
    try:
        running.server.hub.publish("pulse", pulse_views(1))
        show_version = running.version
        await running_command(running, {"command": "next"})
        await old.wait_for("/public", lambda d: d["version"] == show_version + 1)
        assert old.snapshots == {("/public", "show"): 1}
        assert [p["topic"] for p in old.patches["/public"]] == ["show"]
    finally:
        await old.close()


@pytest.mark.parametrize("path", VIEWER_PATHS)
async def test_a_gap_in_one_topic_resyncs_that_topic_only(running, path):
    topic = add_pulse(running)
    viewer = Recorder(topics="*")
    await viewer.connect(running.url, ["/public"], expect=("show", "pulse"), socketio_path=path)
    try:
        # As if the crowd had been sent versions this client never got: a gap.
        running.server.hub.groups["crowd"].delivered["pulse"] = (4, topic.views)
        running.server.hub.publish("pulse", pulse_views(9))
        doc = await viewer.wait_for("/public", lambda d: d["count"] == 9, "pulse")
        assert doc["version"] == 2
        assert viewer.resyncs == {("/public", "pulse"): 1}
        assert viewer.topic_docs["/public"]["show"]["version"] == running.version
    finally:
        await viewer.close()


async def test_snapshot_requests_name_their_topic(running):
    add_pulse(running)
    viewer = Recorder(topics="*")
    await viewer.connect(running.url, ["/public"], expect=("show", "pulse"))
    try:
        pulse = await viewer.call("snapshot", {"topic": "pulse"}, "/public")
        assert pulse["count"] == 0 and pulse["version"] == 1 and "server_time" in pulse
        show = await viewer.call("snapshot", None, "/public")
        assert show["version"] == running.version
        missing = await viewer.call("snapshot", {"topic": "nope"}, "/public")
        assert "no topic named 'nope'" in missing["error"]
    finally:
        await viewer.close()


@pytest.mark.parametrize("path", VIEWER_PATHS)
async def test_a_coalesced_topic_broadcasts_at_most_k_a_second_and_ends_on_the_newest(running, path):
    per_second = 4
    state = {"count": 0}
    add_pulse(running, per_second=per_second, state=state)
    viewer = Recorder(topics=["pulse"])
    await viewer.connect(running.url, ["/public"], expect=("pulse",), socketio_path=path)
    try:
        loop = asyncio.get_running_loop()
        started = loop.time()
        for _ in range(1000):  # 1,000 changes spread over about a second
            state["count"] += 1
            running.server.hub.touch("pulse")
            await asyncio.sleep(0.001)
        elapsed = loop.time() - started
        await viewer.wait_for("/public", lambda d: d["count"] == 1000, "pulse")
        broadcasts = len(viewer.patches["/public"])
        # One at once, then at most one per 1/K s over the time the changes took, plus the last.
        assert 2 <= broadcasts <= 1 + per_second * elapsed + 1, (broadcasts, elapsed)
        versions = [p["version"] for p in viewer.patches["/public"]]
        assert versions == list(range(2, 2 + broadcasts))  # no gaps: each broadcast is one version
    finally:
        await viewer.close()


async def running_command(running, body: dict) -> tuple[int, dict]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{running.url}/api/show/commands", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as response,
    ):
        return response.status, await response.json()


async def test_two_producers_pressing_next_on_the_same_version_advance_once(running):
    version = running.version
    first, second = await asyncio.gather(
        running_command(running, {"command": "next", "if_version": version}),
        running_command(running, {"command": "next", "if_version": version}),
    )
    statuses = sorted([first[0], second[0]])
    assert statuses == [200, 409], (first, second)
    conflict = first[1] if first[0] == 409 else second[1]
    assert conflict["version"] == version + 1
    assert f"it is at version {version + 1}, not {version}" in conflict["error"]
    assert running.version == version + 1


async def test_a_stale_console_command_is_refused_with_the_current_version(running):
    producer = Recorder()
    await producer.connect(running.url, ["/producer"], auth={"token": TOKEN})
    try:
        version = running.version
        ok = await producer.call("command", {"command": "next", "if_version": version}, "/producer")
        assert ok == {"ok": True, "version": version + 1}
        stale = await producer.call("command", {"command": "next", "if_version": version}, "/producer")
        assert stale["ok"] is False and stale["conflict"] is True and stale["version"] == version + 1
        assert running.version == version + 1
    finally:
        await producer.close()


async def test_the_official_js_client_follows_topics_on_both_endpoints(running):
    node = shutil.which("node")
    assert node, "node is missing"
    add_pulse(running)
    js = await asyncio.create_subprocess_exec(
        node,
        str(REPO / "tests" / "js" / "record.mjs"),
        running.url,
        "2",
        '{"topics": "*"}',
        cwd=REPO,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert (await asyncio.wait_for(js.stdout.readline(), 20)).strip() == b"ready"
        running.server.hub.publish("pulse", pulse_views(7))
        await running_command(running, {"command": "next"})
        output, errors = await asyncio.wait_for(js.communicate(), 20)
        assert js.returncode == 0, errors.decode()
    finally:
        if js.returncode is None:
            js.kill()
    received = json.loads(output)
    for name, events in received.items():
        assert sorted(event for event, _ in events[:2]) == ["pulse", "show"], name
        patches = [data for event, data in events[2:]]
        assert [p["topic"] for p in patches] == ["pulse", "show"], name
        assert patches[0]["patch"] == {"count": 7} and patches[0]["base"] == 1
