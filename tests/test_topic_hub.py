"""The live hub on its own: delivery groups, snapshots from what a group delivered, and
catching up after falling behind."""

from __future__ import annotations

import asyncio

import pytest

from eventrunner.core import mergepatch
from eventrunner.topics.hub import Change, LiveHub, Topic


def views(graphic: str | None) -> dict:
    view = {"graphics": {"card": graphic}} if graphic else {"graphics": {}}
    return {"producer": view, "public": view}


async def test_a_socket_joining_while_its_group_is_behind_stays_on_the_groups_stream():
    hub = LiveHub(clock=lambda: 0)
    hub.add_topic(Topic("show", views(None), version=1))
    release = asyncio.Event()
    received: list[Change] = []
    second = asyncio.Event()

    async def slow_crowd(change: Change) -> None:
        received.append(change)
        if len(received) == 2:
            second.set()
        await release.wait()  # a crowd of thousands still being written to

    hub.add_sink("crowd", slow_crowd)
    hub.start()
    try:
        hub.publish("show", views("stat"))  # v2: the crowd starts on it
        await asyncio.sleep(0)  # one turn of the loop: the delivery task takes it
        hub.publish("show", views("quote"))  # v3, while v2 is still going out
        # A page that connects now is given what its group has sent: v2, not v3.
        joined = hub.snapshot("show", "crowd", "public")
        assert joined == {"version": 2, "graphics": {"card": "stat"}}
        hub.publish("show", views(None))  # v4: the quote came and went meanwhile
        release.set()
        async with asyncio.timeout(5):
            await second.wait()
        catch_up = received[1]
        assert (catch_up.base, catch_up.version) == (2, 4)
        # Applied to what the page holds, it gives exactly the newest state.
        held = mergepatch.apply(joined, catch_up.patches["public"])
        assert held["graphics"] == {} == hub.topics["show"].views["public"]["graphics"]
    finally:
        await hub.stop()


def test_publishing_what_clients_already_have_changes_nothing():
    hub = LiveHub(clock=lambda: 0)
    hub.add_topic(Topic("posts", views("x"), version=3))
    assert hub.publish("posts", views("x")) is None
    assert hub.topics["posts"].version == 3


@pytest.mark.parametrize("name", ["patch", "connect", "Show", "", "a" * 40, "with space"])
def test_a_topic_cannot_take_an_event_name_or_an_odd_one(name):
    with pytest.raises(ValueError, match="cannot name a topic"):
        Topic(name, views(None))


def test_versions_only_grow_and_rates_are_positive():
    topic = Topic("posts", views(None), version=5)
    with pytest.raises(ValueError, match="not newer"):
        topic.change_to(views("x"), 5, server_time=0)
    with pytest.raises(ValueError, match="rate above 0"):
        Topic("posts", views(None), per_second=0, render=lambda: views(None))
