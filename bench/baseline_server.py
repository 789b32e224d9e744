"""The baseline: a minimal plain python-socketio server, the stack our server is built on.

`socketio.AsyncServer(async_mode="aiohttp")` with default settings, a `/public` namespace
that sends a `show` snapshot on connect, and `POST /api/show/commands` doing one
`sio.emit("patch", payload, namespace="/public")`. It runs on uvloop as our server does,
so the difference between the two is what our server adds on top of python-socketio.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import socketio
from aiohttp import web
from limits import run_reference_server

NAMESPACE = "/public"


class Baseline:
    def __init__(self, snapshot: dict[str, Any], patch: dict[str, Any]) -> None:
        self.snapshot = snapshot
        self.patch = patch
        self.version = 0
        self.sio = socketio.AsyncServer(async_mode="aiohttp")
        self.sio.on("connect", self.on_connect, namespace=NAMESPACE)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        show = {**self.snapshot, "version": self.version, "server_time": time.time_ns() // 1_000_000}
        await self.sio.emit("show", show, to=sid, namespace=NAMESPACE)

    async def command(self, request: web.Request) -> web.Response:
        await request.read()
        self.version += 1
        payload = {"version": self.version, "patch": self.patch, "server_time": time.time_ns() // 1_000_000}
        await self.sio.emit("patch", payload, namespace=NAMESPACE)
        return web.json_response({"ok": True, "version": self.version})

    def app(self) -> web.Application:
        app = web.Application()
        self.sio.attach(app)
        app.router.add_post("/api/show/commands", self.command)
        return app


async def serve(port: int, baseline: Baseline) -> None:
    runner = web.AppRunner(baseline.app(), access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, reuse_address=True).start()
    print("ready", flush=True)
    try:
        await asyncio.Event().wait()  # until the orchestrator stops the process
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    run_reference_server("baseline", lambda port, show, patch: serve(port, Baseline(show, patch)))
