"""Fan-out benchmark: how fast does a producer command reach N socket.io clients?

    .venv/bin/python bench/fanout.py --clients 10000 [--overlay] [--restart]

Runs three servers one after the other, each in its own process on core 0, against one
load generator process on core 1 (bench/loadgen.py, raw asyncio protocols on uvloop):

- ours:     `eventrunner serve` with a generated schedule (a live segment full of cues),
            once per endpoint in --paths (python-socketio's /socket.io/, the /live/ lane);
- baseline: a minimal plain python-socketio server (bench/baseline_server.py);
- floor:    a bare uvloop server writing one pre-encoded frame per socket (bench/floor_server.py).

For each: open N websocket clients on `/public`, send `next` through the HTTP API a few
times, and measure for every client the time from the command to the parsed `patch`
frame (CLOCK_MONOTONIC is system-wide, so two processes can subtract their readings).
The baseline and the floor send the very patch and snapshot our server sent. See
bench/README.md for what every figure means.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
from limits import exit_after, raise_nofile
from procs import BENCH_DIR, PYTHON, REPO, BenchError, Proc, free_port, tcp_counters

SERVER_CPU = 0
LOADGEN_CPU = 1
TOKEN = "bench-token"
NEXT = b'{"command": "next"}'
READY_LIMIT_S = 60
WAIT_LIMIT_S = 60  # for one broadcast to reach every client
RESTART_LIMIT_S = 90
SCHEDULE_CUES = 200  # both endpoints, alone and with the crowd, with --commands 30 and --restart
CUE_SPACING_MIN = 2  # `next` runs ahead of these, so the autopilot never fires during a run


# --- numbers -----------------------------------------------------------------------------


@dataclass
class Latency:
    count: int
    p50: float
    p99: float
    max: float

    @classmethod
    def of(cls, values_ms: list[float]) -> Latency:
        if not values_ms:
            return cls(0, math.nan, math.nan, math.nan)
        ordered = sorted(values_ms)
        return cls(len(ordered), _rank(ordered, 50), _rank(ordered, 99), ordered[-1])

    def __str__(self) -> str:
        return f"p50 {self.p50:.2f} ms  p99 {self.p99:.2f} ms  max {self.max:.2f} ms  (n={self.count})"


def _rank(ordered: list[float], percent: float) -> float:
    """Nearest-rank percentile."""
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


@dataclass
class Broadcast:
    """One series of commands: receipt latencies per client group, checks and costs."""

    latency: dict[str, Latency]
    expected: int  # deliveries there should have been
    delivered: int
    failures: int  # pages that did not get every event exactly once, in order
    problems: dict[str, int]
    examples: list[str]
    timeouts: int
    server_cpu_s: float  # user + system, over the broadcasts only
    server_sys_s: float  # of which in the kernel (mostly loopback TCP sends)
    loadgen_cpu_s: float
    last_per_command_ms: dict[str, list[float]]  # per group: the slowest delivery of each command

    def cpu_us_per_delivery(self, seconds: float) -> float:
        return seconds / self.delivered * 1e6 if self.delivered else math.nan


@dataclass
class ServerRun:
    name: str
    path: str = "/socket.io/"  # the endpoint the clients used
    pid: int = 0
    connect: dict[str, Any] = field(default_factory=dict)
    rss_idle_mb: float = math.nan
    rss_connected_mb: float = math.nan
    rss_after_mb: float = math.nan
    broadcast: Broadcast | None = None
    notes: list[str] = field(default_factory=list)  # extra lines: probe, overlay, restart
    on_air: dict[str, tuple[Latency, Latency]] = field(default_factory=dict)  # tag -> (alone, with N)
    problems: list[str] = field(default_factory=list)

    def keep_output(self, server: Proc, logs: Path | None) -> None:
        """Note the server's problem lines; with --logs, keep all it printed."""
        self.problems += server.problems()
        if logs is not None:
            logs.mkdir(parents=True, exist_ok=True)
            where = self.path.strip("/").replace("/", "-") or "root"
            (logs / f"{self.name}-{where}-{server.pid}.log").write_text("\n".join(server.output) + "\n")

    @property
    def p99(self) -> float:
        return self.broadcast.latency["crowd"].p99 if self.broadcast else math.nan

    def kb_per_client(self, clients: int) -> float:
        """What each connected client costs the server in memory (issue 8: at most 6 KB)."""
        return (self.rss_connected_mb - self.rss_idle_mb) * 1024 / clients


