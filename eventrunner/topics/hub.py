"""Live topics: the documents the realtime protocol carries (docs/PROTOCOL.md).

Each topic (`show` now; check-ins and post counts later) has its own version sequence and
one view per audience. The write side (the dispatcher, an ingester) publishes a topic's
new views; the hub turns them into a change (a merge patch per audience) at once and
returns. The read side is apart: each group of sockets (the producers' consoles, the
crowd) has its own delivery task that drains its changes in order, so a command never
waits for a broadcast, and a console never waits behind ten thousand phones.

A group that falls behind does not queue: it keeps, per topic, what it delivered last
and sends one patch from there to the newest state (`base` names the version it applies
to). A coalesced topic publishes at most `per_second` times a second, each time its
newest state, however often it changes.

With several processes (cluster/), a change published here also goes out on the shared
bus, already encoded; another process `receive`s it, brings the topic up to date from the
store through the topic's `refresh`, and `adopt`s the result for its own sockets, writing
the publisher's bytes when its sockets hold the change's base.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from eventrunner.core import mergepatch
from eventrunner.core.views import AUDIENCES, Audience

log = logging.getLogger(__name__)

Views = Mapping[Audience, dict[str, Any]]


@dataclass(frozen=True)
class Change:
    """A topic going from version `base` to `version` at `server_time`; `patches` take
    each audience's view from one to the other, and `views` are the views at `version`."""

    topic: str
    base: int
    version: int
    patches: Mapping[Audience, dict[str, Any]]
    views: Views
    server_time: int
    # Each audience's message, encoded once, here or by the process that published it.
    encoded: dict[Audience, bytes] = field(default_factory=dict, compare=False, repr=False)

    def message(self, audience: Audience) -> dict[str, Any]:
        # "version" first: a client (or a load generator) can read it without parsing all.
        return {
            "version": self.version,
            "topic": self.topic,
            "base": self.base,
            "patch": self.patches[audience],
            "server_time": self.server_time,
        }

    def body(self, audience: Audience) -> bytes:
        """The message for `audience` as JSON, encoded once for every socket."""
        encoded = self.encoded.get(audience)
        if encoded is None:
            encoded = self.encoded[audience] = orjson.dumps(self.message(audience))
        return encoded


# (topic, base, version, each audience's encoded message): what the bus carries.
Envelope = tuple[str, int, int, Mapping[Audience, bytes]]


# Event names a topic may not take: socket.io's own, and this protocol's others.
RESERVED_NAMES = frozenset(
    {"connect", "connect_error", "disconnect", "disconnecting", "newListener", "message"}
    | {"patch", "snapshot", "sync", "command"}
)
TOPIC_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")


class Topic:
    """One live document. `render` (required for coalesced topics) returns its views."""

    def __init__(
        self,
        name: str,
        views: Views,
        version: int = 0,
        per_second: float | None = None,
        render: Callable[[], Views] | None = None,
    ) -> None:
        if not TOPIC_NAME.fullmatch(name) or name in RESERVED_NAMES:
            raise ValueError(
                f"{name!r} cannot name a topic: lower-case letters, digits and _, not an event name"
            )
        if set(views) != set(AUDIENCES):
            raise ValueError(f"topic {name!r} needs a view for each audience: {', '.join(AUDIENCES)}")
        if per_second is not None and (render is None or not per_second > 0):
            raise ValueError(f"coalesced topic {name!r} needs a render function and a rate above 0")
        self.name = name
        self.views = views
        self.version = version
        self.per_second = per_second
        self.render = render
        # Seconds between two deliveries of this topic to one group, whoever published
        # (with several processes, each publishes its own changes): None for no pacing.
        self.pace_s: float | None = None

    def change_to(self, views: Views, version: int, server_time: int) -> Change | None:
        """Move to `views` at `version`; None when no audience would see a difference."""
        if version <= self.version:
            raise ValueError(f"topic {self.name!r} is at version {self.version}; {version} is not newer")
        patches = {audience: mergepatch.diff(self.views[audience], views[audience]) for audience in AUDIENCES}
        if not any(patches.values()):
            return None
        change = Change(self.name, self.version, version, patches, views, server_time)
        self.views, self.version = views, version
        return change


def snapshot_of(version: int, view: dict[str, Any]) -> dict[str, Any]:
    """A topic's document as clients hold it: its view, with its version first."""
    return {"version": version, **view} | {"version": version}


