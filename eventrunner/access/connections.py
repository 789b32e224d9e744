"""How many long-lived sockets the server keeps, in all and per client address.

A watch party of hundreds can share one address (venue Wi-Fi, carrier NAT), so the
per-address cap is in the thousands; it stops one machine from holding every socket the
process can open. The total keeps the server under its open-file limit.
"""

from __future__ import annotations

from collections import Counter

from eventrunner.access.addresses import client_key

PER_ADDRESS = 2000
# File descriptors kept for everything else: the data dir, short HTTP requests, logs.
SPARE_FILES = 1000


class ConnectionLimits:
    def __init__(self, total: int, per_address: int = PER_ADDRESS) -> None:
        self.total = total
        self.per_address = per_address
        self._open: Counter[str] = Counter()
        self._count = 0

    @classmethod
    def for_open_files(cls, open_files: int) -> ConnectionLimits:
        return cls(total=max(100, open_files - SPARE_FILES))

    def admit(self, address: str) -> str | None:
        """Take a place for a socket from `address`; None if admitted, else why not."""
        address = client_key(address)
        if self._count >= self.total:
            return f"the server holds its limit of {self.total} sockets"
        if self._open[address] >= self.per_address:
            return f"{address} holds its limit of {self.per_address} sockets"
        self._open[address] += 1
        self._count += 1
        return None

    def release(self, address: str) -> None:
        address = client_key(address)
        if self._open[address] > 0:
            self._count -= 1
            self._open[address] -= 1
            if not self._open[address]:
                del self._open[address]

    @property
    def count(self) -> int:
        return self._count