# --- talking to servers ------------------------------------------------------------------


def post_next(port: int) -> tuple[int, int]:
    """Send `next`; returns the version it made and the monotonic ns just before sending."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT_LIMIT_S)
    conn.connect()  # outside the measured time: a producer's console keeps its connection
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    sent = time.monotonic_ns()
    conn.request("POST", "/api/show/commands", body=NEXT, headers=headers)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise BenchError(f"command refused: HTTP {response.status} {body[:200]!r}")
    return int(orjson.loads(body)["version"]), sent


def connect(
    loadgen: Proc,
    tag: str,
    namespace: str,
    port: int,
    count: int,
    opts: argparse.Namespace,
    path: str,
    token: str = "",
) -> dict[str, Any]:
    return loadgen.request(
        "connect",
        limit_s=opts.connect_limit,
        tag=tag,
        namespace=namespace,
        port=port,
        path=path,
        count=count,
        concurrency=opts.concurrency,
        token=token,
    )


@dataclass
class Costs:
    server_user_s: float = 0.0
    server_sys_s: float = 0.0
    loadgen_s: float = 0.0
    timeouts: int = 0  # broadcasts some client never got within WAIT_LIMIT_S


def broadcast(
    server: Proc, loadgen: Proc, port: int, tags: list[str], commands: int, pause_s: float
) -> Broadcast:
    """`commands` times: send `next`, wait until every client of `tags` has it, pause."""
    sent: dict[int, int] = {}  # version -> monotonic ns when its command was sent
    costs = Costs()
    for i in range(commands):
        if i:
            time.sleep(pause_s)  # let the server settle (its log line, the save) between commands
        (user_before, sys_before), loadgen_before = server.cpu_times(), loadgen.cpu_seconds()
        version, sent[version] = post_next(port)
        for tag in tags:
            waited = loadgen.request("wait", limit_s=WAIT_LIMIT_S, tag=tag, version=version)
            costs.timeouts += not waited["ok"]
        # CPU over the broadcast only: from just before the command to the last delivery.
        user_after, sys_after = server.cpu_times()
        costs.server_user_s += user_after - user_before
        costs.server_sys_s += sys_after - sys_before
        costs.loadgen_s += loadgen.cpu_seconds() - loadgen_before
    return summarize(loadgen, tags, sent, costs)


def summarize(loadgen: Proc, tags: list[str], sent: dict[int, int], costs: Costs) -> Broadcast:
    """Latencies from the load generator's receipt times, and its exactly-once-in-order check."""
    expect = sorted(sent)
    latency, expected, delivered, failures, examples = {}, 0, 0, 0, []
    problems: dict[str, int] = {}
    last_per_command: dict[str, list[float]] = {}
    for tag in tags:
        got = loadgen.request("collect", tag=tag, expect=expect)
        per_version = {
            int(v): [(ns - sent[int(v)]) / 1e6 for ns in times] for v, times in got["received"].items()
        }
        values = [ms for times in per_version.values() for ms in times]
        latency[tag] = Latency.of(values)
        delivered += len(values)
        expected += got["pages"] * len(expect)
        failures += got["failures"]
        examples += [f"{tag} {line}" for line in got["examples"]]
        for kind, n in got["problems"].items():
            problems[kind] = problems.get(kind, 0) + n
        last_per_command[tag] = [max(per_version[v], default=math.nan) for v in expect]
    return Broadcast(
        latency=latency,
        expected=expected,
        delivered=delivered,
        failures=failures,
        problems=problems,
        examples=examples,
        timeouts=costs.timeouts,
        server_cpu_s=costs.server_user_s + costs.server_sys_s,
        server_sys_s=costs.server_sys_s,
        loadgen_cpu_s=costs.loadgen_s,
        last_per_command_ms=last_per_command,
    )


