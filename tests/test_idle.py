"""Connections that never send a whole request are closed by the idle timeout, and the
server keeps answering meanwhile."""

from __future__ import annotations

import select
import socket
import time

import aiohttp
import pytest

from .builders import live_now_schedule
from .process import ServerProcess

IDLE_TIMEOUT_S = 2
SOCKETS = 500


@pytest.mark.slow
async def test_idle_and_trickling_connections_are_closed_and_health_answers_throughout(tmp_path):
    schedule = live_now_schedule(tmp_path / "day.yaml")
    server = ServerProcess([str(schedule), "--idle-timeout", str(IDLE_TIMEOUT_S)], tmp_path / "data").start()
    assert any(f"idle connections closed after {IDLE_TIMEOUT_S} s" in line for line in server.output)
    crowd: list[socket.socket] = []
    try:
        for n in range(SOCKETS):
            sock = socket.create_connection(("127.0.0.1", server.port))
            if n % 2:  # half of them start a request and never finish its headers
                sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            crowd.append(sock)
        opened = time.monotonic()
        async with aiohttp.ClientSession() as session:
            open_sockets = set(crowd)
            while open_sockets and time.monotonic() - opened < 10 * IDLE_TIMEOUT_S:
                async with session.get(f"{server.url}/healthz") as response:
                    assert response.status == 200  # answered while the crowd hangs on
                # Wait for the server to close them: a closed socket reads as ready, with b"".
                readable, _, _ = select.select(list(open_sockets), [], [], 0.5)
                for sock in readable:
                    if sock.recv(1024) == b"":
                        open_sockets.discard(sock)
        assert not open_sockets, f"{len(open_sockets)} of {SOCKETS} idle connections still open"
        assert time.monotonic() - opened < 3 * IDLE_TIMEOUT_S + 2
    finally:
        for sock in crowd:
            sock.close()
        server.kill()
