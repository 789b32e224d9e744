"""Per-client token buckets for the public endpoints (login, API, pages), and the budget
of failed producer sign-ins."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from eventrunner.access.addresses import client_key


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Allows `burst` requests at once and `per_minute` sustained, per key (client IP)."""

    def __init__(
        self,
        per_minute: float,
        burst: int,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.rate = per_minute / 60.0
        self.burst = burst
        self.max_keys = max_keys
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def retry_after(self, key: str, take: bool = True) -> float:
        """0 if `key` may go ahead (taking a token unless `take` is False), else the
        seconds until a token is free."""
        now = self.clock()
        key = client_key(key)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.max_keys:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(float(self.burst), now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= take
            return 0.0
        return (1 - bucket.tokens) / self.rate

    def _prune(self, now: float) -> None:
        # Full buckets carry no information; dropping them keeps memory bounded. If that
        # is not enough (a flood of addresses), keep the busiest recent half: clearing
        # them all would hand every limited client a fresh budget.
        full_after = self.burst / self.rate
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full_after}
        if len(self._buckets) >= self.max_keys:
            recent = sorted(self._buckets.items(), key=lambda item: item[1].updated)
            self._buckets = dict(recent[len(recent) // 2 :])


# Wrong passwords and tokens: a few at once and ten a minute from one address; on the
# whole server, enough for a room of producers' typos, too few for a botnet to guess with.
PER_ADDRESS_FAILURES = (10.0, 5)  # (per minute, burst)
OVERALL_FAILURES = (30.0, 30)
OVERALL = "*"


class AddressAndOverall:
    """Two budgets at once: one per client address, and one for the whole server."""

    def __init__(
        self,
        per_address: tuple[float, int],
        overall: tuple[float, int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._per_address = RateLimiter(per_minute=per_address[0], burst=per_address[1], clock=clock)
        self._overall = RateLimiter(per_minute=overall[0], burst=overall[1], clock=clock)

    def address_wait(self, client: str) -> float:
        """Seconds until `client` may go again; 0 if it may now."""
        return self._per_address.retry_after(client, take=False)

    def overall_wait(self) -> float:
        """Seconds until anyone may go again; 0 if they may now."""
        return self._overall.retry_after(OVERALL, take=False)

    def spend(self, client: str) -> None:
        self._per_address.retry_after(client)
        self._overall.retry_after(OVERALL)

    def take(self, client: str) -> float:
        """0 when `client` may go now, and then it spends from both; else the seconds to
        wait, and a refused request spends nothing."""
        wait = max(self.address_wait(client), self.overall_wait())
        if wait == 0:
            self.spend(client)
        return wait


class SignInBudget(AddressAndOverall):
    """Failed producer sign-ins, per client address and on the whole server. Only
    failures spend it; callers refuse even a correct secret while it is spent, or the
    one right guess among many would get through."""

    def __init__(
        self,
        per_address: tuple[float, int] = PER_ADDRESS_FAILURES,
        overall: tuple[float, int] = OVERALL_FAILURES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(per_address, overall, clock)