def tcp_delta(before: dict[str, int]) -> str:
    after = tcp_counters()
    return ", ".join(f"{name} +{after[name] - before[name]}" for name in before)


# --- the three servers -------------------------------------------------------------------


def write_schedule(workdir: Path) -> Path:
    """A show whose only segment is live now and has plenty of public cues for `next`."""
    start = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M")
    lines = [
        "event:",
        '  title: "Fan-out benchmark"',
        "  timezone: UTC",
        f"  date: {start[:10]}",
        "segments:",
        "  - id: bench",
        '    title: "Benchmark livestream"',
        "    kind: livestream",
        f'    start: "{start}"',
        "    duration: 8h",
        "    cues:",
    ]
    for i in range(1, SCHEDULE_CUES + 1):
        lines.append(
            f"      - {{id: c{i}, at: {i * CUE_SPACING_MIN}m, kind: cta, "
            f'text: "Call to action {i}: sign the petition and share it", url: "https://example.org/act/{i}"}}'
        )
    path = workdir / "schedule.yaml"
    path.write_text("\n".join(lines) + "\n")
    check = subprocess.run(
        [PYTHON, "-m", "eventrunner.cli", "check", str(path)], capture_output=True, text=True, timeout=60
    )
    if check.returncode != 0:
        raise BenchError(f"generated schedule is invalid:\n{check.stdout}{check.stderr}")
    return path


def start_ours(schedule: Path, data_dir: Path, port: int, extra: list[str] | None = None) -> Proc:
    server = Proc(
        "ours",
        [
            PYTHON,
            "-m",
            "eventrunner.cli",
            "serve",
            str(schedule),
            "--data-dir",
            str(data_dir),
            "--port",
            str(port),
            *(extra or []),
        ],
        cpu=SERVER_CPU,
        env={"EVENTRUNNER_PRODUCER_PASSWORD": "x", "EVENTRUNNER_API_TOKEN": TOKEN},
    )
    server.wait_ready(READY_LIMIT_S)
    return server


def start_script(name: str, script: str, port: int, payload: Path, budget_s: float) -> Proc:
    server = Proc(
        name,
        [
            PYTHON,
            str(BENCH_DIR / script),
            "--port",
            str(port),
            "--payload",
            str(payload),
            "--max-seconds",
            str(budget_s),
        ],
        cpu=SERVER_CPU,
    )
    server.wait_ready(READY_LIMIT_S)
    return server


def event_body(text: str, event: str) -> dict[str, Any]:
    """`42/public,["patch",{...}]` -> the {...}."""
    prefix = f'42/public,["{event}",'
    if not text.startswith(prefix):
        raise BenchError(f"no {event} event captured from our server")
    body: dict[str, Any] = orjson.loads(text[len(prefix) : -1])
    return body


def capture_payload(loadgen: Proc, workdir: Path) -> Path:
    """What our server really sent, for the baseline and the floor to send the same bytes."""
    samples = loadgen.request("samples", tag="probe")
    show = event_body(samples["show"], "show")
    patch = event_body(samples["patch"], "patch")
    path = workdir / "payload.json"
    path.write_bytes(orjson.dumps({"show": show, "patch": patch["patch"]}))
    return path


def measure_crowd(
    run: ServerRun, server: Proc, loadgen: Proc, port: int, opts: argparse.Namespace, extra_tags: list[str]
) -> None:
    """Connect N clients, then broadcast to them (and to the extra groups)."""
    run.pid = server.pid
    if math.isnan(run.rss_idle_mb):
        run.rss_idle_mb = server.rss_mb()
    before = tcp_counters()
    run.connect = connect(loadgen, "crowd", "/public", port, opts.clients, opts, run.path)
    run.connect["tcp"] = tcp_delta(before)
    time.sleep(1.0)  # let the last handshakes' garbage settle before reading RSS
    run.rss_connected_mb = server.rss_mb()
    run.broadcast = broadcast(server, loadgen, port, ["crowd", *extra_tags], opts.commands, opts.pause)
    run.rss_after_mb = server.rss_mb()


