"""The one command path: console sockets, the HTTP API and the autopilot all land here.

The write side only: under one lock a command is parsed, applied, saved and turned into
the show topic's change. Delivery to sockets happens outside the lock, in the live hub's
delivery tasks, so no command ever waits for a broadcast.

On a shared store (several processes) the stored show is the truth: a command first
brings this process up to date from it, and a save that finds another process was
quicker reads again and retries. A command the store cannot take is refused, never
accepted and lost.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from eventrunner.control.commands import Advance, Command, Undo, apply_command, parse_command, undo
from eventrunner.core.schedule import Schedule
from eventrunner.core.show import CommandRejected, ShowState
from eventrunner.core.views import AUDIENCES, Audience, DocumentBuilder
from eventrunner.stores.contract import (
    LastChange,
    LeaseLost,
    ScheduleRef,
    ShowStore,
    StoreConflict,
    StoreCorrupt,
    StoredShow,
    StoreUnavailable,
    same_run,
)
from eventrunner.topics.hub import Envelope, LiveHub, Topic

log = logging.getLogger(__name__)

SHOW_TOPIC = "show"
# Saves that may find another process was quicker before a command gives up.
SAVE_ATTEMPTS = 5


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
        self.topic = hub.add_topic(
            Topic(SHOW_TOPIC, self._views(state), version=state.version), refresh=self.refresh
        )
        self._lock = asyncio.Lock()
        self._on_change: list[Callable[[ShowState], None]] = []
        self._on_stale: list[Callable[[], None]] = []
        self._on_command: list[Callable[[Command, str, ShowState, ShowState], None]] = []
        self.problem: str | None = None  # why this process cannot run the show, if it cannot

    @property
    def views(self) -> dict[Audience, dict[str, Any]]:
        return dict(self.topic.views)

    def _views(self, state: ShowState) -> dict[Audience, dict[str, Any]]:
        return {audience: self.builder.view(state, audience) for audience in AUDIENCES}

    def on_change(self, callback: Callable[[ShowState], None]) -> None:
        """`callback(state)` runs after every saved change, inside the lock: keep it quick."""
        self._on_change.append(callback)

    def on_command(self, callback: Callable[[Command, str, ShowState, ShowState], None]) -> None:
        """`callback(command, source, before, after)` runs after each change this process
        saved (never for news from another process), inside the lock: keep it quick."""
        self._on_command.append(callback)

    async def dispatch(self, command: Command, source: str, fence: int | None = None) -> int:
        """Apply a command; returns the show's version after it. Raises CommandRejected.
        `fence`: the leader's lease epoch, for the clock's own commands."""
        async with self._lock:
            for _ in range(SAVE_ATTEMPTS):
                if self.store.shared:
                    await self._catch_up(None)
                if command.if_version is not None and command.if_version != self.state.version:
                    raise VersionConflict(command.if_version, self.state.version)
                now = self.clock()
                if isinstance(command, Undo):
                    last = await self._last_change()
                    new_state = undo(self.state, last, now, source)
                    command = command.model_copy(update={"undoes": last.command if last else None})
                else:
                    new_state = apply_command(self.state, command, self.schedule, now)
                if new_state == self.state:
                    return self.state.version
                new_state.version = self.state.version + 1
                try:
                    change = LastChange(
                        command=str(getattr(command, "command", type(command).__name__)),
                        by=source,
                        at=now,
                        version=new_state.version,
                        # What `undo` would bring back: only a person's command is undone.
                        before=None if isinstance(command, Advance | Undo) else self.state,
                    )
                    record = StoredShow(schedule=self.ref, state=new_state, last_change=change)
                    await self.store.save(record, self.state.version, fence=fence)
                except LeaseLost as error:
                    raise ShowNotSaved(f"nothing changed: {error}") from error
                except StoreConflict as error:
                    if self.store.shared:
                        continue  # another process saved first: read it, and try again
                    raise ShowNotSaved(f"nothing changed: {error}") from error
                except StoreUnavailable as error:
                    # Redis may have run the write before the answer was lost: the next
                    # catch-up (or the bus's) shows which.
                    raise ShowNotSaved(
                        f"the show may not have been saved ({error}); check it before you press again"
                    ) from error
                except Exception as error:
                    log.exception("could not save v%d", new_state.version)
                    raise ShowNotSaved(f"could not save the show, nothing changed: {error}") from error
                before = self.state
                self._take(new_state)
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
                for callback in self._on_command:
                    try:
                        callback(command, source, before, new_state)
                    except Exception:  # a broken listener must not undo a saved change
                        log.exception("command listener failed on v%d", new_state.version)
                return new_state.version
            raise ShowNotSaved("the show kept changing under this command; nothing changed, try again")

    async def _last_change(self) -> LastChange | None:
        """The stored show's last change, if it made the state this process holds. From
        the store, not memory: another process (or this one before a restart) made it."""
        try:
            stored = await self.store.load()
        except (StoreUnavailable, StoreCorrupt) as error:
            raise ShowNotSaved(f"the show cannot be read now, nothing changed: {error}") from error
        if stored is None or stored.state.version != self.state.version:
            return None
        return stored.last_change

    async def refresh(self, envelope: Envelope | None) -> None:
        """The show topic's refresh: news from another process, or a bus that was down."""
        async with self._lock:
            await self._catch_up(envelope)

    async def _catch_up(self, envelope: Envelope | None) -> None:
        try:
            stored = await self.store.load()
        except (StoreUnavailable, StoreCorrupt) as error:
            raise ShowNotSaved(f"the show cannot be read now, nothing changed: {error}") from error
        if stored is not None and not same_run(stored.schedule, self.ref):
            # Another process reopened the show (--reset, an edited schedule): this one
            # would render and save it with the schedule it started with.
            self.problem = "the show was reopened with another schedule: this process must restart"
            for callback in self._on_stale:
                callback()
            raise ShowNotSaved(f"nothing changed: {self.problem}")
        if stored is None or stored.state.version < self.state.version:
            await self._restore(stored)
            return
        if stored.state.version == self.state.version:
            return
        self._take(stored.state)
        self.hub.adopt(SHOW_TOPIC, self._views(stored.state), stored.state.version, envelope)

    async def _restore(self, stored: StoredShow | None) -> None:
        """The shared store went back (Redis lost data, or was emptied): put back the show
        this process holds, unless another process is quicker with a newer one."""
        had = "nothing" if stored is None else f"v{stored.state.version}"
        log.error(
            "the shared store holds %s, older than this process's v%d: restoring it", had, self.state.version
        )
        try:
            record = StoredShow(schedule=self.ref, state=self.state)
            await self.store.save(record, None if stored is None else stored.state.version)
        except StoreConflict:
            pass  # someone else wrote meanwhile: the next catch-up reads theirs
        except StoreUnavailable as error:
            raise ShowNotSaved(f"the show cannot be saved now, nothing changed: {error}") from error

    def on_stale(self, callback: Callable[[], None]) -> None:
        """`callback()` runs when another process reopened the show under this one."""
        self._on_stale.append(callback)

    def _take(self, state: ShowState) -> None:
        self.state = state
        for callback in self._on_change:
            try:
                callback(state)
            except Exception:  # a broken listener must not undo a saved change
                log.exception("change listener failed on v%d", state.version)

    async def dispatch_payload(self, payload: Any, source: str) -> int:
        """Parse untrusted input and apply it. Raises BadCommand or CommandRejected."""
        return await self.dispatch(parse_command(payload), source)
