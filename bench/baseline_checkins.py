"""The check-in bench's baseline: aiohttp on uvloop answering 201 to every POST, reading
the body and keeping nothing. What HTTP alone costs on this machine."""

from __future__ import annotations

import asyncio
import sys

import uvloop
from aiohttp import web


async def accept(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response({"id": "x", "status": "pending"}, status=201)


def main() -> None:
    app = web.Application()
    app.router.add_post("/api/checkin/{token}", accept)
    port = int(sys.argv[1])

    async def serve() -> None:
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
        print("ready", flush=True)
        await asyncio.Event().wait()  # until the bench stops it

    uvloop.run(serve())


if __name__ == "__main__":
    main()
