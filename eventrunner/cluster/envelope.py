"""A change as the bus carries it: a small JSON header, then each audience's message
already encoded, so a receiving process writes them to its sockets as they are."""

from __future__ import annotations

from typing import Any

import orjson

from eventrunner.core.views import AUDIENCES
from eventrunner.topics.hub import Change, Envelope


class BadEnvelope(ValueError):
    """What came over the bus is not a change this version understands."""


def encode(change: Change, origin: str, render: str) -> bytes:
    """`render` names what the bodies were rendered from (the schedule and its shift):
    another process writes them to its sockets only if it renders from the same."""
    bodies = [change.body(audience) for audience in AUDIENCES]
    header = {
        "origin": origin,
        "render": render,
        "topic": change.topic,
        "base": change.base,
        "version": change.version,
        "lengths": [len(body) for body in bodies],
    }
    # Compact JSON never holds a raw newline: the first one ends the header.
    return orjson.dumps(header) + b"\n" + b"".join(bodies)


def decode(raw: bytes) -> tuple[str, str, Envelope]:
    """(the publishing process, what it rendered from, the envelope); raises BadEnvelope."""
    head, newline, rest = raw.partition(b"\n")
    try:
        header: Any = orjson.loads(head)
    except orjson.JSONDecodeError as error:
        raise BadEnvelope(f"the header is not JSON: {error}") from None
    if not newline or not isinstance(header, dict):
        raise BadEnvelope("no header")
    origin, render, topic, base, version, lengths = (
        header.get(key) for key in ("origin", "render", "topic", "base", "version", "lengths")
    )
    if not (
        isinstance(origin, str)
        and isinstance(render, str)
        and isinstance(topic, str)
        and all(isinstance(n, int) and not isinstance(n, bool) for n in (base, version))
        and isinstance(lengths, list)
        and len(lengths) == len(AUDIENCES)
        and all(isinstance(n, int) and n >= 0 for n in lengths)
        and sum(lengths) == len(rest)
    ):
        raise BadEnvelope("the header does not describe a change")
    bodies: dict[Any, bytes] = {}
    start = 0
    for audience, length in zip(AUDIENCES, lengths, strict=True):
        bodies[audience] = rest[start : start + length]
        start += length
    return origin, render, (topic, base, version, bodies)
