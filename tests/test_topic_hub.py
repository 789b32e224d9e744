"""The live hub on its own: delivery groups, snapshots from what a group delivered, and
catching up after falling behind."""

from __future__ import annotations

import asyncio
import itertools

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


async def test_news_from_another_process_goes_out_as_it_came_and_a_gap_asks_the_store():
    """The bus hands a hub what another process published: applied at once when this
    hub holds its base (the publisher's bytes go to the sockets), else from the store."""
    from eventrunner.cluster.envelope import decode, encode

    publisher, receiver = LiveHub(clock=lambda: 7), LiveHub(clock=lambda: 9)
    refreshed: list[object] = []
    stored = {"views": views("stat"), "version": 2}  # what the shared store holds

    async def refresh(envelope) -> None:
        refreshed.append(envelope)
        receiver.adopt("show", stored["views"], stored["version"], envelope)

    publisher.add_topic(Topic("show", views(None), version=1))
    receiver.add_topic(Topic("show", views(None), version=1), refresh=refresh)
    delivered: list[Change] = []
    got = asyncio.Event()

    async def crowd(change: Change) -> None:
        delivered.append(change)
        got.set()

    receiver.add_sink("crowd", crowd)
    receiver.start()
    sent: list[Change] = []
    publisher.send_to(sent.append)
    publisher.publish("show", views("stat"))  # v2, on base 1: the receiver holds 1
    _, _, envelope = decode(encode(sent[0], origin="a", render="day@0"))
    await receiver.receive(envelope)
    await asyncio.wait_for(got.wait(), 5)
    assert delivered[0].version == 2 and delivered[0].views == views("stat")
    assert delivered[0].body("public") == sent[0].body("public")  # the publisher's bytes
    assert delivered[0].server_time == 7  # when the change was made, not received
    assert receiver.topics["show"].version == 2

    await receiver.receive(envelope)  # old news: nothing happens
    got.clear()
    publisher.publish("show", views("card"))  # v3: this one the receiver misses
    publisher.publish("show", views("quote"))  # v4 on base 3: a gap
    stored.update(views=views("quote"), version=4)
    _, _, gap = decode(encode(sent[-1], origin="a", render="day@0"))
    await receiver.receive(gap)
    await asyncio.wait_for(got.wait(), 5)
    assert refreshed[-1] == gap  # the store was asked, with the news it came for
    assert delivered[-1].version == 4 and delivered[-1].base == 2 and delivered[-1].views == views("quote")
    await receiver.stop()


async def test_a_paced_topic_reaches_a_group_at_most_once_a_pace_whoever_publishes():
    """With several processes each publishes its own changes (adopted by the others):
    a group still delivers a paced topic at most once a pace, always the newest."""
    hub = LiveHub(clock=lambda: 0)
    topic = Topic("posts", views(None), version=0)
    topic.pace_s = 0.2
    hub.add_topic(topic)
    delivered: list[tuple[float, int]] = []
    newest = asyncio.Event()

    async def crowd(change: Change) -> None:
        delivered.append((asyncio.get_running_loop().time(), change.version))
        if change.version == 30:
            newest.set()

    hub.add_sink("crowd", crowd)
    hub.start()
    try:
        for n in range(1, 31):  # thirty changes as fast as they come
            hub.publish("posts", views(f"n{n}"), n)
            await asyncio.sleep(0.01)
        async with asyncio.timeout(5):
            await newest.wait()
    finally:
        await hub.stop()
    gaps = [later - earlier for (earlier, _), (later, _) in itertools.pairwise(delivered)]
    assert 2 <= len(delivered) < 30 and min(gaps) >= 0.19
    assert delivered[-1][1] == 30  # the newest is never lost to pacing
