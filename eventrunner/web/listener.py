"""The listening socket: every TCP connection takes a place under a per-address and a
total cap before aiohttp reads a byte from it.

Sockets have their own caps (access/connections.py), but plain HTTP connections cost
memory and a file too: a client that opens thousands of them and reads its answers
slowly, or never, would otherwise hold them all. Counting at accept time covers every
kind of request, in flight or finished, with one rule.
"""

from __future__ import annotations

import asyncio
import logging
from typing import cast

from aiohttp import web

from eventrunner.access.connections import ConnectionLimits
from eventrunner.access.offenders import OffenderLog

log = logging.getLogger(__name__)

# HTTP connections beside the live sockets: a phone's page load opens a few at once.
PER_ADDRESS = 4000
# Files kept for the data dir, logs and the store when the cap is reached.
SPARE_FILES = 200
REFUSAL = (
    b"HTTP/1.1 503 Service Unavailable\r\n"
    b"Server: eventrunner\r\nContent-Type: text/plain; charset=utf-8\r\n"
    b"X-Content-Type-Options: nosniff\r\nRetry-After: 10\r\nConnection: close\r\n"
    b"Content-Length: 41\r\n\r\ntoo many connections; try again shortly.\n"
)


def connection_limits(open_files: int, behind_proxy: bool) -> ConnectionLimits:
    """Behind a proxy every connection comes from the proxy's address: only the total
    applies (the proxy limits its clients: nginx's limit_conn, see docs/SECURITY.md)."""
    total = max(100, open_files - SPARE_FILES)
    return ConnectionLimits(total=total, per_address=total if behind_proxy else PER_ADDRESS)


class Refusals:
    """Refused connections that linger to deliver their 503 (see CappedProtocol)."""

    MAX_LINGERING = 256
    LINGER_S = 1.0

    def __init__(self, offenders: OffenderLog) -> None:
        self.offenders = offenders
        self.lingering = 0


class CappedProtocol(asyncio.Protocol):
    """Stands in front of aiohttp's protocol for one connection: admits or refuses it at
    accept time, and gives its place back when it closes."""

    __slots__ = ("_address", "_inner", "_limits", "_refusals", "_refused")

    def __init__(self, inner: asyncio.Protocol, limits: ConnectionLimits, refusals: Refusals) -> None:
        self._inner: asyncio.Protocol | None = inner
        self._limits = limits
        self._refusals = refusals
        self._address: str | None = None
        self._refused: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one.
        tcp = cast(asyncio.Transport, transport)
        peer = tcp.get_extra_info("peername")
        address = str(peer[0]) if peer else "unknown"
        refusal = self._limits.admit(address)
        if refusal is not None:
            self._refuse(tcp, refusal)
            return
        self._address = address
        assert self._inner is not None
        try:
            self._inner.connection_made(tcp)
        except BaseException:
            self._limits.release(address)  # no connection_lost follows a failed start
            self._address = None
            raise

    def _refuse(self, transport: asyncio.Transport, why: str) -> None:
        self._inner = None
        refusals = self._refusals
        refusals.offenders.note("refused a connection: %s", why)
        if refusals.lingering >= refusals.MAX_LINGERING or not transport.can_write_eof():
            transport.abort()  # a flood of refusals: no answer is owed to each
            return
        # Closing a socket with a request still unread sends a reset, and the 503 is lost
        # with it: answer, end our side, and read until the client ends its own.
        refusals.lingering += 1
        self._refused = transport
        transport.write(REFUSAL)
        transport.write_eof()
        asyncio.get_running_loop().call_later(refusals.LINGER_S, transport.abort)

    def data_received(self, data: bytes) -> None:
        if self._inner is not None:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        if self._refused is not None:
            self._refused.close()
            return None
        return self._inner.eof_received() if self._inner is not None else None

    def pause_writing(self) -> None:
        if self._inner is not None:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._inner is not None:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused is not None:
            self._refused = None
            self._refusals.lingering -= 1
        if self._address is not None:
            self._limits.release(self._address)
            self._address = None
        if self._inner is not None:
            self._inner.connection_lost(exc)


class CappedSite(web.BaseSite):
    """aiohttp's TCP site with every accepted connection under `limits`."""

    __slots__ = ("_host", "_limits", "_port", "_refusals", "reuse_port")

    def __init__(
        self, runner: web.BaseRunner, host: str, port: int, limits: ConnectionLimits, backlog: int
    ) -> None:
        super().__init__(runner, backlog=backlog)
        self.reuse_port = False  # one of several processes on this port (--workers)
        self._host = host
        self._port = port
        self._limits = limits
        self._refusals = Refusals(OffenderLog(log))

    @property
    def name(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self._port}"

    @property
    def port(self) -> int:
        """The bound port (the one asked for, or the one chosen for port 0)."""
        if self._server is None or not self._server.sockets:
            return self._port
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        await super().start()
        serve = self._runner.server
        assert serve is not None
        self._server = await asyncio.get_running_loop().create_server(
            lambda: CappedProtocol(serve(), self._limits, self._refusals),
            self._host,
            self._port,
            backlog=self._backlog,
            reuse_address=True,
            reuse_port=self.reuse_port or None,
        )
