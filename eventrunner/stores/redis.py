"""The shared store: Redis, for every process of one show (stores/contract.py).

Each step that must not interleave with another process's (compare-and-set, count once,
a status change) is one Lua script, which Redis runs whole. A failure to reach Redis is
StoreUnavailable: callers refuse the change rather than accept it and lose it.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import orjson
import redis.asyncio as aioredis
from pydantic import ValidationError
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from eventrunner.stores.contract import (
    LeaseLost,
    Record,
    StoreConflict,
    StoreCorrupt,
    StoredShow,
    StoreUnavailable,
)

P = ParamSpec("P")
T = TypeVar("T")

DEFAULT_PREFIX = "eventrunner:"
# How long one call may wait for Redis before the caller is told it is unavailable.
SOCKET_TIMEOUT_S = 2.0
MAX_CONNECTIONS = 64  # per process: the bus's subscription holds one for good

SAVE_SHOW = """
if ARGV[4] ~= '' and redis.call('GET', KEYS[2]) ~= ARGV[4] then return {0, 'fence'} end
local stored = redis.call('HGET', KEYS[1], 'version')
if (stored or '') ~= ARGV[1] then return {0, stored or ''} end
redis.call('HSET', KEYS[1], 'version', ARGV[2], 'record', ARGV[3])
return {1, ''}
"""
# Each record is a hash of its own (status, body, created_ms, updated_ms): scripts move
# fields, never re-encode a body (Lua's JSON would turn [] into {} and round numbers).
# KEYS: the record, the sequence, the order, the status orders' prefix.
KEEP_RECORD = """
local function keep(k, a)
  if redis.call('EXISTS', k[1]) == 1 then return 0 end
  local seq = redis.call('INCR', k[2])
  redis.call('HSET', k[1], 'status', a[2], 'body', a[3], 'created_ms', a[4], 'updated_ms', a[4])
  redis.call('ZADD', k[3], seq, a[1])
  redis.call('ZADD', k[4] .. a[2], seq, a[1])
  return 1
end
"""
INSERT_RECORD = KEEP_RECORD + "return keep(KEYS, ARGV)"
# ARGV: id, expected status ('' any), new status ('' same), new body ('' same), now_ms
UPDATE_RECORD = """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return 0 end
if ARGV[2] ~= '' and status ~= ARGV[2] then return 0 end
if ARGV[3] ~= '' and ARGV[3] ~= status then
  local seq = redis.call('ZSCORE', KEYS[2], ARGV[1])
  redis.call('ZREM', KEYS[3] .. status, ARGV[1])
  redis.call('ZADD', KEYS[3] .. ARGV[3], seq, ARGV[1])
  redis.call('HSET', KEYS[1], 'status', ARGV[3])
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'body', ARGV[4]) end
redis.call('HSET', KEYS[1], 'updated_ms', ARGV[5])
return 1
"""
# KEYS: the set, the counter, then (to keep a record too) INSERT_RECORD's; ARGV likewise.
COUNT_ONCE = (
    KEEP_RECORD
    + """
