"""The embedded collections: SQLite in the data dir, in WAL mode.

One connection on one thread of its own: every call is a short transaction, in order, off
the event loop. WAL with synchronous=FULL keeps what a call acknowledged through a
kill -9 or a power cut.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import orjson

from eventrunner.stores.contract import Record, StoreUnavailable

T = TypeVar("T")

FILENAME = "collections.sqlite3"
SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, id TEXT NOT NULL, status TEXT NOT NULL, body BLOB NOT NULL,
    created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
);
CREATE INDEX IF NOT EXISTS records_by_status ON records (kind, status, seq);
CREATE TABLE IF NOT EXISTS remembered (key TEXT PRIMARY KEY, value TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS seen (name TEXT NOT NULL, member TEXT NOT NULL, PRIMARY KEY (name, member));
CREATE TABLE IF NOT EXISTS blobs (key TEXT PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS counts (
    counter TEXT NOT NULL, field TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (counter, field)
);
"""
COLUMNS = "SELECT kind, id, status, body, created_ms, updated_ms FROM records"
UPSERT_COUNT = "INSERT INTO counts VALUES (?, ?, ?) ON CONFLICT (counter, field) DO UPDATE SET value = "


class SqliteCollections:
    def __init__(self, data_dir: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = data_dir / FILENAME
        self.clock = clock
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._db: sqlite3.Connection | None = None
        self._seq = 0
        self._waiting: list[tuple[Callable[[sqlite3.Connection], Any], asyncio.Future[Any]]] = []
        self._committer: asyncio.Task[None] | None = None
        self._closing = False
        self._thread.submit(self._open).result()

    def _open(self) -> None:
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        db.executescript(SCHEMA)
        self._seq = db.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]
        self._db = db

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` in a transaction of its own, kept on disk when this returns.

        Calls that arrive while a commit is under way wait and go together in the next
        one (group commit): one fsync for a burst of check-ins instead of one each. Each
        call is a savepoint of that transaction, so one that fails undoes only itself."""
        if self._closing:
            raise StoreUnavailable("the store is closing")
        done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((work, done))
        if self._committer is None:
            self._committer = asyncio.create_task(self._commit_waiting(), name="sqlite-commit")
        return await done

    async def _commit_waiting(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    outcomes = await loop.run_in_executor(self._thread, self._commit, [w for w, _ in batch])
                except Exception as error:  # the commit itself failed: nothing of the batch is kept
                    outcomes = [(False, error)] * len(batch)
                for (_, done), (ok, value) in zip(batch, outcomes, strict=True):
                    if done.done():
                        continue  # its caller gave up waiting
                    if ok:
                        done.set_result(value)
                    else:
                        done.set_exception(value)
        except BaseException:
            # Cancelled (the loop is stopping): nobody may wait for an answer forever.
            for _, done in self._waiting:
                if not done.done():
                    done.set_exception(StoreUnavailable("the store stopped before this was kept"))
            self._waiting = []
            raise
        finally:
            self._committer = None

    def _commit(self, works: list[Callable[[sqlite3.Connection], Any]]) -> list[tuple[bool, Any]]:
        db = self._db
        assert db is not None
        outcomes: list[tuple[bool, Any]] = []
        db.execute("BEGIN IMMEDIATE")
        try:
            for work in works:
                db.execute("SAVEPOINT one")
                try:
                    outcomes.append((True, work(db)))
                except Exception as error:
                    if not db.in_transaction:
                        raise  # SQLite ended the whole transaction: the batch fails as one
                    db.execute("ROLLBACK TO one")
                    outcomes.append((False, error))
                db.execute("RELEASE one")
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:  # SQLite may have rolled back by itself (a full disk)
                db.execute("ROLLBACK")
            raise
        return outcomes

    async def close(self) -> None:
        self._closing = True
        if self._committer is not None:
            await self._committer  # what was asked before closing is kept (or refused) first

        def shut() -> None:
            if self._db is not None:
                self._db.close()
                self._db = None

        await asyncio.get_running_loop().run_in_executor(self._thread, shut)
        self._thread.shutdown(wait=True)

    # --- records ---------------------------------------------------------------------------

    async def insert(self, kind: str, record_id: str, status: str, body: dict[str, Any], now_ms: int) -> bool:
        return await self._run(
            lambda db: self._insert(db, Record(kind, record_id, status, body, now_ms, now_ms))
        )

    def _insert(self, db: sqlite3.Connection, record: Record) -> bool:
        self._seq += 1
        inserted = db.execute(
            "INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                record.kind,
                record.id,
                record.status,
                orjson.dumps(record.body),
                record.created_ms,
                record.created_ms,
                self._seq,
            ),
        )
        return inserted.rowcount == 1

    async def get(self, kind: str, record_id: str) -> Record | None:
        def work(db: sqlite3.Connection) -> Record | None:
            row = db.execute(
                f"{COLUMNS} WHERE kind = ? AND id = ?",
                (kind, record_id),
            ).fetchone()
            return _record(row) if row else None

        return await self._run(work)

    async def update(
        self,
        kind: str,
        record_id: str,
        now_ms: int,
        status: str | None = None,
        body: dict[str, Any] | None = None,
        expected_status: str | None = None,
    ) -> Record | None:
        def work(db: sqlite3.Connection) -> Record | None:
            row = db.execute(
                f"{COLUMNS} WHERE kind = ? AND id = ?",
                (kind, record_id),
            ).fetchone()
            if row is None or (expected_status is not None and row[2] != expected_status):
                return None
            new_status = row[2] if status is None else status
            new_body = row[3] if body is None else orjson.dumps(body)
            db.execute(
                "UPDATE records SET status = ?, body = ?, updated_ms = ? WHERE kind = ? AND id = ?",
                (new_status, new_body, now_ms, kind, record_id),
            )
            return _record((kind, record_id, new_status, new_body, row[4], now_ms))

        return await self._run(work)

    async def records(
        self, kind: str, status: str | None = None, limit: int = 1000, newest_first: bool = False
    ) -> list[Record]:
        order = "DESC" if newest_first else "ASC"

        def work(db: sqlite3.Connection) -> list[Record]:
            if status is None:
                rows = db.execute(f"{COLUMNS} WHERE kind = ? ORDER BY seq {order} LIMIT ?", (kind, limit))
            else:
                rows = db.execute(
                    f"{COLUMNS} WHERE kind = ? AND status = ? ORDER BY seq {order} LIMIT ?",
                    (kind, status, limit),
                )
            return [_record(row) for row in rows]

        return await self._run(work)

    async def count(self, kind: str, status: str) -> int:
        def work(db: sqlite3.Connection) -> int:
            row = db.execute("SELECT COUNT(*) FROM records WHERE kind = ? AND status = ?", (kind, status))
            return int(row.fetchone()[0])

        return await self._run(work)

    # --- idempotency keys --------------------------------------------------------------------

    async def remember_once(self, key: str, value: str, ttl_s: int) -> str | None:
        def work(db: sqlite3.Connection) -> str | None:
            now = self.clock()
            db.execute("DELETE FROM remembered WHERE key = ? AND expires <= ?", (key, now))
            row = db.execute("SELECT value FROM remembered WHERE key = ?", (key,)).fetchone()
            if row is not None:
                return str(row[0])
            db.execute("INSERT INTO remembered VALUES (?, ?, ?)", (key, value, now + ttl_s))
            return None

        return await self._run(work)

    # --- dedupe sets and counters ---------------------------------------------------------

    async def count_once(
        self, seen: str, member: str, counter: str, field: str, keep: Record | None = None
    ) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            added = db.execute("INSERT OR IGNORE INTO seen VALUES (?, ?)", (seen, member)).rowcount == 1
            if added:
                _add(db, counter, field, 1)
                if keep is not None:
                    self._insert(db, keep)
            return added

        return await self._run(work)

    async def uncount(self, seen: str, member: str, counter: str, field: str) -> bool:
        def work(db: sqlite3.Connection) -> bool:
            removed = (
                db.execute("DELETE FROM seen WHERE name = ? AND member = ?", (seen, member)).rowcount == 1
            )
            if removed:
                _add(db, counter, field, -1)
            return removed

        return await self._run(work)

    async def members(self, seen: str, prefix: str) -> set[str]:
        def work(db: sqlite3.Connection) -> set[str]:
            rows = db.execute(
                "SELECT member FROM seen WHERE name = ? AND substr(member, 1, ?) = ?",
                (seen, len(prefix), prefix),
            )
            return {member for (member,) in rows}

        return await self._run(work)

    async def add(self, counter: str, field: str, by: int) -> int:
        return await self._run(lambda db: _add(db, counter, field, by))

    async def put(self, counter: str, field: str, value: int) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute(UPSERT_COUNT + "excluded.value", (counter, field, value))

        await self._run(work)

    async def put_max(self, counter: str, field: str, value: int) -> int:
        def work(db: sqlite3.Connection) -> int:
            row = db.execute(
                UPSERT_COUNT + "MAX(value, excluded.value) RETURNING value", (counter, field, value)
            )
            return int(row.fetchone()[0])

        return await self._run(work)

    async def counts(self, counter: str) -> dict[str, int]:
        def work(db: sqlite3.Connection) -> dict[str, int]:
            rows = db.execute("SELECT field, value FROM counts WHERE counter = ? ORDER BY field", (counter,))
            return {field: int(value) for field, value in rows}

        return await self._run(work)

    # --- blobs -------------------------------------------------------------------------------

    async def put_blob(self, key: str, data: bytes) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR REPLACE INTO blobs VALUES (?, ?)", (key, data))

        await self._run(work)

    async def delete_blob(self, key: str) -> None:
        def work(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM blobs WHERE key = ?", (key,))

        await self._run(work)

    async def get_blob(self, key: str) -> bytes | None:
        def work(db: sqlite3.Connection) -> bytes | None:
            row = db.execute("SELECT data FROM blobs WHERE key = ?", (key,)).fetchone()
            return bytes(row[0]) if row else None

        return await self._run(work)


def _add(db: sqlite3.Connection, counter: str, field: str, by: int) -> int:
    row = db.execute(
        UPSERT_COUNT + "value + excluded.value RETURNING value",
        (counter, field, by),
    ).fetchone()
    return int(row[0])


def _record(row: tuple[Any, ...]) -> Record:
    kind, record_id, status, body, created_ms, updated_ms = row
    return Record(kind, record_id, status, orjson.loads(body), int(created_ms), int(updated_ms))
