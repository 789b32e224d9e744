"""The one command path. Console sockets, the HTTP API and the autopilot all land here.

Outside input is parsed against a closed set of command shapes; the engine applies the
command; a change is saved before anyone hears of it, then each audience gets a patch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    TypeAdapter,
    ValidationError,
)

from eventrunner.core import mergepatch, show
from eventrunner.core.schedule import Schedule
from eventrunner.core.show import CommandRejected, ShowState
from eventrunner.core.views import AUDIENCES, Audience, DocumentBuilder
from eventrunner.stores.file import ScheduleRef, ShowStore, StoredShow

log = logging.getLogger(__name__)

Identifier = Annotated[str, Field(min_length=1, max_length=64)]


class _Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Next(_Command):
    command: Literal["next"]


class Previous(_Command):
    command: Literal["previous"]


class Jump(_Command):
    command: Literal["jump"]
    segment: Identifier | None = None
    cue: Identifier | None = None


class Hold(_Command):
    command: Literal["hold"]


class Resume(_Command):
    command: Literal["resume"]


class Extend(_Command):
    command: Literal["extend"]
    minutes: StrictInt
    shift_rest: StrictBool = False


class Shorten(_Command):
    command: Literal["shorten"]
    minutes: Annotated[StrictInt, Field(gt=0)]
    shift_rest: StrictBool = False


class Take(_Command):
    command: Literal["take"]
    cue: Identifier


class Clear(_Command):
    command: Literal["clear"]
    slot: Identifier | None = None


class StartNow(_Command):
    command: Literal["start_now"]


class Reset(_Command):
    command: Literal["reset"]


class Advance(_Command):
    """Internal: apply whatever the clock says is due. Only the autopilot sends it."""

    command: Literal["advance"] = "advance"


ProducerCommand = Annotated[
    Next | Previous | Jump | Hold | Resume | Extend | Shorten | Take | Clear | StartNow | Reset,
    Field(discriminator="command"),
]
COMMAND_NAMES = (
    "next",
    "previous",
    "jump",
    "hold",
    "resume",
    "extend",
    "shorten",
    "take",
    "clear",
    "start_now",
    "reset",
)
_parser: TypeAdapter[Any] = TypeAdapter(ProducerCommand)


class BadCommand(Exception):
    """Input that is not a command; the message names the problem."""


class ShowNotSaved(CommandRejected):
    """The command was valid but could not be saved, so it did not happen."""


def parse_command(payload: Any) -> _Command:
    if not isinstance(payload, dict):
        raise BadCommand('a command is a JSON object like {"command": "next"}')
    name = payload.get("command")
    if name not in COMMAND_NAMES:
        raise BadCommand(f"unknown command {name!r}; one of: {', '.join(COMMAND_NAMES)}")
    try:
        return _parser.validate_python(payload)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            field = ".".join(str(step) for step in item["loc"][1:]) or "command"
            problems.append(f"{field}: {item['msg']}")
        raise BadCommand(f"{name}: " + "; ".join(problems)) from error


def _apply(state: ShowState, command: _Command, schedule: Schedule, now: int) -> ShowState:
    match command:
        case Next():
            return show.next_cue(state, now)
        case Previous():
            return show.previous_cue(state, now)
        case Jump(segment=segment, cue=cue):
            return show.jump(state, now, segment_id=segment, cue_id=cue)
        case Hold():
            return show.hold(state, now)
        case Resume():
            return show.resume(state, now)
        case Extend(minutes=minutes, shift_rest=shift):
            return show.extend(state, now, minutes, shift)
        case Shorten(minutes=minutes, shift_rest=shift):
            return show.extend(state, now, -minutes, shift)
        case Take(cue=cue):
            return show.take(state, now, cue)
        case Clear(slot=slot):
            return show.clear(state, now, slot)
        case StartNow():
            return show.start_now(state, now)
        case Reset():
            return show.reset(state, schedule.plan, now)
        case Advance():
            return show.advance(state, now)
    raise BadCommand(f"unhandled command {command!r}")  # pragma: no cover


@dataclass(frozen=True)
class Change:
    version: int
    source: str
    command: str
    patches: dict[Audience, dict[str, Any]]


Listener = Callable[[Change], Awaitable[None]]


class Dispatcher:
    """Owns the live show: applies commands one at a time, saves, then tells listeners."""

    def __init__(
        self,
        schedule: Schedule,
        ref: ScheduleRef,
        state: ShowState,
        store: ShowStore,
        clock: Callable[[], int] | None = None,
    ) -> None:
        self.schedule = schedule
        self.ref = ref
        self.state = state
        self.store = store
        self.clock = clock or (lambda: time.time_ns() // 1_000_000)
        self.builder = DocumentBuilder(schedule.model)
        self.views: dict[Audience, dict[str, Any]] = {a: self.builder.view(state, a) for a in AUDIENCES}
        self._lock = asyncio.Lock()
        self._listeners: list[Listener] = []

    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def dispatch(self, command: _Command, source: str) -> int:
        """Apply a command; returns the show's version after it. Raises CommandRejected."""
        async with self._lock:
            now = self.clock()
            new_state = _apply(self.state, command, self.schedule, now)
            if new_state == self.state:
                return self.state.version
            new_state.version = self.state.version + 1
            try:
                await self.store.save(StoredShow(schedule=self.ref, state=new_state), self.state.version)
            except Exception as error:
                log.exception("could not save v%d", new_state.version)
                raise ShowNotSaved(f"could not save the show, nothing changed: {error}") from error
            self.state = new_state
            views = {a: self.builder.view(new_state, a) for a in AUDIENCES}
            patches = {a: mergepatch.diff(self.views[a], views[a]) for a in AUDIENCES}
            self.views = views
            name = getattr(command, "command", type(command).__name__)
            log.info(
                "v%d %s by %s -> %s %s",
                new_state.version,
                name,
                source,
                new_state.phase,
                new_state.segment.id,
            )
            change = Change(new_state.version, source, name, patches)
            for listener in self._listeners:
                try:
                    await listener(change)
                except Exception:  # a broken listener must not undo a saved change
                    log.exception("listener failed on v%d", new_state.version)
            return new_state.version

    async def dispatch_payload(self, payload: Any, source: str) -> int:
        """Parse untrusted input and apply it. Raises BadCommand or CommandRejected."""
        return await self.dispatch(parse_command(payload), source)


__all__ = [
    "Advance",
    "BadCommand",
    "Change",
    "CommandRejected",
    "Dispatcher",
    "ShowNotSaved",
    "parse_command",
]