def run_ours(
    opts: argparse.Namespace, loadgen: Proc, workdir: Path, path: str
) -> tuple[ServerRun, Path | None]:
    """Our server, fresh, with the crowd on one endpoint (then killed, with --restart)."""
    schedule = workdir / "schedule.yaml"
    if not schedule.exists():
        write_schedule(workdir)
    data_dir, port = workdir / "data", free_port()
    run = ServerRun("ours", path)
    server = start_ours(schedule, data_dir, port)
    payload = None
    try:
        run.rss_idle_mb = server.rss_mb()
        # Probe: one participant (and one overlay) alone; also yields the real payload.
        probe = connect(loadgen, "probe", "/public", port, 1, opts, path)
        if not probe["connected"]:
            run.notes.append(f"not served here: {probe['errors']}")
            return run, None
        solo_tags = ["probe"]
        if opts.overlay:
            connect(loadgen, "overlay", "/overlay", port, 1, opts, path)
            # The console is always on python-socketio's endpoint, signed in with the token.
            connect(loadgen, "producer", "/producer", port, 1, opts, "/socket.io/", token=TOKEN)
            solo_tags += ["overlay", "producer"]
        solo = broadcast(server, loadgen, port, solo_tags, opts.commands, opts.pause)
        payload = capture_payload(loadgen, workdir)
        loadgen.request("close", tag="probe")
        run.notes.append(f"1 client alone:   {solo.latency['probe']}")
        measure_crowd(run, server, loadgen, port, opts, solo_tags[1:])
        if opts.overlay:
            for tag in ("overlay", "producer"):
                run.notes += on_air_notes(run, solo, opts.clients, tag)
                loadgen.request("close", tag=tag)
        if opts.restart:
            server = restart(run, server, lambda: start_ours(schedule, data_dir, port), loadgen, port, opts)
        loadgen.request("close", tag="crowd")
    finally:
        server.stop()
        run.keep_output(server, opts.logs)
    return run, payload


# How much later than when it is alone an on-air client may get a change with N beside it:
# the producers' console (commands must feel instant) and an overlay (what is on air).
ON_AIR_TARGET_MS = {"producer": 10.0, "overlay": 20.0}


def on_air_notes(run: ServerRun, solo: Broadcast, clients: int, tag: str) -> list[str]:
    """An on-air client (an overlay, the producers' console) alone and beside the crowd."""
    alone = solo.latency[tag]
    loaded = run.broadcast.latency[tag] if run.broadcast else Latency.of([])
    run.on_air[tag] = (alone, loaded)
    gap = loaded.p99 - alone.p99
    target = ON_AIR_TARGET_MS[tag]
    verdict = "ok" if gap <= target else "MISSED"
    return [
        f"{tag} alone:    {alone}",
        f"{tag} with {clients}: {loaded}",
        f"{tag} p99 difference {gap:+.2f} ms, p50 difference {loaded.p50 - alone.p50:+.2f} ms "
        f"(target: p99 within {target:.0f} ms) {verdict}",
    ]


def restart(
    run: ServerRun, server: Proc, start: Any, loadgen: Proc, port: int, opts: argparse.Namespace
) -> Proc:
    """kill -9 with the crowd connected; time until every client has a fresh snapshot."""
    loadgen.request("arm_reconnect", tag="crowd")
    before = tcp_counters()
    killed = time.monotonic_ns()
    server.kill()
    run.keep_output(server, opts.logs)
    server = start()
    ready_s = (time.monotonic_ns() - killed) / 1e9
    fresh = loadgen.request("wait_fresh", limit_s=RESTART_LIMIT_S, tag="crowd")
    fresh["errors"]["tcp"] = tcp_delta(before)
    back_s = (fresh["last_ns"] - killed) / 1e9 if fresh["last_ns"] else math.nan
    verdict = "ok" if fresh["back"] == fresh["of"] and back_s < 30 else "MISSED"
    run.notes.append(
        f"restart (kill -9): server ready again after {ready_s:.1f} s; {fresh['back']}/{fresh['of']} clients "
        f"back with a fresh show after {back_s:.1f} s (target < 30 s) {verdict}"
    )
    run.notes.append(f"  reconnect attempts per client: {fresh['attempts']}; errors: {fresh['errors']}")
    after = broadcast(server, loadgen, port, ["crowd"], 1, 0)
    run.notes.append(
        f"  one command after the restart: {after.delivered}/{after.expected} delivered, "
        f"{after.failures} order failures, {after.latency['crowd']}"
    )
    return server


