"""One contract, two stores: the embedded one (show file + SQLite) and Redis."""

from __future__ import annotations

import asyncio

import pytest

from eventrunner.core.schedule import load_schedule
from eventrunner.core.show import start_show
from eventrunner.stores.contract import Record, ScheduleRef, StoreConflict, StoredShow
from eventrunner.stores.embedded import EmbeddedStore
from eventrunner.stores.redis import RedisStore

from .builders import CNC, at
from .redisserver import redis_server  # noqa: F401  (a fixture)


@pytest.fixture(params=["embedded", "redis"])
async def store(request, tmp_path):
    if request.param == "embedded":
        opened = EmbeddedStore(tmp_path / "data")
    else:
        opened = RedisStore(request.getfixturevalue("redis_server").url, prefix="test:")
    yield opened
    await opened.close()


def record(version: int) -> StoredShow:
    schedule = load_schedule(CNC)
    state = start_show(schedule.plan, at("2022-03-03 11:00"))
    state.version = version
    return StoredShow(schedule=ScheduleRef(source=str(CNC), sha256=schedule.sha256), state=state)


async def test_the_show_record_is_compare_and_set_on_the_stored_version(store):
    assert await store.show.load() is None
    await store.show.save(record(1), expected_version=None)
    with pytest.raises(StoreConflict):
        await store.show.save(record(1), expected_version=None)  # a second creator loses
    await store.show.save(record(2), expected_version=1)
    with pytest.raises(StoreConflict):
        await store.show.save(record(3), expected_version=1)  # a writer that missed v2 loses
    loaded = await store.show.load()
    assert loaded is not None and loaded.state.version == 2
    assert loaded == record(2)


async def test_of_two_writers_from_one_version_exactly_one_wins(store):
    await store.show.save(record(1), expected_version=None)
    results = await asyncio.gather(
        *(store.show.save(record(2), expected_version=1) for _ in range(5)), return_exceptions=True
    )
    assert sum(result is None for result in results) == 1
    assert all(isinstance(result, StoreConflict) for result in results if result is not None)


async def test_records_keep_their_order_status_and_body(store):
    collections = store.collections
    body = {"title": "Vigil at ICE Atlanta", "tags": [], "n": 2**60, "share": 0.1}
    assert await collections.insert("action", "a1", "pending", body, now_ms=1000)
    assert not await collections.insert("action", "a1", "approved", {}, now_ms=1001)  # ids are unique
    assert await collections.insert("action", "a2", "pending", {"title": "Rally"}, now_ms=1002)
    assert await collections.insert("action", "a3", "pending", {"title": "Caravan"}, now_ms=1003)
    assert await collections.insert("checkin", "a1", "pending", {}, now_ms=1003)  # kinds are apart

    got = await collections.get("action", "a1")
    assert got is not None and got.body == body and got.status == "pending" and got.created_ms == 1000
    assert await collections.get("action", "missing") is None

    approved = await collections.update(
        "action", "a2", now_ms=2000, status="approved", expected_status="pending"
    )
    assert approved is not None and approved.status == "approved" and approved.updated_ms == 2000
    assert approved.body == {"title": "Rally"} and approved.created_ms == 1002
    assert await collections.count("action", "pending") == 2
    assert await collections.count("action", "approved") == 1
    assert await collections.count("checkin", "approved") == 0
    # A second moderator acting on what they saw as pending changes nothing.
    assert (
        await collections.update("action", "a2", now_ms=2001, status="rejected", expected_status="pending")
        is None
    )
    assert await collections.update("action", "missing", now_ms=2001, status="approved") is None
    edited = await collections.update("action", "a1", now_ms=2002, body={"title": "Vigil", "tags": ["x"]})
    assert (
        edited is not None and edited.status == "pending" and edited.body == {"title": "Vigil", "tags": ["x"]}
    )

    assert [r.id for r in await collections.records("action")] == ["a1", "a2", "a3"]
    assert [r.id for r in await collections.records("action", status="pending")] == ["a1", "a3"]
    assert [r.id for r in await collections.records("action", status="approved")] == ["a2"]
    assert [r.id for r in await collections.records("action", limit=2)] == ["a1", "a2"]
    assert await collections.records("nothing") == []


