"""Who may do what on the console: a producer everything, a graphics operator only take
and clear, a viewer nothing but read. The server decides; the console only reflects it."""

from __future__ import annotations

from typing import Literal

from eventrunner.control.commands import COMMAND_NAMES

Role = Literal["producer", "graphics", "viewer", "none"]
SIGNED_IN: tuple[Role, ...] = ("producer", "graphics", "viewer")
# Routes that read the producers' view (the show with notes, the as-run log, what waits
# for moderation) let every signed-in role in; routes that change anything, only these.
READERS: tuple[Role, ...] = SIGNED_IN
CHANGERS: tuple[Role, ...] = ("producer",)

TITLES: dict[Role, str] = {
    "producer": "Producer",
    "graphics": "Graphics operator",
    "viewer": "Viewer",
    "none": "Not signed in",
}
# The commands each role may run; None is every command (the API token is a producer).
_COMMANDS: dict[Role, frozenset[str] | None] = {
    "producer": None,
    "graphics": frozenset({"take", "clear"}),
    "viewer": frozenset(),
    "none": frozenset(),
}
# What a refusal tells the person refused: their role and what it may do.
SCOPES: dict[Role, str] = {
    "producer": "a producer may do everything",
    "graphics": "the graphics operator may only take and clear graphics",
    "viewer": "a viewer may only watch: the console is read-only",
    "none": "sign in at /producer first",
}


class SharedPassword(ValueError):
    """Two roles were given one password: it could not say which role signs in."""


def may_run(role: Role, command: object) -> bool:
    """Whether `role` may run the command named `command` (anything a client sent)."""
    allowed = _COMMANDS[role]
    return allowed is None or (isinstance(command, str) and command in allowed)


def refusal(role: Role, why: str) -> str:
    """What a refused role is told: its role and what it may do, then why."""
    return f"{SCOPES[role]}; {why}"


def command_refusal(role: Role, command: object) -> str:
    # Only a known command's name is echoed back: anything else is the client's text.
    what = f"{command} is" if command in COMMAND_NAMES else "that is"
    return refusal(role, f"{what} a producer's command")


def commands_of(role: Role) -> list[str] | None:
    """The command names `role` may run, sorted; None for every command."""
    allowed = _COMMANDS[role]
    return None if allowed is None else sorted(allowed)


def as_role(value: object) -> Role | None:
    """A signed-in role named in a stored record, or None for anything else."""
    return value if isinstance(value, str) and value in SIGNED_IN else None  # type: ignore[return-value]