def run_script_server(
    name: str, script: str, opts: argparse.Namespace, loadgen: Proc, payload: Path
) -> ServerRun:
    run = ServerRun(name)
    port = free_port()
    server = start_script(name, script, port, payload, opts.max_seconds)
    try:
        measure_crowd(run, server, loadgen, port, opts, [])
        loadgen.request("close", tag="crowd")
    finally:
        server.stop()
        run.keep_output(server, opts.logs)
    return run


# --- report ------------------------------------------------------------------------------


def print_run(run: ServerRun, clients: int) -> None:
    print(f"\n== {run.name}, clients on {run.path} (server pid {run.pid})", flush=True)
    for note in run.notes[:1]:
        print(f"  {note}")
    if not run.broadcast:
        return
    c = run.connect
    rate = c.get("connected", 0) / c["seconds"] if c.get("seconds") else math.nan
    print(
        f"  connect: {c.get('connected')}/{clients} in {c.get('seconds', math.nan):.1f} s ({rate:.0f}/s); "
        f"failed {c.get('failed')}; errors {c.get('errors') or 'none'}; {c.get('tcp')}"
    )
    b = run.broadcast
    if b:
        print(f"  crowd of {clients}:  {b.latency['crowd']}")
        for tag, slowest in b.last_per_command_ms.items():
            print(
                f"  {tag}: slowest delivery per command: " + ", ".join(f"{ms:.1f}" for ms in slowest) + " ms"
            )
        print(
            f"  delivered {b.delivered}/{b.expected}; order/once check: {b.failures} failing clients "
            f"{b.problems or ''}; waits timed out: {b.timeouts}"
        )
        for line in b.examples:
            print(f"    {line}")
        print(
            f"  server CPU {b.server_cpu_s:.2f} s over the broadcasts = "
            f"{b.cpu_us_per_delivery(b.server_cpu_s):.1f} us/delivery, "
            f"{b.server_sys_s / b.server_cpu_s if b.server_cpu_s else math.nan:.0%} of it in the kernel "
            f"(load generator: {b.cpu_us_per_delivery(b.loadgen_cpu_s):.1f} us/delivery)"
        )
    print(
        f"  server RSS: idle {run.rss_idle_mb:.1f} MB, {clients} connected {run.rss_connected_mb:.1f} MB "
        f"({run.kb_per_client(clients):.1f} KB/client), after broadcasts {run.rss_after_mb:.1f} MB"
    )
    for note in run.notes[1:]:
        print(f"  {note}")
    print(f"  server output: {len(run.problems)} problem lines")
    for line in run.problems[:8]:
        print(f"    {line[:300]}")


