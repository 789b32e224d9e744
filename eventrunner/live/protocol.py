"""The live protocol's rules that both endpoints share (docs/PROTOCOL.md)."""

from __future__ import annotations

import math
from typing import Any

from eventrunner.core.views import Audience
from eventrunner.topics.hub import LiveHub

# Namespace -> which view of each topic it gets, in the order deliveries are made.
NAMESPACES: dict[str, Audience] = {"/producer": "producer", "/overlay": "public", "/public": "public"}
CROWD_NAMESPACES = ("/overlay", "/public")
# Namespace -> the delivery group (topics/hub.py) that carries its changes.
PRODUCERS, CROWD = "producers", "crowd"
GROUP_OF = {"/producer": PRODUCERS, "/overlay": CROWD, "/public": CROWD}
# What a client that names no topics follows: all that clients before topics knew.
DEFAULT_TOPICS = ("show",)
ALL_TOPICS = "*"
READ_ONLY_REFUSAL = "commands are for producers: sign in and use the /producer namespace"


def requested_topics(auth: Any, hub: LiveHub) -> tuple[str, ...]:
    """The topics a connecting client follows: `auth.topics` (a list of names, or "*"
    for all), else DEFAULT_TOPICS. Names the server does not have are ignored."""
    wanted = auth.get("topics") if isinstance(auth, dict) else None
    if wanted == ALL_TOPICS:
        return tuple(hub.topics)
    if not isinstance(wanted, list):
        wanted = DEFAULT_TOPICS
    return tuple(dict.fromkeys(name for name in wanted if isinstance(name, str) and name in hub.topics))


def snapshot_payload(hub: LiveHub, topic: str, namespace: str) -> dict[str, Any]:
    """A topic's snapshot for a socket of `namespace`, with the server's time. It comes
    from what the namespace's delivery group has sent, so the patches that follow apply."""
    return {**hub.snapshot(topic, GROUP_OF[namespace], NAMESPACES[namespace]), "server_time": hub.clock()}


def snapshot_reply(hub: LiveHub, data: Any, namespace: str) -> dict[str, Any]:
    """The answer to a `snapshot` request: `{"topic": name}`, or the show by default."""
    topic = data.get("topic", "show") if isinstance(data, dict) else "show"
    if not isinstance(topic, str) or topic not in hub.topics:
        # Never str() what a client sent: a deeply nested list is a RecursionError.
        named = f"no topic named {topic[:64]!r}" if isinstance(topic, str) else "not a topic name"
        return {"error": f"{named}; topics: {', '.join(hub.topics)}"}
    return snapshot_payload(hub, topic, namespace)


def sync_reply(data: Any, server_time: int) -> dict[str, Any]:
    """The answer to a clock-sync ping: the client's own time echoed, and ours."""
    sent = data.get("t") if isinstance(data, dict) else None
    reply: dict[str, Any] = {"server_time": server_time}
    if isinstance(sent, int | float) and not isinstance(sent, bool) and math.isfinite(sent):
        reply["t"] = sent
    return reply
