"""Property-based fuzzing of what strangers send: command bodies, and socket.io packets
on both socket endpoints. Never a 5xx, never a traceback in the log, never a hang."""

from __future__ import annotations

import json
import socket

import aiohttp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventrunner.control.commands import BadCommand
from eventrunner.core.show import CommandRejected

from .builders import live_now_schedule
from .conftest import TOKEN
from .process import ServerProcess
from .rawws import RawWebSocket

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
COMMAND_NAMES = ["next", "previous", "jump", "hold", "resume", "extend", "shorten", "take", "clear"]
COMMANDS = st.fixed_dictionaries(
    {"command": st.sampled_from(COMMAND_NAMES) | st.text(max_size=10)},
    optional={
        "segment": JSON | st.sampled_from(["livestream", "twitterstorm"]),
        "cue": JSON | st.sampled_from(["welcome", "detained-2021"]),
        "minutes": JSON | st.integers(-10_000, 10_000),
        "shift_rest": JSON,
        "slot": JSON | st.sampled_from(["card", "cta", "lower_third"]),
        "if_version": JSON,
    },
)


@settings(max_examples=400, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=COMMANDS | JSON)
async def test_any_command_payload_is_applied_or_refused_with_a_reason(running, payload):
    try:
        version = await running.server.dispatcher.dispatch_payload(payload, source="fuzz")
    except (BadCommand, CommandRejected) as refusal:
        assert str(refusal)  # a reason a person can read
    else:
        assert version == running.version


# Socket packets: Engine.IO and Socket.IO shaped text, and anything at all.
NAMESPACES = st.sampled_from(["", "/public", "/overlay", "/producer", "/nope"])
EVENTS = st.sampled_from(["snapshot", "sync", "command", "x"]) | st.text(max_size=8)
SIO_PACKETS = st.builds(
    lambda engine, kind, namespace, ack, body: (
        f"{engine}{kind}{namespace}{',' if namespace else ''}{ack}{body}"
    ),
    st.sampled_from(["4", "4", "4", "2", "3", "1", "6", "9"]),
    st.sampled_from(list("0123456")) | st.text(max_size=2),
    NAMESPACES,
    st.sampled_from(["", "1", "99999999999999999999"]) | st.integers(0, 10**6).map(str),
    st.builds(lambda event, data: json.dumps([event, data]), EVENTS, JSON)
    | JSON.map(json.dumps)
    | st.text(max_size=60),
)
PACKETS = st.lists(SIO_PACKETS | st.text(max_size=200), min_size=1, max_size=8)
ENDPOINTS = ["/socket.io/?EIO=4&transport=websocket", "/live/?EIO=4&transport=websocket"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fuzz")
    process = ServerProcess([str(live_now_schedule(workdir / "day.yaml"))], workdir / "data").start()
    yield process
    process.kill()


@pytest.mark.slow
@settings(max_examples=150, deadline=5000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(endpoint=st.sampled_from(ENDPOINTS), packets=PACKETS)
def test_any_socket_packets_leave_the_server_serving(server, endpoint, packets):
    client = RawWebSocket(server.port, endpoint)
    try:
        client.send_text("40/public,")
        client.send_many(packets)
    finally:
        client.close()
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as probe:
        probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert probe.recv(64).startswith(b"HTTP/1.1 200")


@pytest.mark.slow
async def test_the_fuzzed_server_logged_no_traceback(server):
    """Runs after the socket fuzzing (same module-scoped server): its whole log is clean."""
    server.kill()
    log = server.log_after_exit()
    assert "Traceback" not in log, log[-3000:]
    assert "Task exception was never retrieved" not in log


BODIES = (
    st.binary(max_size=300)
    | JSON.map(lambda value: json.dumps(value).encode())
    | COMMANDS.map(lambda value: json.dumps(value).encode())
)


@settings(max_examples=40, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    body=BODIES,
    content_type=st.sampled_from(["application/json", "text/plain", "application/json; charset=latin-1"]),
)
async def test_any_command_body_over_http_gets_a_4xx_or_200_never_a_5xx(running, body, content_type):
    headers = {"Authorization": f"Bearer {TOKEN}", "Content-Type": content_type}
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{running.url}/api/show/commands", data=body, headers=headers) as response,
    ):
        assert response.status in (200, 400, 409, 415, 429), (response.status, await response.text())
        assert "error" in await response.json() or response.status == 200


@pytest.fixture
def fresh_server(tmp_path):
    """A server of its own; after the test, its whole log is checked for tracebacks."""
    process = ServerProcess([str(live_now_schedule(tmp_path / "day.yaml"))], tmp_path / "data").start()
    yield process
    process.kill()
    log = process.log_after_exit()
    assert "Task exception" not in log and "Traceback" not in log, log


def ask(port: int, endpoint: str, packet: str, answer: bytes) -> None:
    """Join /public, send one packet, and read until the answer comes."""
    client = RawWebSocket(port, endpoint)
    try:
        client.send_text("40/public,")
        client.send_text(packet)
        client.read_until(answer)
    finally:
        client.close()


@pytest.mark.slow
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_event_with_a_thousand_arguments_is_answered_not_a_task_exception(fresh_server, endpoint):
    packet = '42/public,7["sync",' + ",".join(str(n) for n in range(1000)) + "]"
    ask(fresh_server.port, endpoint, packet, b'/public,7[{"server_time"')


@pytest.mark.slow
def test_binary_attachments_and_deeply_nested_requests_cost_the_sender_only(fresh_server):
    # An event announcing binary attachments to follow: nothing takes them, so the
    # socket is dropped instead of parking what follows in memory.
    parked = RawWebSocket(fresh_server.port, ENDPOINTS[0])
    parked.send_text("40/public,")
    parked.send_text('4599-/public,["snapshot",{"_placeholder":true,"num":0}]')
    assert parked.closed_by_server()
    parked.close()
    # A topic name nested 900 lists deep: answered as "not a topic name" on both endpoints.
    for endpoint in ENDPOINTS:
        packet = '42/public,5["snapshot",{"topic":' + "[" * 900 + "]" * 900 + "}]"
        ask(fresh_server.port, endpoint, packet, b"not a topic name")
    assert any("sent binary data" in line for line in fresh_server.output)
