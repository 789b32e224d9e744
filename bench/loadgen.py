"""The load generator: thousands of socket.io clients as raw asyncio protocols on uvloop.

One `Page` is one participant's browser tab; each of its connections is a `WsConn`
protocol that speaks a hand-written subset of WebSocket + Engine.IO + Socket.IO (see
wire.py). Receipt times are `time.monotonic_ns()` taken when a frame is parsed, so the
orchestrator (another process on the same machine) can subtract its own send times.

Driven by fanout.py over stdin/stdout, one JSON object per line (see `Controller`).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import random
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any, cast

import orjson
import uvloop
import wire
from limits import exit_after, raise_nofile

HOST = "127.0.0.1"
RECONNECT_CAP_S = 10.0
ATTEMPT_LIMIT_S = 20.0  # socket.io-client's default `timeout` for one connection attempt
POLL_S = 0.002  # how often waits look at the counters: cheap next to 10,000 sockets


class Refused(Exception):
    """The server answered the handshake with something other than a session."""


def source_address(index: int, per_ip: int) -> str:
    """Spread clients over 127.x source addresses, as real participants come from many.

    A per-address rate limit then sees a crowd, not one abusive host (eventrunner once
    limited every GET, websocket upgrades included), and no address runs short of ports.
    """
    k = index // per_ip
    return f"127.1.{k // 250}.{k % 250 + 1}"


def backoff_delay(attempt: int) -> float:
    """Reconnect wait like a page would: first U(0.5, 1.5) s, then full jitter U(0, min(10, 2^k))."""
    if attempt == 0:
        return random.uniform(0.5, 1.5)
    return random.uniform(0.0, min(RECONNECT_CAP_S, 2.0**attempt))


class Group:
    """Pages on one namespace of one server, measured together (the crowd, an overlay)."""

    def __init__(self, tag: str, namespace: str, port: int, path: str, token: str = "") -> None:
        self.tag = tag
        self.namespace = namespace
        self.port = port
        self.upgrade_path = f"{path}?EIO=4&transport=websocket"
        self.pages: list[Page] = []
        auth = orjson.dumps({"token": token}) if token else b""
        self.connect_packet = wire.client_frame(wire.namespace_connect(namespace, auth))
        self.show_prefix = wire.event_prefix(namespace, "show")
        self.patch_prefix = wire.event_prefix(namespace, "patch")
        self.refused_prefix = f"44{namespace},".encode()
        self.counts: Counter[int] = Counter()  # patch version -> pages that got it
        self.sample_show: bytes | None = None
        self.sample_patch: bytes | None = None
        self.reconnect = False
        self.errors: Counter[str] = Counter()
        self.dropped = 0
        self.live = 0  # pages whose connection has its snapshot: kept as a count, waits poll it


class Page:
    """One logical client: survives its connections, keeps what it received."""

    __slots__ = (
        "attempt",
        "conn",
        "fresh_target",
        "group",
        "patches",
        "ready",
        "reconnects",
        "show_count",
        "show_ns",
        "source",
        "version",
    )

    def __init__(self, group: Group, source: str) -> None:
        self.group = group
        self.source = source
        self.conn: WsConn | None = None
        self.ready: asyncio.Future[None] | None = None
        self.patches: list[tuple[int, int]] = []  # (version, receipt ns)
        self.show_count = 0
        self.show_ns = 0
        self.version = -1
        self.attempt = 0
        self.reconnects = 0
        self.fresh_target = 0

    async def open(self, limit_s: float) -> bool:
        """Connect and wait for the `show` snapshot; False (and counted) on any failure."""
        loop = asyncio.get_running_loop()
        self.ready = loop.create_future()
        group = self.group
        try:
            async with asyncio.timeout(limit_s):
                await loop.create_connection(
                    lambda: WsConn(self), HOST, group.port, local_addr=(self.source, 0)
                )
                await self.ready
        except (OSError, TimeoutError, Refused) as error:
            group.errors[_error_name(error)] += 1
            if self.conn is not None:
                self.conn.abort()
            return False
        return True

    def on_message(self, payload: bytes, now: int) -> None:
        group = self.group
        if payload.startswith(group.patch_prefix):
            version = wire.parse_leading_int(payload, len(group.patch_prefix) + len(wire.VERSION_KEY))
            self.patches.append((version, now))
            self.version = version
            group.counts[version] += 1
            if group.sample_patch is None:
                group.sample_patch = payload
        elif payload.startswith(group.show_prefix):
            self.version = wire.parse_leading_int(payload, len(group.show_prefix) + len(wire.VERSION_KEY))
            self.show_count += 1
            self.show_ns = now
            if group.sample_show is None:
                group.sample_show = payload
            if self.conn is not None and not self.conn.established:
                self.conn.established = True
                group.live += 1
            if self.ready is not None and not self.ready.done():
                self.ready.set_result(None)
        elif payload.startswith(group.refused_prefix):
            self.fail(Refused(payload[:80].decode(errors="replace")))

    def fail(self, error: Exception) -> None:
        if self.ready is not None and not self.ready.done():
            self.ready.set_exception(error)
        if self.conn is not None:
            self.conn.abort()

    def on_lost(self, conn: WsConn) -> None:
        if self.conn is not conn:
            return
        self.conn = None
        self.fail(ConnectionResetError("closed before the show snapshot"))
        if conn.established:
            self.group.live -= 1
            self.group.dropped += 1
            if self.group.reconnect:
                self.schedule_reconnect()

    def schedule_reconnect(self) -> None:
        delay = backoff_delay(self.attempt)
        self.attempt += 1
        asyncio.get_running_loop().call_later(delay, lambda: asyncio.ensure_future(self.reopen()))

    async def reopen(self) -> None:
        if not self.group.reconnect or self.conn is not None:
            return
        self.reconnects += 1
        if await self.open(limit_s=ATTEMPT_LIMIT_S):
            self.attempt = 0
        elif self.group.reconnect:
            self.schedule_reconnect()


def _error_name(error: BaseException) -> str:
    if isinstance(error, Refused):
        return f"refused: {error}"
    if isinstance(error, TimeoutError):
        return "timeout"
    return type(error).__name__


class WsConn(asyncio.Protocol):
    """One websocket connection: HTTP upgrade, then frames, then Engine.IO packets."""

    __slots__ = ("buf", "established", "page", "partial", "transport", "upgraded")

    def __init__(self, page: Page) -> None:
        self.page = page
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.upgraded = False
        self.established = False  # got its show snapshot
        self.partial: bytearray | None = None  # a fragmented text message (never seen in practice)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass
        self.page.conn = self
        group = self.page.group
        self.transport.write(wire.upgrade_request(group.port, group.upgrade_path))

    def connection_lost(self, exc: Exception | None) -> None:
        self.page.on_lost(self)

    def abort(self) -> None:
        if self.transport is not None:
            self.transport.abort()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()  # before any parsing: the receipt time of every frame in `data`
        if not self.upgraded:
            self.buf += data
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buf[:12])
            if status != b"HTTP/1.1 101":
                self.page.fail(Refused(f"http {status[9:12].decode(errors='replace')}"))
                return
            self.upgraded = True
            data = bytes(self.buf[end + 4 :])
            self.buf.clear()
        if self.buf:
            self.buf += data
            source: bytes | bytearray = self.buf
        else:
            source = data  # the usual case: whole frames, no copy into the buffer
        pos = 0
        while (frame := wire.parse_frame(source, pos)) is not None:
            first, payload, pos = frame
            self.on_frame(first, payload, now)
        if source is self.buf:
            del self.buf[:pos]
        elif pos < len(data):
            self.buf += data[pos:]

    def on_frame(self, first: int, payload: bytes, now: int) -> None:
        opcode = first & 0x0F
        fin = first & 0x80
        if opcode == wire.OP_TEXT and fin:
            self.on_text(payload, now)
        elif opcode in (wire.OP_TEXT, wire.OP_CONTINUATION):
            self.partial = (self.partial or bytearray()) + payload
            if fin:
                whole, self.partial = bytes(self.partial), None
                self.on_text(whole, now)
        elif opcode == wire.OP_PING:
            self.write(wire.client_frame(payload, wire.OP_PONG))
        elif opcode == wire.OP_CLOSE:
            self.abort()

    def on_text(self, payload: bytes, now: int) -> None:
        if not payload:
            return
        kind = payload[0]
        if kind == wire.EIO_MESSAGE:
            self.page.on_message(payload, now)
        elif kind == wire.EIO_PING:
            self.write(wire.client_frame(wire.EIO_PONG))
        elif kind == wire.EIO_OPEN:
            self.write(self.page.group.connect_packet)
        elif kind == wire.EIO_CLOSE:
            self.abort()

    def write(self, frame: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(frame)


class Controller:
    """Runs the orchestrator's requests; each op returns one JSON-able reply."""

    def __init__(self, per_ip: int) -> None:
        self.groups: dict[str, Group] = {}
        self.per_ip = per_ip
        self.opened = 0  # pages ever made: each takes the next source address slot
        self.ops: dict[str, Callable[..., Awaitable[dict[str, Any]]]] = {
            "connect": self.connect,
            "wait": self.wait,
            "collect": self.collect,
            "arm_reconnect": self.arm_reconnect,
            "wait_fresh": self.wait_fresh,
            "close": self.close,
            "samples": self.samples,
        }

    async def handle(self, request: dict[str, Any]) -> dict[str, Any]:
        op = request.pop("op")
        reply = await self.ops[op](**request)
        if op != "wait":
            # The collector runs only here, between measurements, never inside a broadcast.
            gc.collect()
        return reply

    async def connect(
        self,
        tag: str,
        namespace: str,
        port: int,
        path: str,
        count: int,
        concurrency: int,
        limit_s: float,
        token: str = "",
    ) -> dict[str, Any]:
        """Open `count` pages, at most `concurrency` handshakes in flight at once."""
        group = self.groups.setdefault(tag, Group(tag, namespace, port, path, token))
        pages = [Page(group, source_address(self.opened + i, self.per_ip)) for i in range(count)]
        self.opened += count
        group.pages.extend(pages)
        todo = iter(pages)
        started = time.monotonic()
        failed = 0

        async def worker() -> None:
            nonlocal failed
            for page in todo:
                if not await page.open(limit_s=max(1.0, started + limit_s - time.monotonic())):
                    failed += 1

        await asyncio.gather(*(worker() for _ in range(min(concurrency, count))))
        return {
            "connected": count - failed,
            "failed": failed,
            "seconds": time.monotonic() - started,
            "errors": dict(group.errors),
        }

    async def wait(self, tag: str, version: int, limit_s: float) -> dict[str, Any]:
        """Until every live page of the group has the patch `version` (or `limit_s` passed)."""
        group = self.groups[tag]
        started = time.monotonic()
        while True:
            got, target = group.counts[version], group.live
            if got >= target or time.monotonic() - started > limit_s:
                return {"ok": got >= target, "got": got, "target": target}
            await asyncio.sleep(POLL_S)

    async def collect(self, tag: str, expect: list[int]) -> dict[str, Any]:
        """Receipt times per expected version; every page must have each exactly once, in order."""
        group = self.groups[tag]
        received: dict[int, list[int]] = {v: [] for v in expect}
        problems: Counter[str] = Counter()
        examples: list[str] = []
        for index, page in enumerate(group.pages):
            versions = [v for v, _ in page.patches]
            for version, ns in page.patches:
                if version in received:
                    received[version].append(ns)
            problem = _order_problem(versions, expect)
            if problem:
                problems[problem.split(":")[0]] += 1
                if len(examples) < 5:
                    examples.append(f"page {index}: {problem}")
            page.patches = []
        group.counts.clear()
        return {
            "received": {str(v): ns for v, ns in received.items()},
            "pages": len(group.pages),
            "live": group.live,
            "dropped": group.dropped,
            "failures": sum(problems.values()),
            "problems": dict(problems),
            "examples": examples,
        }

    async def arm_reconnect(self, tag: str) -> dict[str, Any]:
        group = self.groups[tag]
        group.reconnect = True
        group.dropped = 0
        group.errors.clear()  # from here on: the reconnect attempts' failures
        for page in group.pages:
            page.fresh_target = page.show_count + 1
            page.attempt = 0
            page.reconnects = 0
        return {"armed": len(group.pages)}

    async def wait_fresh(self, tag: str, limit_s: float) -> dict[str, Any]:
        """Until every page has a newer show snapshot than when armed."""
        group = self.groups[tag]
        started = time.monotonic()
        while True:
            back = [p for p in group.pages if p.show_count >= p.fresh_target]
            if len(back) == len(group.pages) or time.monotonic() - started > limit_s:
                break
            await asyncio.sleep(0.05)
        group.reconnect = False
        attempts = Counter(min(p.reconnects, 9) for p in group.pages)
        return {
            "back": len(back),
            "of": len(group.pages),
            "last_ns": max((p.show_ns for p in back), default=0),
            "attempts": {str(k): v for k, v in sorted(attempts.items())},
            "errors": dict(group.errors),
        }

    async def close(self, tag: str) -> dict[str, Any]:
        group = self.groups.pop(tag, None)
        if group is None:
            return {"closed": 0}
        group.reconnect = False
        for _ in range(2):  # twice: a reconnect attempt in flight may land after the first pass
            for page in group.pages:
                if page.conn is not None:
                    page.conn.abort()
            await asyncio.sleep(0.2)  # let connection_lost callbacks run
        return {"closed": len(group.pages)}

    async def samples(self, tag: str) -> dict[str, Any]:
        group = self.groups[tag]
        return {
            "show": (group.sample_show or b"").decode(),
            "patch": (group.sample_patch or b"").decode(),
        }