async def test_an_idempotency_key_keeps_the_first_answer(store):
    collections = store.collections
    assert await collections.remember_once("form:abc", "answer-1", ttl_s=60) is None
    assert await collections.remember_once("form:abc", "answer-2", ttl_s=60) == "answer-1"
    assert await collections.remember_once("form:def", "answer-3", ttl_s=60) is None


async def test_counting_once_survives_repeats_and_deletes_take_it_back(store):
    collections = store.collections
    results = await asyncio.gather(
        *(collections.count_once("seen", "did:1/rkey1", "posts", "bluesky") for _ in range(5))
    )
    assert sorted(results) == [False, False, False, False, True]
    assert await collections.count_once("seen", "did:1/rkey2", "posts", "bluesky")
    assert await collections.count_once("seen", "toot:9", "posts", "mastodon")
    assert await collections.counts("posts") == {"bluesky": 2, "mastodon": 1}
    assert await collections.uncount("seen", "did:1/rkey1", "posts", "bluesky")
    assert not await collections.uncount("seen", "did:1/rkey1", "posts", "bluesky")  # only once
    assert await collections.counts("posts") == {"bluesky": 1, "mastodon": 1}
    assert await collections.counts("nothing") == {}
    assert await collections.members("seen", "did:1/") == {"did:1/rkey2"}
    assert await collections.members("seen", "did:%") == set()  # a prefix, not a pattern


async def test_counting_once_can_keep_a_record_in_the_same_step(store):
    collections = store.collections
    post = Record("post", "bluesky:did:1/r1", "recent", {"text": "Free them all", "n": [1, 2]}, 5, 5)
    assert await collections.count_once("seen", "bluesky:did:1/r1", "posts", "bluesky", keep=post)
    kept = await collections.get("post", "bluesky:did:1/r1")
    assert kept is not None and kept.body == post.body and kept.status == "recent"
    # Counted before: neither counted nor kept again (the record keeps its first body).
    again = Record("post", "bluesky:did:1/r1", "recent", {"text": "changed"}, 6, 6)
    assert not await collections.count_once("seen", "bluesky:did:1/r1", "posts", "bluesky", keep=again)
    assert (await collections.get("post", "bluesky:did:1/r1")).body == post.body
    assert [r.id for r in await collections.records("post", "recent")] == ["bluesky:did:1/r1"]
    assert await collections.counts("posts") == {"bluesky": 1}


async def test_counters_add_and_replace(store):
    collections = store.collections
    assert await collections.add("adjust", "manual", 5) == 5
    assert await collections.add("adjust", "manual", -2) == 3
    await collections.put("x", "2022-03-03T14:00", 40)
    await collections.put("x", "2022-03-03T14:00", 42)  # a corrected bucket replaces, never adds
    await collections.put("x", "2022-03-03T14:01", 7)
    assert await collections.counts("x") == {"2022-03-03T14:00": 42, "2022-03-03T14:01": 7}
    assert await collections.counts("adjust") == {"manual": 3}


async def test_a_counter_raised_to_a_maximum_keeps_the_largest_whoever_writes_last(store):
    collections = store.collections
    big = 2**52 + 1  # exact as a double too
    values = [big - 7, big, big - 3, 12]
    after = await asyncio.gather(*(collections.put_max("latest", "a1", value) for value in values))
    assert max(after) == big and after[values.index(big)] == big
    assert await collections.put_max("latest", "a1", 5) == big
    assert await collections.counts("latest") == {"a1": big}


async def test_blobs_keep_their_bytes(store):
    photo = bytes(range(256)) * 1000
    assert await store.collections.get_blob("photo:x") is None
    await store.collections.put_blob("photo:x", photo)
    assert await store.collections.get_blob("photo:x") == photo


async def test_records_newest_first(store):
    for n in range(5):
        await store.collections.insert("checkin", f"c{n}", "approved", {"n": n}, now_ms=n)
    newest = await store.collections.records("checkin", "approved", limit=3, newest_first=True)
    assert [r.id for r in newest] == ["c4", "c3", "c2"]


async def test_a_deleted_blob_is_gone(store):
    await store.collections.put_blob("photo:y", b"jpeg")
    await store.collections.delete_blob("photo:y")
    await store.collections.delete_blob("photo:never")  # nothing to delete is no error
    assert await store.collections.get_blob("photo:y") is None