def envelope_time(envelope: Envelope) -> int | None:
    """The server time the publisher rendered a change at, or None if it does not say."""
    try:
        return int(orjson.loads(envelope[3][AUDIENCES[0]])["server_time"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None


def _applied(topic: Topic, envelope: Envelope) -> Change | None:
    """The change an envelope carries, applied to `topic` (which holds its base); None
    if the bodies do not read as this protocol's patch messages."""
    name, base, version, bodies = envelope
    try:
        messages = {audience: orjson.loads(bodies[audience]) for audience in AUDIENCES}
        patches = {audience: messages[audience]["patch"] for audience in AUDIENCES}
        server_time = int(messages[AUDIENCES[0]]["server_time"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    if not all(isinstance(patch, dict) for patch in patches.values()):
        return None
    views = {audience: mergepatch.apply(topic.views[audience], patches[audience]) for audience in AUDIENCES}
    return Change(name, base, version, patches, views, server_time, encoded=dict(bodies))


Deliver = Callable[[Change], Awaitable[None]]
# Brings a topic up to date from the store; given the envelope that announced news.
Refresh = Callable[[Envelope | None], Awaitable[None]]


class _Group:
    """The read side of one group of sockets: a task that delivers each topic's news.

    Its sockets' snapshots come from what it has delivered (not the topic's newest
    state), so a client's copy is always on this group's stream: every patch it is sent
    next applies to exactly what it holds.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.sinks: list[Deliver] = []
        self.news: dict[str, Change] = {}  # newest undelivered change per topic, in order
        # Per topic, the version this group's sockets were last sent, and its views.
        self.delivered: dict[str, tuple[int, Views]] = {}
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.paces: dict[str, float] = {}  # topic -> its Topic.pace_s, for paced topics
        self.next_at: dict[str, float] = {}  # paced topic -> when it may be delivered again
        self.rewake: asyncio.TimerHandle | None = None

    def follow(self, topic: Topic) -> None:
        self.delivered.setdefault(topic.name, (topic.version, topic.views))
        if topic.pace_s:
            self.paces[topic.name] = topic.pace_s

    def snapshot(self, topic: str, audience: Audience) -> dict[str, Any]:
        version, views = self.delivered[topic]
        return snapshot_of(version, views[audience])

    def offer(self, change: Change) -> None:
        self.news.pop(change.topic, None)  # re-inserted last: topics take turns
        self.news[change.topic] = change
        self.wake.set()

    def _catch_up(self, change: Change) -> Change:
        delivered_version, delivered_views = self.delivered[change.topic]
        if delivered_version == change.base:
            return change
        # We skipped versions: one patch from what this group's sockets hold to now.
        patches = {a: mergepatch.diff(delivered_views[a], change.views[a]) for a in AUDIENCES}
        # Its own bytes: the encoded messages of `change` are for sockets at its base.
        return dataclasses.replace(change, base=delivered_version, patches=patches, encoded={})

    async def run(self) -> None:
        while True:
            await self.wake.wait()
            self.wake.clear()
            while self.news:
                topic = self._due()
                if topic is None:
                    break  # only paced topics wait: _due set a wake-up for the first
                try:
                    change = self._catch_up(self.news.pop(topic))
                except Exception:  # never lose the task: the next change catches up again
                    log.exception("%s: catching up on %s failed", self.name, topic)
                    continue
                # Moved before sending: a socket that joins meanwhile gets this version
                # as its snapshot, and the rest of this send is not for it.
                self.delivered[topic] = (change.version, change.views)
                for deliver in self.sinks:
                    try:
                        await deliver(change)
                    except Exception:  # one broken transport must not starve the others
                        log.exception("%s: delivering %s v%d failed", self.name, topic, change.version)
                if topic in self.paces:
                    self.next_at[topic] = time.monotonic() + self.paces[topic]

    def _due(self) -> str | None:
        """The first topic with news that may go out now; None (and a wake-up set for
        the soonest) when all that has news is paced and early."""
        now = time.monotonic()
        waits = []
        for topic in self.news:
            due = self.next_at.get(topic, 0.0)
            if due <= now:
                return topic
            waits.append(due - now)
        if self.rewake is not None:
            self.rewake.cancel()
        self.rewake = asyncio.get_running_loop().call_later(min(waits), self.wake.set)
        return None


class LiveHub:
    """The topics of a server and the delivery groups that carry their changes."""

    def __init__(self, clock: Callable[[], int]) -> None:
        self.clock = clock
        self.topics: dict[str, Topic] = {}
        self.groups: dict[str, _Group] = {}
        self._flushes: dict[str, asyncio.TimerHandle] = {}
        self._last_flush: dict[str, float] = {}
        self._refreshes: dict[str, Refresh] = {}
        self._outbox: Callable[[Change], None] | None = None
        self._catching_up: set[asyncio.Task[None]] = set()

    # --- wiring -------------------------------------------------------------------------

    def add_topic(self, topic: Topic, refresh: Refresh | None = None) -> Topic:
        """`refresh` brings the topic up to date from the store, for news from another
        process (required when the hub is on a shared bus)."""
        if topic.name in self.topics:
            raise ValueError(f"topic {topic.name!r} exists already")
        self.topics[topic.name] = topic
        if refresh is not None:
            self._refreshes[topic.name] = refresh
        for group in self.groups.values():
            group.follow(topic)
        return topic

    def add_sink(self, group: str, deliver: Deliver) -> None:
        """Deliveries of one group run in order, one at a time; groups run side by side.
        Groups are drained in the order they were first named."""
        if group not in self.groups:
            self.groups[group] = _Group(group)
            for topic in self.topics.values():
                self.groups[group].follow(topic)
        self.groups[group].sinks.append(deliver)

    def send_to(self, outbox: Callable[[Change], None]) -> None:
        """Every change published here from now on also goes to `outbox` (the bus)."""
        self._outbox = outbox

    def snapshot(self, topic: str, group: str, audience: Audience) -> dict[str, Any]:
        """A topic's document for a socket of `group`: what that group has delivered."""
        return self.groups[group].snapshot(topic, audience)

    def start(self) -> None:
        for group in self.groups.values():
            if group.task is None:
                group.task = asyncio.create_task(group.run(), name=f"live-{group.name}")
                group.task.add_done_callback(self._restart_if_died)

    def _restart_if_died(self, task: asyncio.Task[None]) -> None:
        if task.cancelled():
            return  # stopped on purpose
        log.error("delivery task %s died (%r); starting it again", task.get_name(), task.exception())
        for group in self.groups.values():
            if group.task is task:
                group.task = None
                group.wake.set()  # what it held goes out from the new task
        self.start()

    async def stop(self) -> None:
        for task in list(self._catching_up):
            task.cancel()
        for handle in self._flushes.values():
            handle.cancel()
        self._flushes.clear()
        for group in self.groups.values():
            if group.rewake is not None:
                group.rewake.cancel()
            if group.task is not None:
                group.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await group.task
                group.task = None

    # --- the write side -----------------------------------------------------------------

    def publish(self, name: str, views: Views, version: int | None = None) -> Change | None:
        """Set a topic's views (at `version`, default the next one) and hand the change to
        every group. Returns at once; delivery happens in the groups' tasks. Nothing is
        published (and the version stays) when no audience would see a difference."""
        topic = self.topics[name]
        change = topic.change_to(views, topic.version + 1 if version is None else version, self.clock())
        if change is not None:
            self._offer(change)
            if self._outbox is not None:
                self._outbox(change)
        return change

    def _offer(self, change: Change) -> None:
        for group in self.groups.values():
            group.offer(change)

    # --- news from other processes ------------------------------------------------------

    async def receive(self, envelope: Envelope, same_render: bool = True) -> None:
        """A change another process published. When this process holds its base (and
        renders from what the publisher did), the sockets get it at once, as encoded by
        the publisher, and the topic's owner catches up from the store afterwards; after
        a gap, the store comes first."""
        name, base, version, _ = envelope
        topic = self.topics.get(name)
        refresh = self._refreshes.get(name)
        if topic is None or refresh is None or version <= topic.version:
            return
        if not same_render:
            await refresh(None)  # its bytes are not for our sockets
            return
        change = _applied(topic, envelope) if base == topic.version else None
        if change is None:
            await refresh(envelope)
            return
        topic.views, topic.version = change.views, change.version
        self._offer(change)
        catching_up = asyncio.create_task(refresh(None), name=f"refresh-{name}")
        self._catching_up.add(catching_up)
        catching_up.add_done_callback(self._caught_up)

    def _caught_up(self, task: asyncio.Task[None]) -> None:
        self._catching_up.discard(task)
        if not task.cancelled() and task.exception() is not None:
            # The next change, or the bus after a reconnect, tries again.
            log.warning("catching up from the store failed: %r", task.exception())

    async def refresh_all(self) -> None:
        """After news may have been missed (the bus was down): every topic from the store."""
        for name, refresh in list(self._refreshes.items()):
            try:
                await refresh(None)
            except Exception:
                log.exception("topic %s: refreshing from the store failed", name)
                raise

    def adopt(self, name: str, views: Views, version: int, envelope: Envelope | None) -> None:
        """Take the topic to `views` at `version`, as read from the store, for this
        process's sockets only. When that is exactly the change `envelope` announced,
        its bytes go out as they came."""
        topic = self.topics[name]
        if version <= topic.version:
            return
        change = topic.change_to(views, version, self.clock())
        if change is None:
            topic.version = version  # nothing any audience sees changed
            return
        if envelope is not None and envelope[1:3] == (change.base, change.version):
            change.encoded.update(envelope[3])
        self._offer(change)

    def touch(self, name: str) -> None:
        """A coalesced topic changed: publish its newest state, at most per_second a second."""
        topic = self.topics[name]
        if name in self._flushes:
            return  # a flush is on its way and will read the newest state
        assert topic.per_second is not None
        due = self._last_flush.get(name, float("-inf")) + 1 / topic.per_second
        delay = max(0.0, due - time.monotonic())
        self._flushes[name] = asyncio.get_running_loop().call_later(delay, self._flush, name)

    def _flush(self, name: str) -> None:
        del self._flushes[name]
        self._last_flush[name] = time.monotonic()
        topic = self.topics[name]
        assert topic.render is not None
        try:
            self.publish(name, topic.render())
        except Exception:  # a bad render must not stop the topic for good
            log.exception("topic %s: render failed", name)