def _order_problem(versions: list[int], expect: list[int]) -> str:
    if versions == expect:
        return ""
    if len(set(versions)) < len(versions):
        return f"duplicate: got {versions}"
    if set(versions) < set(expect):
        return f"missing: got {versions}"
    if sorted(versions) == sorted(expect):
        return f"out of order: got {versions}"
    return f"unexpected: got {versions}"


async def serve_requests(controller: Controller) -> None:
    """Requests on stdin, replies on stdout; EOF (the orchestrator went away) ends the process."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=1 << 24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    out = sys.stdout.buffer
    while line := await reader.readline():
        request = orjson.loads(line)
        if request.get("op") == "exit":
            break
        try:
            reply = await controller.handle(request)
        except Exception as error:  # report, don't die: the orchestrator decides
            reply = {"error": f"{type(error).__name__}: {error}"}
        out.write(orjson.dumps(reply) + b"\n")
        out.flush()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-ip", type=int, default=50, help="clients per 127.x source address")
    parser.add_argument("--max-seconds", type=float, default=900, help="exit by itself after this")
    args = parser.parse_args()
    raise_nofile()
    exit_after(args.max_seconds, "loadgen")
    gc.disable()  # a collection in the middle of a broadcast would be counted as latency
    uvloop.run(serve_requests(Controller(args.per_ip)))


if __name__ == "__main__":
    main()
