"""`eventrunner serve` as a real process on a free loopback port."""

from __future__ import annotations

import os
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO

import aiohttp

from .builders import REPO
from .conftest import PASSWORD, TOKEN

START_TIMEOUT_S = 30


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerProcess:
    def __init__(
        self,
        args: list[str],
        data_dir: Path,
        port: int | None = None,
        program: list[str] | None = None,
        cwd: Path | None = None,
        open_files: int | None = None,
    ) -> None:
        self.args = args
        self.data_dir = data_dir
        self.port = port or free_port()
        # This checkout's server by default; or another `eventrunner`, e.g. an installed one.
        self.program = program or [sys.executable, "-m", "eventrunner.cli"]
        self.cwd = cwd or REPO
        self.open_files = open_files  # the server's open-file limit, soft and hard
        self.process: subprocess.Popen[str] | None = None
        self.output: list[str] = []
        self._drainer: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        env = {
            **os.environ,
            "EVENTRUNNER_PRODUCER_PASSWORD": PASSWORD,
            "EVENTRUNNER_API_TOKEN": TOKEN,
            "PYTHONUNBUFFERED": "1",
        }
        self.process = subprocess.Popen(
            [
                *self.program,
                "serve",
                *self.args,
                "--data-dir",
                str(self.data_dir),
                "--port",
                str(self.port),
            ],
            cwd=self.cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            preexec_fn=self._limit_open_files if self.open_files else None,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        assert self.process.stdout is not None
        # The server prints "ready" once it listens; reading its output is the event to wait on.
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if not line:
                raise RuntimeError("server exited before it was ready:\n" + "".join(self.output))
            self.output.append(line)
            if line.strip() == "ready":
                # Keep reading: a server whose log pipe fills up blocks on its next write.
                self._drainer = threading.Thread(target=self._drain, args=(self.process.stdout,), daemon=True)
                self._drainer.start()
                return self
        raise RuntimeError("server did not become ready:\n" + "".join(self.output))

    def _limit_open_files(self) -> None:
        assert self.open_files is not None
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.open_files, self.open_files))

    def _drain(self, stream: IO[str]) -> None:
        for line in stream:
            self.output.append(line)

    def log_after_exit(self) -> str:
        """Everything the server printed, once it has exited."""
        assert self.process is not None and self.process.poll() is not None
        if self._drainer is not None:
            self._drainer.join(timeout=5)
        return "".join(self.output)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            self.process.wait(timeout=15)

    def stop(self) -> None:
        self.kill(signal.SIGTERM)


async def command(url: str, body: dict) -> dict:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{url}/api/show/commands", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as response,
    ):
        result = await response.json()
        assert response.status == 200, result
        return result


async def show(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(f"{url}/api/show") as response:
        return await response.json()