def print_table(runs: list[ServerRun], clients: int) -> None:
    print(
        "\n| server | endpoint | N | p50 ms | p99 ms | max ms | CPU us/delivery | RSS MB with N | failures |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        b = run.broadcast
        if b is None:
            continue
        crowd = b.latency["crowd"]
        print(
            f"| {run.name} | {run.path} | {clients} | {crowd.p50:.1f} | {crowd.p99:.1f} | {crowd.max:.1f} "
            f"| {b.cpu_us_per_delivery(b.server_cpu_s):.1f} | {run.rss_connected_mb:.0f} "
            f"| {b.failures + b.timeouts + run.connect.get('failed', 0)} |"
        )


def describe_setup(opts: argparse.Namespace) -> str:
    commit = subprocess.run(
        ["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True, timeout=10
    ).stdout.strip()
    return (
        f"fanout: N={opts.clients}, {opts.commands} commands per server, eventrunner at {commit or '?'}; "
        f"servers on cpu {SERVER_CPU}, load generator on cpu {LOADGEN_CPU}; {os.cpu_count()} cpus"
    )


def result_line(clients: int, ours: ServerRun, baseline: ServerRun | None, floor: ServerRun | None) -> str:
    base_p99 = baseline.p99 if baseline else math.nan
    floor_p99 = floor.p99 if floor else math.nan
    return (
        f"RESULT clients={clients} p99_ms={ours.p99:.2f} baseline_p99_ms={base_p99:.2f} "
        f"floor_p99_ms={floor_p99:.2f} ratio={base_p99 / ours.p99:.2f} "
        f"floor_ratio={ours.p99 / floor_p99:.2f} rss_mb={ours.rss_connected_mb:.1f} "
        f"kb_per_client={ours.kb_per_client(clients):.1f}"
        + "".join(
            f" {tag}_p99_ms={loaded.p99:.2f} {tag}_alone_p99_ms={alone.p99:.2f}"
            for tag, (alone, loaded) in ours.on_air.items()
        )
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=1000, help="socket.io clients on /public (N)")
    parser.add_argument("--commands", type=int, default=5, help="broadcasts measured per server")
    parser.add_argument("--pause", type=float, default=0.5, help="seconds between commands")
    parser.add_argument("--concurrency", type=int, default=100, help="handshakes in flight while connecting")
    parser.add_argument("--per-ip", type=int, default=50, help="clients per 127.x source address")
    parser.add_argument(
        "--connect-limit", type=float, default=180, help="seconds allowed to connect N clients"
    )
    parser.add_argument(
        "--overlay", action="store_true", help="also time one /overlay client, alone and with N"
    )
    parser.add_argument("--restart", action="store_true", help="also kill -9 ours and time the reconnect")
    parser.add_argument("--servers", default="ours,baseline,floor", help="which to run (ours always runs)")
    parser.add_argument(
        "--paths",
        default="/live/,/socket.io/",
        help="our endpoints to measure, comma-separated; the first is the one in RESULT",
    )
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="spread the crowd over this many of our processes on one Redis (bench/processes.py)",
    )
    parser.add_argument("--max-seconds", type=float, default=600, help="hard limit for the whole run")
    parser.add_argument("--logs", type=Path, help="keep each server's output in this directory")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    raise_nofile()  # inherited by every child, our server included
    exit_after(opts.max_seconds, "fanout")  # children die with us (PR_SET_PDEATHSIG)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so `finally` removes the temp dir
    workdir = Path(tempfile.mkdtemp(prefix="fanout-"))
    loadgen = Proc(
        "loadgen",
        [
            PYTHON,
            str(BENCH_DIR / "loadgen.py"),
            "--per-ip",
            str(opts.per_ip),
            "--max-seconds",
            str(opts.max_seconds),
        ],
        cpu=LOADGEN_CPU,
        control=True,
    )
    wanted = set(opts.servers.split(","))
    paths = opts.paths.split(",")
    print(describe_setup(opts), flush=True)
    try:
        if opts.processes > 1:
            from processes import run_processes  # bench/processes.py imports this module

            print(run_processes(opts, loadgen, workdir)[2])
            return 0
        runs: list[ServerRun] = []
        payload = None
        for path in paths:
            run, captured = run_ours(opts, loadgen, workdir, path)
            payload = payload or captured
            runs.append(run)
            print_run(run, opts.clients)
        if payload is None:
            raise BenchError(f"our server served none of {paths}")
        for name, script in (("baseline", "baseline_server.py"), ("floor", "floor_server.py")):
            if name in wanted:
                runs.append(run_script_server(name, script, opts, loadgen, payload))
                print_run(runs[-1], opts.clients)
        if loadgen.output:
            print("\nload generator stderr:\n  " + "\n  ".join(loadgen.output[-10:]))
        print_table(runs, opts.clients)
        by_name = {run.name: run for run in reversed(runs)}  # the first "ours" is the primary path
        print(result_line(opts.clients, by_name["ours"], by_name.get("baseline"), by_name.get("floor")))
    except BenchError as error:
        print(f"fanout: {error}", file=sys.stderr)
        return 1
    finally:
        loadgen.stop()
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
