"""The console sessions that are signed in, kept in the data dir, each with its role.

A session cookie names a session id; the id counts only while it is in this set, so
signing out ends the session on the server, not just in one browser. The set is written
atomically (mode 600) on every sign-in and sign-out, so a restart, even after kill -9,
keeps both. Only a hash of each id is kept: the file alone does not make a cookie.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

import orjson

from eventrunner.access.roles import Role, as_role

log = logging.getLogger(__name__)

FILENAME = "producer-sessions.json"
TEMP_PREFIX, TEMP_SUFFIX = ".producer-sessions-", ".tmp"
# A day has a handful of producers; a few hundred sessions is every browser they used.
MAX_LIVE_SESSIONS = 300
MAX_FILE_BYTES = 1024 * 1024


class Sessions(Protocol):
    """The live console sessions, wherever they are kept."""

    async def role(self, session_id: str) -> Role | None:
        """The role a live session signed in as; None if it is not live."""
        ...

    async def is_live(self, session_id: str) -> bool: ...

    async def start(self, role: Role = "producer") -> str: ...

    async def end(self, session_id: str) -> bool: ...


def session_key(session_id: str) -> str:
    """What is kept of a session id: its hash (the store alone does not make a cookie)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


def session_record(started: float, role: Role) -> float | str:
    """What the stores keep for a session: when it started, and its role after a space
    unless it is a producer's. A producer's stays the bare time that records had before
    roles, so a process of the last release still reads them; it fails to read the
    others (a refusal), and never takes them for a producer."""
    return started if role == "producer" else f"{started!r} {role}"


def parse_session_record(value: object) -> tuple[float, Role] | None:
    """(started, role) of a kept record; a bare time (from before roles) is a producer's.
    None for a record that is not one."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value), "producer"
    if not isinstance(value, str):
        return None
    when, _, named = value.partition(" ")
    role = as_role(named) if named else "producer"
    try:
        return (float(when), role) if role is not None else None
    except ValueError:
        return None


class SessionStore:
    """Live session ids, oldest first. `path` None keeps them in memory only (a restart
    then signs everyone out, which is safe but not what a server wants)."""

    def __init__(
        self,
        path: Path | None,
        max_age_s: float,
        max_live: int = MAX_LIVE_SESSIONS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.max_age_s = max_age_s
        self.max_live = max_live
        self.clock = clock
        # hashed id -> (when it signed in, its role), oldest first
        self._started: dict[str, tuple[float, Role]] = {}
        self._write_lock = asyncio.Lock()
        if path is not None:
            self._started = _load(path)
            self._prune()

    @classmethod
    def in_data_dir(cls, data_dir: Path, max_age_s: float) -> SessionStore:
        data_dir.mkdir(parents=True, exist_ok=True)
        # A kill -9 between writing a temporary file and renaming it leaves it behind.
        for leftover in data_dir.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
            leftover.unlink(missing_ok=True)
        return cls(data_dir / FILENAME, max_age_s)

    def __len__(self) -> int:
        return len(self._started)

    async def role(self, session_id: str) -> Role | None:
        kept = self._started.get(session_key(session_id))
        if kept is None or self.clock() - kept[0] >= self.max_age_s:
            return None
        return kept[1]

    async def is_live(self, session_id: str) -> bool:
        return await self.role(session_id) is not None

    async def start(self, role: Role = "producer") -> str:
        """A new live session; the oldest beyond `max_live` are signed out."""
        session_id = secrets.token_urlsafe(16)
        self._started[session_key(session_id)] = (self.clock(), role)
        self._prune()
        await self.save()
        return session_id

    async def end(self, session_id: str) -> bool:
        """Sign a session out; False if it was not live."""
        if self._started.pop(session_key(session_id), None) is None:
            return False
        # Ended in memory first: a disk that fails to keep it ends it no less here.
        await self.save()
        return True

    def _prune(self) -> None:
        cutoff = self.clock() - self.max_age_s
        for key in [key for key, (started, _) in self._started.items() if started <= cutoff]:
            del self._started[key]
        while len(self._started) > self.max_live:
            del self._started[next(iter(self._started))]

    async def save(self) -> None:
        if self.path is None:
            return
        # One write at a time, each of the set as it is when the write begins: a sign-in's
        # write landing after a sign-out's must not bring the signed-out session back.
        async with self._write_lock:
            kept = {key: session_record(*record) for key, record in self._started.items()}
            payload = orjson.dumps({"sessions": kept})
            await asyncio.to_thread(_write_atomically, self.path, payload)


def _load(path: Path) -> dict[str, tuple[float, Role]]:
    try:
        with path.open("rb") as kept:
            raw = orjson.loads(kept.read(MAX_FILE_BYTES + 1))
        parsed = {str(key): parse_session_record(value) for key, value in raw["sessions"].items()}
        # A record this release cannot read is signed out, not the whole set.
        started = {key: record for key, record in parsed.items() if record is not None}
    except FileNotFoundError:
        return {}
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as error:
        # Unreadable: nobody is signed in, which is the safe way to be wrong.
        log.warning("%s cannot be read (%s): every producer signs in again", path, error)
        return {}
    return dict(sorted(started.items(), key=lambda item: item[1][0]))


def _write_atomically(path: Path, payload: bytes) -> None:
    """Write, fsync, rename, fsync the directory: a crash leaves the old set or the new."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX)  # mode 600
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(payload)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
