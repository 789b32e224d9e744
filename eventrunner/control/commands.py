"""Producer commands: outside input parsed against a closed set of shapes, and what
each one does to the show (the engine's functions). The dispatcher runs them."""

from __future__ import annotations

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

from eventrunner.core import show
from eventrunner.core.schedule import Schedule
from eventrunner.core.show import CommandRejected, ShowState
from eventrunner.stores.contract import LastChange

Identifier = Annotated[str, Field(min_length=1, max_length=64)]


class Command(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    # Optimistic concurrency: refuse the command unless the show is at this version,
    # so two producers pressing Next at once advance once.
    if_version: StrictInt | None = None


class Next(Command):
    command: Literal["next"]


class Previous(Command):
    command: Literal["previous"]


class Jump(Command):
    command: Literal["jump"]
    segment: Identifier | None = None
    cue: Identifier | None = None


class Hold(Command):
    command: Literal["hold"]


class Resume(Command):
    command: Literal["resume"]


class Extend(Command):
    command: Literal["extend"]
    minutes: StrictInt
    shift_rest: StrictBool = False


class Shorten(Command):
    command: Literal["shorten"]
    minutes: Annotated[StrictInt, Field(gt=0)]
    shift_rest: StrictBool = False


class Take(Command):
    command: Literal["take"]
    cue: Identifier


class Clear(Command):
    command: Literal["clear"]
    slot: Identifier | None = None


class StartNow(Command):
    command: Literal["start_now"]


class Reset(Command):
    command: Literal["reset"]


class Undo(Command):
    command: Literal["undo"]
    # Filled in by the dispatcher (the command undone, for the as-run log); never sent.
    undoes: str | None = None


class Advance(Command):
    """Internal: apply whatever the clock says is due. Only the autopilot sends it."""

    command: Literal["advance"] = "advance"


ProducerCommand = Annotated[
    Next | Previous | Jump | Hold | Resume | Extend | Shorten | Take | Clear | StartNow | Reset | Undo,
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
    "undo",
)
# How long after a person's command `undo` may take it back, by the server clock.
UNDO_WINDOW_MS = 30_000
_parser: TypeAdapter[Any] = TypeAdapter(ProducerCommand)


class BadCommand(Exception):
    """Input that is not a command; the message names the problem."""


def parse_command(payload: Any) -> Command:
    if not isinstance(payload, dict):
        raise BadCommand('a command is a JSON object like {"command": "next"}')
    name = payload.get("command")
    if name not in COMMAND_NAMES:
        raise BadCommand(f"unknown command {name!r}; one of: {', '.join(COMMAND_NAMES)}")
    if name == "undo" and "undoes" in payload:
        raise BadCommand('undo: undoes: the server fills it in; send {"command": "undo"}')
    try:
        return _parser.validate_python(payload)
    except ValidationError as error:
        problems = []
        for item in error.errors(include_url=False):
            field = ".".join(str(step) for step in item["loc"][1:]) or "command"
            problems.append(f"{field}: {item['msg']}")
        raise BadCommand(f"{name}: " + "; ".join(problems)) from error


def apply_command(state: ShowState, command: Command, schedule: Schedule, now: int) -> ShowState:
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
        case Undo():
            raise CommandRejected("undo needs the stored show's last change: the dispatcher runs it")
    raise BadCommand(f"unhandled command {command!r}")  # pragma: no cover


def undo(state: ShowState, last: LastChange | None, now: int, by: str) -> ShowState:
    """The state from before `last`, if it is a command from `by` (the same console or
    tool) that made `state` less than UNDO_WINDOW_MS ago; every field but the version comes
    back as it was. An undo is not undone in turn (there is no redo): the producer presses
    the command again. Another console's command is theirs to undo."""
    if last is None or last.version != state.version:
        raise CommandRejected("nothing to undo: no command has changed the show since it was opened")
    ago = f"{max(now - last.at, 0) // 1000} s ago"
    if last.command == "undo":
        raise CommandRejected(f"nothing to undo: the last change was an undo ({ago}); there is no redo")
    if last.before is None:
        raise CommandRejected(
            f"nothing to undo: the last change was the clock's ({last.command}, {ago}), not a command"
        )
    if last.by != by:
        raise CommandRejected(
            f"nothing to undo here: the last command ({last.command}, {ago}) came from another console"
        )
    if now - last.at >= UNDO_WINDOW_MS:
        raise CommandRejected(
            f"nothing to undo: the last command ({last.command}, {ago}) is older than"
            f" {UNDO_WINDOW_MS // 1000} s"
        )
    return last.before.model_copy(deep=True)


__all__ = [
    "Advance",
    "BadCommand",
    "Command",
    "CommandRejected",
    "Undo",
    "apply_command",
    "parse_command",
    "undo",
]
