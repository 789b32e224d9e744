"""The leader lease on a real Redis: one leader at a time, a quick hand-over when it
stops renewing, and fencing that refuses the old leader's writes."""

from __future__ import annotations

import asyncio

import pytest

from eventrunner.cluster.leader import LeaderLease
from eventrunner.stores.contract import StoreConflict
from eventrunner.stores.redis import RedisStore

from .redisserver import redis_server  # noqa: F401  (a fixture)
from .test_store_contract import record


class Process:
    """One contender: its lease, and the events its callbacks set."""

    def __init__(self, store: RedisStore) -> None:
        self.gained, self.lost = asyncio.Event(), asyncio.Event()

        async def gain() -> None:
            self.gained.set()

        self.lease = LeaderLease(
            store.client, store.prefix, on_gain=gain, on_loss=self.lost.set, lease_ms=600, renew_every_s=0.1
        )


async def test_one_leader_a_quick_hand_over_and_the_old_leaders_writes_refused(redis_server):  # noqa: F811
    store = RedisStore(redis_server.url, prefix="lease-test:")
    first, second = Process(store), Process(store)
    try:
        first.lease.start()
        await asyncio.wait_for(first.gained.wait(), 5)
        second.lease.start()
        await store.show.save(record(1), expected_version=None, fence=first.lease.epoch)
        for _ in range(5):  # several renewal rounds: the second never takes over meanwhile
            await asyncio.sleep(0.1)
            assert first.lease.leading and not second.lease.leading
        old_epoch = first.lease.epoch

        # The first stops renewing without a word (paused, or killed): the lease runs out.
        first.lease._task.cancel()
        await asyncio.wait_for(second.gained.wait(), 2)
        assert second.lease.epoch == old_epoch + 1
        # The old leader wakes and writes as if it still led: refused, whatever the version.
        with pytest.raises(StoreConflict, match="lease"):
            await store.show.save(record(2), expected_version=1, fence=old_epoch)
        await store.show.save(record(2), expected_version=1, fence=second.lease.epoch)
        loaded = await store.show.load()
        assert loaded is not None and loaded.state.version == 2

        # A leader that stops cleanly hands over at once, without waiting for the lease.
        third = Process(store)
        third.lease.start()
        await second.lease.stop()
        assert second.lost.is_set()
        await asyncio.wait_for(third.gained.wait(), 1)
        await third.lease.stop()
    finally:
        await first.lease.stop()
        await second.lease.stop()
        await store.close()