if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[2], 1)
if #KEYS > 2 then keep({KEYS[3], KEYS[4], KEYS[5], KEYS[6]}, {ARGV[3], ARGV[4], ARGV[5], ARGV[6]}) end
return 1
"""
)
PUT_MAX = """
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held and tonumber(held) >= tonumber(ARGV[2]) then return held end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return ARGV[2]
"""
UNCOUNT = """
if redis.call('SREM', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HINCRBY', KEYS[2], ARGV[2], -1)
return 1
"""


def unavailable_on_redis_errors(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    @functools.wraps(method)
    async def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await method(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError) as error:
            raise StoreUnavailable(f"Redis cannot be reached: {error}") from error
        except RedisError as error:
            raise StoreUnavailable(f"Redis refused: {error}") from error

    return wrapper


def connect(url: str) -> aioredis.Redis:
    # A burst of requests waits for one of MAX_CONNECTIONS connections instead of failing
    # with "too many connections".
    pool = aioredis.BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=SOCKET_TIMEOUT_S,
        socket_timeout=SOCKET_TIMEOUT_S,
        socket_connect_timeout=SOCKET_TIMEOUT_S,
        health_check_interval=10,
        # Never run a command twice: a compare-and-set retried after its answer was lost
        # would look like a conflict with itself.
        retry=Retry(NoBackoff(), 0),
    )
    return aioredis.Redis(connection_pool=pool)


class RedisShowStore:
    def __init__(self, client: aioredis.Redis, prefix: str, where: str) -> None:
        self.client = client
        self.key = f"{prefix}show"
        self.epoch_key = f"{prefix}leader:epoch"
        self._where = where
        self._save = client.register_script(SAVE_SHOW)

    @property
    def where(self) -> str:
        return self._where

    @property
    def shared(self) -> bool:
        return True

    @unavailable_on_redis_errors
    async def load(self) -> StoredShow | None:
        raw = await self.client.hget(self.key, "record")
        if raw is None:
            return None
        try:
            return StoredShow.model_validate_json(raw)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            where = ".".join(str(step) for step in first["loc"]) or "the record"
            raise StoreCorrupt(f"{self._where} is not a show record: {where}: {first['msg']}") from error

    @unavailable_on_redis_errors
    async def save(self, record: StoredShow, expected_version: int | None, fence: int | None = None) -> None:
        expected = "" if expected_version is None else str(expected_version)
        args = [
            expected,
            str(record.state.version),
            record.model_dump_json(),
            "" if fence is None else str(fence),
        ]
        saved, stored = await self._save(keys=[self.key, self.epoch_key], args=args)
        if not saved:
            stored = stored.decode() if isinstance(stored, bytes) else str(stored)
            if stored == "fence":
                raise LeaseLost(f"the leader lease has moved past epoch {fence}")
            raise StoreConflict(f"stored version is {stored or None}, expected {expected_version}")


class RedisCollections:
    def __init__(self, client: aioredis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._insert = client.register_script(INSERT_RECORD)
        self._update = client.register_script(UPDATE_RECORD)
        self._count_once = client.register_script(COUNT_ONCE)
        self._uncount = client.register_script(UNCOUNT)
        self._put_max = client.register_script(PUT_MAX)

    def _record_key(self, kind: str, record_id: str) -> str:
        return f"{self.prefix}records:{kind}:id:{record_id}"

    def _order_keys(self, kind: str) -> tuple[str, str, str]:
        base = f"{self.prefix}records:{kind}"
        # the sequence, the order of all, and (with a status appended) each status's order
        return f"{base}:seq", f"{base}:order", f"{base}:status:"

    @unavailable_on_redis_errors
    async def insert(self, kind: str, record_id: str, status: str, body: dict[str, Any], now_ms: int) -> bool:
        keys = [self._record_key(kind, record_id), *self._order_keys(kind)]
        return bool(await self._insert(keys=keys, args=[record_id, status, orjson.dumps(body), now_ms]))

    @unavailable_on_redis_errors
    async def get(self, kind: str, record_id: str) -> Record | None:
        return _record(kind, record_id, await self.client.hgetall(self._record_key(kind, record_id)))

    @unavailable_on_redis_errors
    async def update(
        self,
        kind: str,
        record_id: str,
        now_ms: int,
        status: str | None = None,
        body: dict[str, Any] | None = None,
        expected_status: str | None = None,
    ) -> Record | None:
        key = self._record_key(kind, record_id)
        _, order, by_status = self._order_keys(kind)
        args = [
            record_id,
            expected_status or "",
            status or "",
            orjson.dumps(body) if body is not None else "",
            now_ms,
        ]
        if not await self._update(keys=[key, order, by_status], args=args):
            return None
        return _record(kind, record_id, await self.client.hgetall(key))

    @unavailable_on_redis_errors
    async def records(
        self, kind: str, status: str | None = None, limit: int = 1000, newest_first: bool = False
    ) -> list[Record]:
        _, order, by_status = self._order_keys(kind)
        key = order if status is None else by_status + status
        ids = [i.decode() for i in await self.client.zrange(key, 0, limit - 1, desc=newest_first)]
        async with self.client.pipeline(transaction=False) as pipe:
            for record_id in ids:
                pipe.hgetall(self._record_key(kind, record_id))
            fields = await pipe.execute() if ids else []
        found = (_record(kind, record_id, hashed) for record_id, hashed in zip(ids, fields, strict=True))
        return [record for record in found if record is not None]

    @unavailable_on_redis_errors
    async def count(self, kind: str, status: str) -> int:
        return int(await self.client.zcard(self._order_keys(kind)[2] + status))

    @unavailable_on_redis_errors
    async def remember_once(self, key: str, value: str, ttl_s: int) -> str | None:
        earlier = await self.client.set(f"{self.prefix}once:{key}", value, ex=ttl_s, nx=True, get=True)
        return earlier.decode() if earlier is not None else None

    @unavailable_on_redis_errors
    async def count_once(
        self, seen: str, member: str, counter: str, field: str, keep: Record | None = None
    ) -> bool:
        keys = [f"{self.prefix}seen:{seen}", f"{self.prefix}counts:{counter}"]
        args: list[Any] = [member, field]
        if keep is not None:
            keys += [self._record_key(keep.kind, keep.id), *self._order_keys(keep.kind)]
            args += [keep.id, keep.status, orjson.dumps(keep.body), keep.created_ms]
        return bool(await self._count_once(keys=keys, args=args))

    @unavailable_on_redis_errors
    async def uncount(self, seen: str, member: str, counter: str, field: str) -> bool:
        keys = [f"{self.prefix}seen:{seen}", f"{self.prefix}counts:{counter}"]
        return bool(await self._uncount(keys=keys, args=[member, field]))

    @unavailable_on_redis_errors
    async def members(self, seen: str, prefix: str) -> set[str]:
        found: set[str] = set()
        async for member in self.client.sscan_iter(f"{self.prefix}seen:{seen}", count=1000):
            text = member.decode()
            if text.startswith(prefix):
                found.add(text)
        return found

    @unavailable_on_redis_errors
    async def add(self, counter: str, field: str, by: int) -> int:
        return int(await self.client.hincrby(f"{self.prefix}counts:{counter}", field, by))

    @unavailable_on_redis_errors
    async def put(self, counter: str, field: str, value: int) -> None:
        await self.client.hset(f"{self.prefix}counts:{counter}", field, value)

    @unavailable_on_redis_errors
    async def put_max(self, counter: str, field: str, value: int) -> int:
        return int(await self._put_max(keys=[f"{self.prefix}counts:{counter}"], args=[field, value]))

    @unavailable_on_redis_errors
    async def counts(self, counter: str) -> dict[str, int]:
        raw = await self.client.hgetall(f"{self.prefix}counts:{counter}")
        return {field.decode(): int(value) for field, value in sorted(raw.items())}

    @unavailable_on_redis_errors
    async def put_blob(self, key: str, data: bytes) -> None:
        await self.client.set(f"{self.prefix}blob:{key}", data)

    @unavailable_on_redis_errors
    async def delete_blob(self, key: str) -> None:
        await self.client.delete(f"{self.prefix}blob:{key}")

    @unavailable_on_redis_errors
    async def get_blob(self, key: str) -> bytes | None:
        data = await self.client.get(f"{self.prefix}blob:{key}")
        return bytes(data) if data is not None else None


class RedisStore:
    """The show record and the collections on one Redis, under one key prefix."""

    def __init__(self, url: str, prefix: str = DEFAULT_PREFIX) -> None:
        self.url = url
        self.client = connect(url)
        self.prefix = prefix
        self.show = RedisShowStore(self.client, prefix, where=f"Redis at {_safe_url(url)}, key {prefix}show")
        self.collections = RedisCollections(self.client, prefix)

    async def close(self) -> None:
        await self.client.aclose()


def _safe_url(url: str) -> str:
    """Where Redis is, for messages and logs: never its password."""
    parts = urlsplit(url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path}"


def _record(kind: str, record_id: str, fields: dict[bytes, bytes]) -> Record | None:
    if not fields:
        return None
    return Record(
        kind,
        record_id,
        fields[b"status"].decode(),
        orjson.loads(fields[b"body"]),
        int(fields[b"created_ms"]),
        int(fields[b"updated_ms"]),
    )
