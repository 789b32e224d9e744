"""What a store keeps, and the contract every store implements.

Two implementations keep it: the embedded one in the data dir (the show file and SQLite,
one process) and Redis (shared by every process of a show). Callers see only this
module; tests/test_store_contract.py runs the same suite against both.

- The show record: `save` is compare-and-set on the version actually stored, and may be
  fenced by the leader's lease, so a paused old leader cannot write over a new one.
- Collections for what later features persist: records with an id and a status
  (actions, check-ins), idempotency keys, dedupe sets and counters (post counts), and
  blobs (photos).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

from pydantic import BaseModel

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


class LastChange(BaseModel):
    """The change that made the stored state, kept beside it so that any process of the
    show can undo it (`undo`): the undo needs the state from before it, and whether it
    was a person's command, how long ago, and that nothing came after it."""

    command: str
    by: str  # the dispatcher's source: "api", "console:…", "autopilot"
    at: int  # epoch ms by the server clock
    version: int  # the version this change saved
    # The state before the change, for a person's command; None for what cannot be undone
    # (the autopilot following the clock, an undo itself).
    before: ShowState | None = None


class StoredShow(BaseModel):
    # The record's layout; a record of another layout is refused, never half-read.
    schema_version: Literal[1] = 1
    schedule: ScheduleRef
    state: ShowState
    # Absent in records saved before undo existed (and after a restore or a reopen):
    # then there is nothing to undo.
    last_change: LastChange | None = None


class StoreConflict(Exception):
    """Another writer saved a newer version first, or the writer's lease has passed."""


class LeaseLost(StoreConflict):
    """A fenced write from a leader whose lease has passed to another process."""


def same_run(stored: ScheduleRef, mine: ScheduleRef) -> bool:
    """Whether a stored show was opened with the schedule (and demo shift) this process
    runs: only then may it render and save that show."""
    return (stored.sha256, stored.shift_ms, stored.demo) == (mine.sha256, mine.shift_ms, mine.demo)


class StoreCorrupt(Exception):
    """The stored record cannot be read; it is left in place for a human to look at."""


class StoreUnavailable(Exception):
    """The store cannot be reached now; nothing was read or written."""


class ShowStore(Protocol):
    @property
    def where(self) -> str:
        """Where the record is kept, for messages to people."""
        ...

    @property
    def shared(self) -> bool:
        """Whether other processes write this record too (then read before writing)."""
        ...

    async def load(self) -> StoredShow | None: ...

    async def save(self, record: StoredShow, expected_version: int | None, fence: int | None = None) -> None:
        """Store `record` if the stored version is `expected_version` (None: no record
        yet) and, when `fence` is given, the leader lease is still at that epoch.
        Raises StoreConflict otherwise, StoreUnavailable when it cannot tell."""
        ...


@dataclass(frozen=True)
class Record:
    kind: str
    id: str
    status: str
    body: dict[str, Any]
    created_ms: int
    updated_ms: int


class Collections(Protocol):
    # --- records with an id and a status -------------------------------------------------

    async def insert(self, kind: str, record_id: str, status: str, body: dict[str, Any], now_ms: int) -> bool:
        """Add a record; False (and nothing changed) if `record_id` exists."""
        ...

    async def get(self, kind: str, record_id: str) -> Record | None: ...

    async def update(
        self,
        kind: str,
        record_id: str,
        now_ms: int,
        status: str | None = None,
        body: dict[str, Any] | None = None,
        expected_status: str | None = None,
    ) -> Record | None:
        """Change a record's status and/or body; None if it is missing or its status is
        not `expected_status` (when given): two moderators cannot both approve."""
        ...

    async def records(
        self, kind: str, status: str | None = None, limit: int = 1000, newest_first: bool = False
    ) -> list[Record]:
        """In the order they were inserted, oldest first (or newest first), at most `limit`."""
        ...

    async def count(self, kind: str, status: str) -> int:
        """How many records of `kind` have `status`."""
        ...

    # --- idempotency keys ------------------------------------------------------------------

    async def remember_once(self, key: str, value: str, ttl_s: int) -> str | None:
        """Keep `value` under `key` for `ttl_s` unless a value is there already; returns
        that earlier value, or None when this call stored its own."""
        ...

    # --- dedupe sets and counters ----------------------------------------------------------

    async def count_once(
        self, seen: str, member: str, counter: str, field: str, keep: Record | None = None
    ) -> bool:
        """In one step: if `member` is new to set `seen`, add it and add 1 to
        `counter[field]`, and keep the record `keep` (unless its id exists). True if it
        was counted now."""
        ...

    async def uncount(self, seen: str, member: str, counter: str, field: str) -> bool:
        """The reverse of count_once (a deleted post): True if it had been counted."""
        ...

    async def members(self, seen: str, prefix: str) -> set[str]:
        """The members of set `seen` that start with `prefix`."""
        ...

    async def add(self, counter: str, field: str, by: int) -> int:
        """Add `by` (which may be negative) to `counter[field]`; returns the new value."""
        ...

    async def put(self, counter: str, field: str, value: int) -> None:
        """Replace `counter[field]` (a corrected bucket: replaced, never added twice)."""
        ...

    async def put_max(self, counter: str, field: str, value: int) -> int:
        """Raise `counter[field]` to `value` unless it holds more already, in one step;
        returns what it holds after (values up to 2**53: Redis compares them as doubles)."""
        ...

    async def counts(self, counter: str) -> dict[str, int]: ...

    # --- blobs (photos) ----------------------------------------------------------------------

    async def put_blob(self, key: str, data: bytes) -> None: ...

    async def get_blob(self, key: str) -> bytes | None: ...

    async def delete_blob(self, key: str) -> None: ...


class Store(Protocol):
    """One store: the show record and the collections, opened and closed together."""

    show: ShowStore
    collections: Collections

    async def close(self) -> None: ...
