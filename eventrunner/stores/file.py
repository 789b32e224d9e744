"""The embedded show record: one JSON file in the data dir, replaced atomically.

The stored record names the schedule it was built from (path, content hash, and the
shift a demo applied) beside the engine state, so a restart rebuilds the same plan and
resumes at the same point. `save` is compare-and-set on the version in the file
(stores/contract.py).
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import stat
import tempfile
from pathlib import Path

import orjson
from pydantic import ValidationError

from eventrunner.stores.contract import StoreConflict, StoreCorrupt, StoredShow


class DataDirLocked(Exception):
    """Another eventrunner holds this data directory."""


class FileStore:
    """The embedded default: a JSON file in the data directory, replaced atomically.

    One process owns a data directory at a time (an flock held for the store's life), so
    a second `serve` on it, even with --reset, stops before it writes anything.
    """

    FILENAME = "show.json"
    TEMP_PREFIX, TEMP_SUFFIX = ".show-", ".tmp"
    # A day's record is tens of kilobytes; anything this size is not one.
    MAX_RECORD_BYTES = 16 * 1024 * 1024

    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / self.FILENAME
        data_dir.mkdir(parents=True, exist_ok=True)
        self._lock = os.open(data_dir / ".lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock)
            raise DataDirLocked(f"another eventrunner is using {data_dir}") from None
        self._saving = asyncio.Lock()
        # A kill -9 between writing a temporary record and renaming it leaves it behind.
        for leftover in data_dir.glob(f"{self.TEMP_PREFIX}*{self.TEMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)

    @property
    def where(self) -> str:
        return str(self.path)

    @property
    def shared(self) -> bool:
        return False  # the data dir's lock keeps every other process out

    def close(self) -> None:
        os.close(self._lock)

    async def load(self) -> StoredShow | None:
        return await asyncio.to_thread(self._load)

    def _load(self) -> StoredShow | None:
        try:
            raw = self._read_record()
        except FileNotFoundError:
            return None
        except OSError as error:
            raise StoreCorrupt(f"{self.path} cannot be read: {error.strerror or error}") from error
        try:
            record = StoredShow.model_validate_json(raw)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            where = ".".join(str(step) for step in first["loc"]) or "the record"
            raise StoreCorrupt(f"{self.path} is not a show record: {where}: {first['msg']}") from error
        return record

    def _read_record(self) -> bytes:
        # Only a regular file of sane size: a FIFO would hang the start, /dev/zero fill memory.
        descriptor = os.open(self.path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(descriptor, "rb") as record:
            info = os.fstat(record.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise StoreCorrupt(f"{self.path} is not a regular file")
            if info.st_size > self.MAX_RECORD_BYTES:
                raise StoreCorrupt(f"{self.path} is {info.st_size} bytes, more than a show record can be")
            return record.read(self.MAX_RECORD_BYTES + 1)

    async def save(self, record: StoredShow, expected_version: int | None, fence: int | None = None) -> None:
        # One process holds the data dir: there is no lease to fence with. The lock makes
        # compare and write one step for this process's writers.
        async with self._saving:
            await asyncio.to_thread(self._write, record.model_dump_json().encode(), expected_version)

    def _stored_version(self) -> int | None:
        try:
            return int(orjson.loads(self._read_record())["state"]["version"])
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise StoreCorrupt(f"{self.path} cannot be read to compare versions: {error}") from error

    def _write(self, payload: bytes, expected_version: int | None) -> None:
        stored = self._stored_version()
        if stored != expected_version:
            raise StoreConflict(f"stored version is {stored}, expected {expected_version}")
        # Write, fsync, rename, fsync the directory: a kill -9 or power loss at any point
        # leaves either the old record or the new one, never a torn file.
        handle, temp = tempfile.mkstemp(
            dir=self.path.parent, prefix=self.TEMP_PREFIX, suffix=self.TEMP_SUFFIX
        )
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
