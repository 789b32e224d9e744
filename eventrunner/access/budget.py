"""A token bucket for one connection: what a client may ask of the server per second."""

from __future__ import annotations


class Budget:
    """`burst` at once, refilled at `per_second`; one small object per connection."""

    __slots__ = ("at", "burst", "per_second", "tokens")

    def __init__(self, burst: float, per_second: float, now: float) -> None:
        self.burst = burst
        self.per_second = per_second
        self.tokens = float(burst)
        self.at = now

    def spend(self, now: float) -> bool:
        """Take one token if there is one; False when the budget is spent."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.per_second)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True
