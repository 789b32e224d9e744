"""The post sources against loopback peers that speak each platform's wire format:
Bluesky Jetstream, Mastodon streaming and tag timelines, X recent counts. What reaches
the count is checked against the truth of what the peer sent: through dropped
connections, malformed payloads, deletions, replays and a kill -9."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import orjson
import pytest

from eventrunner.posts.board import PostBoard
from eventrunner.posts.sources.jetstream import JetstreamSource, tid_time_ms
from eventrunner.posts.sources.supervisor import Health
from eventrunner.posts.tally import day_window
from eventrunner.stores.embedded import EmbeddedStore
from eventrunner.topics.hub import LiveHub

from .conftest import TOKEN
from .peers import jetstream, mastodon
from .peers.jetstream import JetstreamPeer
from .peers.mastodon import MastodonPeer
from .peers.xcounts import XCountsPeer
from .process import ServerProcess
from .sockets import Recorder

TAG = "#CommunitiesNotCages"


def counting_day(path: Path, sources: str) -> Path:
    """Today in UTC with the hashtag counted all day from `sources` (YAML under posts)."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    path.write_text(f"""
event: {{title: Count day, timezone: UTC, date: "{start:%Y-%m-%d}", hashtags: ["{TAG}"]}}
segments:
  - {{id: storm, title: Twitterstorm, kind: twitterstorm, start: "{start:%Y-%m-%d %H:%M}", duration: 1h}}
