"""What every test peer is: an aiohttp app on a free loopback port, started and closed
with the test (`async with`), counting the connections it accepts."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, Self

from aiohttp import WSMsgType, web


class LoopbackPeer:
    scheme = "http"
    path = ""  # what `url` ends with

    def __init__(self) -> None:
        self.connections: list[Any] = []  # what each accepted connection asked for
        self._accepted = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    async def start(self) -> str:
        """Listen on a free loopback port; returns the peer's URL."""
        app = web.Application()
        self.routes(app)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        await web.SockSite(self._runner, sock).start()
        self.url = f"{self.scheme}://127.0.0.1:{sock.getsockname()[1]}{self.path}"
        return self.url

    async def close_clients(self) -> None:
        """Say goodbye to connected clients (peers with sockets close them)."""

    async def close(self) -> None:
        await self.close_clients()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def accepted(self, connection: Any) -> None:
        async with self._accepted:
            self.connections.append(connection)
            self._accepted.notify_all()

    async def wait_connected(self, n: int) -> None:
        """Wait (up to 10 s) until the n-th connection since start has been accepted."""
        async with asyncio.timeout(10), self._accepted:
            await self._accepted.wait_for(lambda: len(self.connections) >= n)

    @staticmethod
    async def serve(
        ws: web.WebSocketResponse, pump: Coroutine[Any, Any, None], on_text: Callable[[str], None]
    ) -> None:
        """Read a client's text messages until it goes, while `pump` writes to it; the pump
        stops with the connection."""
        pumping = asyncio.create_task(pump)
        try:
            async for message in ws:
                if message.type == WSMsgType.TEXT:
                    on_text(message.data)
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
