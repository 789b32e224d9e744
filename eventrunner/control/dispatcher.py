"""The one command path: console sockets, the HTTP API and the autopilot all land here.

The write side only: under one lock a command is parsed, applied, saved and turned into
the show topic's change. Delivery to sockets happens outside the lock, in the live hub's
delivery tasks, so no command ever waits for a broadcast.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from eventrunner.control.commands import Command, apply_command, parse_command
from eventrunner.core.schedule import Schedule
from eventrunner.core.show import CommandRejected, ShowState
from eventrunner.core.views import AUDIENCES, Audience, DocumentBuilder
from eventrunner.stores.contract import ScheduleRef, ShowStore, StoredShow
from eventrunner.topics.hub import LiveHub, Topic

log = logging.getLogger(__name__)

SHOW_TOPIC = "show"


class ShowNotSaved(CommandRejected):
    """The command was valid but could not be saved, so it did not happen."""


class VersionConflict(CommandRejected):
    """The command named a version the show has moved on from."""

    def __init__(self, expected: int, current: int) -> None:
        super().__init__(
            f"the show changed: it is at version {current}, not {expected}; check and press again"
        )
        self.current = current


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Dispatcher:
    """Owns the live show: applies commands one at a time, saves, then publishes."""

    def __init__(
        self,
        schedule: Schedule,
        ref: ScheduleRef,
        state: ShowState,
        store: ShowStore,
        hub: LiveHub,
        clock: Callable[[], int] = wall_clock_ms,
    ) -> None:
        self.schedule = schedule
        self.ref = ref
        self.state = state
        self.store = store
        self.hub = hub
        self.clock = clock
        self.builder = DocumentBuilder(schedule.model)
        self.topic = hub.add_topic(Topic(SHOW_TOPIC, self._views(state), version=state.version))
        self._lock = asyncio.Lock()
        self._on_change: list[Callable[[ShowState], None]] = []

    @property
    def views(self) -> dict[Audience, dict[str, Any]]:
        return dict(self.topic.views)

    def _views(self, state: ShowState) -> dict[Audience, dict[str, Any]]:
        return {audience: self.builder.view(state, audience) for audience in AUDIENCES}

    def on_change(self, callback: Callable[[ShowState], None]) -> None:
        """`callback(state)` runs after every saved change, inside the lock: keep it quick."""
        self._on_change.append(callback)

    async def dispatch(self, command: Command, source: str) -> int:
        """Apply a command; returns the show's version after it. Raises CommandRejected."""
        async with self._lock:
            if command.if_version is not None and command.if_version != self.state.version:
                raise VersionConflict(command.if_version, self.state.version)
            now = self.clock()
            new_state = apply_command(self.state, command, self.schedule, now)
            if new_state == self.state:
                return self.state.version
            new_state.version = self.state.version + 1
            try:
                await self.store.save(StoredShow(schedule=self.ref, state=new_state), self.state.version)
            except Exception as error:
                log.exception("could not save v%d", new_state.version)
                raise ShowNotSaved(f"could not save the show, nothing changed: {error}") from error
            self.state = new_state
            self.hub.publish(SHOW_TOPIC, self._views(new_state), new_state.version)
            name = getattr(command, "command", type(command).__name__)
            log.info(
                "v%d %s by %s -> %s %s",
                new_state.version,
                name,
                source,
                new_state.phase,
                new_state.segment.id,
            )
            for callback in self._on_change:
                try:
                    callback(new_state)
                except Exception:  # a broken listener must not undo a saved change
                    log.exception("change listener failed on v%d", new_state.version)
            return new_state.version

    async def dispatch_payload(self, payload: Any, source: str) -> int:
        """Parse untrusted input and apply it. Raises BadCommand or CommandRejected."""
        return await self.dispatch(parse_command(payload), source)