posts:
  goal: 1000
  sources:
{sources}
""")
    return path


def now_us() -> int:
    return time.time_ns() // 1000


async def total(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(url + "/api/posts") as answer:
        return await answer.json()


async def until_total(url: str, expected: int) -> dict:
    """Once the `posts` topic says the total is `expected`: GET /api/posts."""
    crowd = Recorder(["posts"])
    await crowd.connect(url, ["/public"], expect=("posts",))
    try:
        await crowd.wait_for("/public", lambda doc: doc["total"] == expected, "posts", timeout_s=20)
    finally:
        await crowd.close()
    return await total(url)


# --- Bluesky ------------------------------------------------------------------------------


def test_a_tid_gives_the_time_its_post_was_made():
    moment = now_us()
    assert tid_time_ms(jetstream.tid(moment)) == moment // 1000
    assert tid_time_ms("self") is None and tid_time_ms("zzzzzzzzzzzzz") is None


async def test_bluesky_posts_with_the_tag_count_once_deletes_come_off_and_bad_frames_pass(
    start_server, tmp_path, caplog
):
    async with JetstreamPeer() as peer:
        url = peer.url
        running = await start_server(counting_day(tmp_path / "day.yaml", f"    bluesky: {{url: '{url}'}}"))
        await peer.wait_connected(1)
        assert peer.connections[0]["wantedCollections"] == ["app.bsky.feed.post"]
        base = now_us()
        keys = [jetstream.tid(base + n * 1000) for n in range(8)]
        events = [
            jetstream.post("did:plc:ana", keys[0], f"Rally at the ICE office now! {TAG}", time_us=base),
            jetstream.post(
                "did:plc:ben", keys[1], "free them all #communitiesnotcages", time_us=base + 1, facet_tags=[]
            ),
            jetstream.post(
                "did:plc:cy", keys[2], "no tag in the text", time_us=base + 2, tags=["CommunitiesNotCages"]
            ),
            jetstream.post("did:plc:dee", keys[3], "#SomethingElse only", time_us=base + 3),
            # Mathematical bold letters, as fancy-font generators write them: NFKC folds
            # them to the tag, so the cheap filter must not pass over them.
            jetstream.post(
                "did:plc:gus",
                keys[6],
                "#\U0001d402\U0001d428\U0001d426\U0001d426\U0001d42e\U0001d427\U0001d422\U0001d42d\U0001d422\U0001d41e\U0001d42c\U0001d40d\U0001d428\U0001d42d\U0001d402\U0001d41a\U0001d420\U0001d41e\U0001d42c 💪",
                time_us=base + 3,
                facet_tags=[],
            ),
            jetstream.like("did:plc:eve", keys[4], time_us=base + 4),
            "{not json at all",  # never parsed: nothing in it could be the tag
            '{"kind": "commit", "commit": {"record": {"text": "#CommunitiesNotCages"',  # parsed: broken
            {
                "kind": "commit",
                "did": "did:plc:x",
                "time_us": 1,
                "commit": {
                    "collection": "app.bsky.feed.post",
                    "operation": "create",
                    "rkey": "k",
                    "record": "#CommunitiesNotCages",
                },
            },  # a record that is text
            jetstream.post(
                "did:plc:ana", keys[0], f"Rally at the ICE office now! {TAG}", time_us=base + 5
            ),  # again
            jetstream.post("did:plc:fay", keys[5], f"Vigil tonight {TAG}", time_us=base + 6),
            jetstream.delete("did:plc:fay", keys[5], time_us=base + 7),
            jetstream.identity("did:plc:ana", time_us=base + 8),
        ]
        for event in events:
            peer.publish(event)
        counted = await until_total(running.url, 4)
        assert counted["by_platform"] == {"bluesky": 4} and counted["goal"] == 1000
        health = running.server.supervisor.health["bluesky"]
        assert health.skipped == 2 and health.state == "live"
        skipped = [r for r in caplog.records if "skipped what is no Jetstream event" in r.getMessage()]
        assert len(skipped) == 2  # logged, each once, and the source went on

        # The connection drops; posts go on meanwhile; the source reconnects from its cursor.
        peer.drop()
        for n in range(7, 9):
            peer.publish(
                jetstream.post(
                    f"did:plc:p{n}", jetstream.tid(base + n * 1000), f"{TAG} #{n}", time_us=base + 10 + n
                )
            )
        await peer.wait_connected(2)
        assert int(peer.connections[1]["cursor"][0]) <= base + 8  # rewound: nothing missed
        counted = await until_total(running.url, 6)
        assert running.server.supervisor.health["bluesky"].errors == 1


@pytest.mark.slow
async def test_kill_9_mid_stream_neither_loses_nor_doubles_a_post(tmp_path):
    async with JetstreamPeer() as peer:
        schedule = counting_day(tmp_path / "day.yaml", f"    bluesky: {{url: '{peer.url}'}}")
        server = ServerProcess([str(schedule)], tmp_path / "data").start()
        base, truth = now_us(), 0

        def send(numbers: range) -> int:
            tagged = 0
            for n in numbers:
                text = f"post {n} {TAG}" if n % 3 else f"post {n}"
                peer.publish(
                    jetstream.post(f"did:plc:u{n}", jetstream.tid(base + n * 1000), text, time_us=base + n)
                )
                tagged += n % 3 != 0
            return tagged

        try:
            await peer.wait_connected(1)
            truth += send(range(150))
            await until_total(server.url, truth)
            truth += send(range(150, 1150))  # on the wire, being counted...
            server.kill()  # ...when SIGKILL comes: no shutdown code runs
            truth += send(range(1150, 1300))  # and more while it is down
            server.start()
            await peer.wait_connected(2)
            assert (await until_total(server.url, truth))["by_platform"] == {"bluesky": truth}
        finally:
            server.kill()


# --- Mastodon -----------------------------------------------------------------------------


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


async def test_mastodon_streams_with_a_token_skips_reblogs_and_catches_up_after_a_drop(
    start_server, tmp_path, monkeypatch
):
    async with MastodonPeer(token="user-token") as peer:
        base = peer.url
        host = base.removeprefix("http://")
        monkeypatch.setenv("EVENTRUNNER_MASTODON_TOKENS", f"{host}=user-token")
        schedule = counting_day(tmp_path / "day.yaml", f"    mastodon: [{{instance: '{base}'}}]")
        running = await start_server(schedule)
        await peer.wait_connected(1)
        assert peer.connections[0]["auth"] == "header"
        now = datetime.now(UTC)
        tagged = ["CommunitiesNotCages"]
        statuses = [
            mastodon.status(
                "1001", f"<p>Vigil tonight <a href='x'>{TAG}</a></p>", tags=tagged, created_at=_stamp(now)
            ),
            mastodon.status(
                "1002", "<p>boost</p>", tags=tagged, created_at=_stamp(now), reblog={"id": "1001"}
            ),
            mastodon.status("1003", "<p>other</p>", tags=["Other"], created_at=_stamp(now)),
            mastodon.status("1004", f"<p>{TAG} again</p>", tags=tagged, created_at=_stamp(now)),
        ]
        for status in statuses:
            peer.publish(status)
        peer.send_raw("not json")
        peer.send_raw('{"stream": ["hashtag", "x"], "event": "update", "payload": "{broken"}')
        await until_total(running.url, 2)
        peer.delete("1004")
        await until_total(running.url, 1)
        source = running.server.supervisor.sources[0]
        peer.drop()
        peer.publish(mastodon.status("1005", f"<p>{TAG} while down</p>", tags=tagged, created_at=_stamp(now)))
        # From another server, late: its id (from its own created_at) is below the newest.
        peer.publish(mastodon.status("990", f"<p>{TAG} federated</p>", tags=tagged, created_at=_stamp(now)))
        await peer.wait_connected(2)
        counted = await until_total(running.url, 3)  # caught up from the timeline
        assert counted["by_platform"] == {"mastodon": 3}
        assert any("min_id" in request for request in peer.timeline_requests)  # read from its cursor
        assert running.server.supervisor.health[source.name].skipped == 2
        texts = [candidate["text"] for candidate in running.server.board.tally.candidates]
        assert f"Vigil tonight {TAG}" in texts  # HTML read as text


async def test_mastodon_without_a_token_polls_the_tag_timeline(start_server, tmp_path):
    async with MastodonPeer() as peer:
        base = peer.url
        now = datetime.now(UTC)
        peer.publish(
            mastodon.status("2001", f"<p>{TAG}</p>", tags=["communitiesnotcages"], created_at=_stamp(now))
        )
        schedule = counting_day(tmp_path / "day.yaml", f"    mastodon: [{{instance: '{base}', every: 1s}}]")
        running = await start_server(schedule)
        await until_total(running.url, 1)
        peer.publish(
            mastodon.status("2002", f"<p>{TAG}</p>", tags=["CommunitiesNotCages"], created_at=_stamp(now))
        )
        await until_total(running.url, 2)
        assert peer.connections == []  # never streamed


# --- X ------------------------------------------------------------------------------------


async def test_x_minute_counts_replace_each_other_under_either_name_and_a_429_waits(
    start_server, tmp_path, monkeypatch
):
    async with XCountsPeer(token="app-bearer") as peer:
        api = peer.url
        monkeypatch.setenv("EVENTRUNNER_X_BEARER_TOKEN", "app-bearer")
        now = datetime.now(UTC).replace(second=0, microsecond=0)
        peer.now = lambda: now + timedelta(seconds=50)
        peer.minutes = {now - timedelta(minutes=2): 212, now - timedelta(minutes=1): 348}
        schedule = counting_day(tmp_path / "day.yaml", f"    x: {{api: '{api}', every: 3s}}")
        running = await start_server(schedule, now=int(peer.now().timestamp() * 1000))
        source = running.server.supervisor.sources[0]
        source.every_s = 0.05
        await until_total(running.url, 560)
        assert peer.requests[0]["query"] == [f"{TAG} -is:retweet"]
        peer.field = "post_count"
        peer.minutes[now - timedelta(minutes=1)] = 350  # X corrected a minute: replaced, not added
        counted = await until_total(running.url, 562)
        assert [m["count"] for m in counted["per_minute"]] == [212, 350]
        assert counted["per_minute"][0]["at"] == int((now - timedelta(minutes=2)).timestamp() * 1000)
        peer.limit_per_window = len(peer.requests)  # the next request is over the limit
        console = Recorder(["posts"])
        await console.connect(running.url, ["/producer"], auth={"token": TOKEN}, expect=("posts",))
        try:
            doc = await console.wait_for(
                "/producer", lambda d: d["sources"][0]["state"] == "waiting", "posts"
            )
        finally:
            await console.close()
        assert "rate limit" in doc["sources"][0]["last_error"] and doc["total"] == 562


async def test_mastodon_falls_back_to_the_timeline_when_streaming_refuses_the_token(
    start_server, tmp_path, monkeypatch
):
    async with MastodonPeer(token="the-right-token") as peer:
        host = peer.url.removeprefix("http://")
        monkeypatch.setenv("EVENTRUNNER_MASTODON_TOKENS", f"{host}=a-revoked-token")
        peer.publish(
            mastodon.status(
                "3001", f"<p>{TAG}</p>", tags=["CommunitiesNotCages"], created_at=_stamp(datetime.now(UTC))
            )
        )
        schedule = counting_day(
            tmp_path / "day.yaml", f"    mastodon: [{{instance: '{peer.url}', every: 1s}}]"
        )
        running = await start_server(schedule)
        await until_total(running.url, 1)
        health = running.server.supervisor.health[f"mastodon:{host}"]
        assert health.state == "polling" and "401" in (health.last_error or "")


async def test_a_silent_jetstream_connection_is_closed_and_made_again(start_server, tmp_path, monkeypatch):
    monkeypatch.setattr("eventrunner.posts.sources.jetstream.IDLE_S", 0.5)
    async with JetstreamPeer() as peer:
        await start_server(counting_day(tmp_path / "day.yaml", f"    bluesky: {{url: '{peer.url}'}}"))
        await peer.wait_connected(1)
        await peer.wait_connected(2)  # nothing came: the source hung up and connected again


async def test_a_post_tagged_delete_still_counts_and_a_failed_store_step_holds_the_cursor(tmp_path):
    """In the source itself, on the real embedded store: the filter's deletion test does
    not swallow a post whose tags say "delete"; a count the store could not keep fails
    the source at the next message, and no cursor is kept past it."""
    store = EmbeddedStore(tmp_path / "data")
    try:
        now = int(time.time() * 1000)
        day = day_window(datetime.now(UTC).date(), "UTC")
        board = PostBoard(store.collections, LiveHub(lambda: now), lambda: now, TAG, None, lambda: day)
        source, health = JetstreamSource("ws://unused", board, TAG), Health("bluesky", "bluesky")
        base = now_us()
        tagged = jetstream.post("did:plc:a", jetstream.tid(base), f"#delete {TAG}", time_us=base)
        work = source.take(orjson.dumps(tagged).decode(), health)
        assert work is not None
        await work
        await source.drain()
        assert health.counted == 1

        async def refuse(post: object) -> bool:
            raise OSError("disk full")

        board.count = refuse  # the store fails for the next post (fault injection)
        failing = jetstream.post("did:plc:b", jetstream.tid(base + 1000), TAG, time_us=base + 1000)
        await source.take(orjson.dumps(failing).decode(), health)
        with pytest.raises(ConnectionError):
            await source.checkpoint(health)  # the cursor stays before the failed count
        assert await board.cursor("bluesky") is None
        with pytest.raises(OSError):
            source.take('{"did":"did:plc:c","time_us":1,"kind":"identity"}', health)
    finally:
        await store.close()
