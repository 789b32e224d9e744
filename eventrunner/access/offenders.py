"""Logging what misbehaving clients do, in a way they cannot amplify: one line per
offence, at most a few a minute, and a count of the rest. Never a traceback."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class OffenderLog:
    def __init__(
        self,
        logger: logging.Logger,
        per_minute: int = 10,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger = logger
        self.per_minute = per_minute
        self.clock = clock
        self._window_start = clock()
        self._written = 0
        self._held_back = 0

    def note(self, message: str, *args: object) -> None:
        now = self.clock()
        if now - self._window_start >= 60:
            if self._held_back:
                self.logger.warning("... and %d more like these in the last minute", self._held_back)
            self._window_start, self._written, self._held_back = now, 0, 0
        if self._written >= self.per_minute:
            self._held_back += 1
            return
        self._written += 1
        self.logger.warning(message, *args)
