"""Where the show survives restarts: one store interface, the embedded file store.

The stored record names the schedule it was built from (path, content hash, and the
shift a demo applied) beside the engine state, so a restart rebuilds the same plan and
resumes at the same point. `save` is compare-and-set on the version: it refuses to
overwrite a newer show, which is the contract a shared (Redis) store must keep too.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import tempfile
from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ValidationError

from eventrunner.core.show import ShowState


class ScheduleRef(BaseModel):
    source: str
    sha256: str
    shift_ms: int = 0
    demo: bool = False
    # "title on date": another file of the same show (a renamed copy) may take over.
    event: str = ""
    # Each segment's (start, end) as the schedule planned it, after the demo's shift:
    # what producers moved since is the state's planned times minus these.
    baseline: dict[str, tuple[int, int]] = {}


class StoredShow(BaseModel):
    schedule: ScheduleRef
    state: ShowState


class StoreConflict(Exception):
    """Another writer saved a newer version first."""


class StoreCorrupt(Exception):
    """The stored record cannot be read; it is left in place for a human to look at."""


class ShowStore(Protocol):
    async def load(self) -> StoredShow | None: ...

    async def save(self, record: StoredShow, expected_version: int | None) -> None: ...


class DataDirLocked(Exception):
    """Another eventrunner holds this data directory."""


class FileStore:
    """The embedded default: a JSON file in the data directory, replaced atomically.

    One process owns a data directory at a time (an flock held for the store's life), so
    a second `serve` on it, even with --reset, stops before it writes anything.
    """

    FILENAME = "show.json"

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / self.FILENAME
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            raise DataDirLocked(f"another eventrunner is using {data_dir}") from None
        self._saved_version: int | None = None

    def close(self) -> None:
        os.close(self._lock)

    async def load(self) -> StoredShow | None:
        return await asyncio.to_thread(self._load)

    def _load(self) -> StoredShow | None:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            record = StoredShow.model_validate_json(raw)
        except ValidationError as error:
            raise StoreCorrupt(f"{self.path} is not a show record: {error.errors()[0]['msg']}") from error
        self._saved_version = record.state.version
        return record

    async def save(self, record: StoredShow, expected_version: int | None) -> None:
        if self._saved_version is not None and self._saved_version != expected_version:
            raise StoreConflict(f"stored version is {self._saved_version}, expected {expected_version}")
        await asyncio.to_thread(self._write, record.model_dump_json().encode())
        self._saved_version = record.state.version

    def _write(self, payload: bytes) -> None:
        # Write, fsync, rename, fsync the directory: a kill -9 or power loss at any point
        # leaves either the old record or the new one, never a torn file.
        handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".show-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(payload)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
        directory = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
