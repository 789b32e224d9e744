"""Shared fixtures: a show clock the test controls, and a real server on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from eventrunner.app import Server, build_server
from eventrunner.config import Settings

from .browser import browser  # noqa: F401  (a fixture for the browser tests)
from .builders import CNC, at

PASSWORD = "correct horse battery staple"
TOKEN = "test-api-token"


class ShowClock:
    """A clock the test moves by hand; the server reads it for every command."""

    def __init__(self, start: int) -> None:
        self.now = start

    def __call__(self) -> int:
        return self.now


@dataclass
class Running:
    server: Server
    http: TestServer
    clock: ShowClock

    @property
    def url(self) -> str:
        return str(self.http.make_url("")).rstrip("/")

    @property
    def version(self) -> int:
        return self.server.dispatcher.state.version


@pytest.fixture(autouse=True)
def producer_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTRUNNER_PRODUCER_PASSWORD", PASSWORD)
    monkeypatch.setenv("EVENTRUNNER_API_TOKEN", TOKEN)


@pytest.fixture
async def start_server(tmp_path: Path) -> AsyncIterator[Callable[..., object]]:
    started: list[TestServer] = []

    async def start(
        schedule: Path = CNC, now: int | None = None, data_dir: Path | None = None, **settings_: object
    ) -> Running:
        clock = ShowClock(now if now is not None else at("2022-03-03 11:45"))
        settings = Settings(schedule=schedule, data_dir=data_dir or tmp_path / "data", **settings_)
        server = await build_server(settings, clock=clock)
        http = TestServer(server.app, host="127.0.0.1")
        await http.start_server()
        started.append(http)
        return Running(server, http, clock)

    yield start
    for http in started:
        await http.close()


@pytest.fixture
async def running(start_server) -> Running:
    return await start_server()
