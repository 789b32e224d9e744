"""The loopback peers speak the platforms' wire formats: checked here with plain aiohttp clients."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from .peers import jetstream as js
from .peers.jetstream import JetstreamPeer
from .peers.mastodon import MastodonPeer, status
from .peers.xcounts import XCountsPeer

DID = "did:plc:abcd1234efgh5678ijkl9012"
T0 = 1792087204123456  # 2026-10-15T18:00:04.123456Z


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def next_json(ws: aiohttp.ClientWebSocketResponse) -> Any:
    message = await ws.receive(timeout=5)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    return json.loads(message.data)


# ---------------------------------------------------------------- Jetstream


def test_tid_round_trip_and_sorting() -> None:
    value = js.tid(T0, clock_id=517)
    assert len(value) == 13 and set(value) <= set(js.TID_ALPHABET) and value[0] in "234567abcdefghij"
    n = 0
    for char in value:
        n = n * 32 + js.TID_ALPHABET.index(char)
    assert (n >> 10, n & 1023) == (T0, 517)
    assert js.tid(T0) < js.tid(T0 + 1) < js.tid(T0 + 1_000_000)


def test_post_matches_the_reference_sample() -> None:
    event = js.post(DID, "3m4xyzab7xs2b", "Rally at the ICE office now! #CommunitiesNotCages", time_us=T0)
    assert event["kind"] == "commit" and event["time_us"] == T0
    commit = event["commit"]
    assert list(commit) == ["rev", "operation", "collection", "rkey", "record", "cid"]
    assert commit["operation"] == "create" and commit["collection"] == "app.bsky.feed.post"
    assert commit["cid"].startswith("bafyrei") and len(commit["cid"]) == 59
    assert commit["record"]["createdAt"] == "2026-10-15T18:00:03.923Z"
    assert commit["record"]["facets"] == [
        {
            "index": {"byteStart": 29, "byteEnd": 49},
            "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": "CommunitiesNotCages"}],
        }
    ]
    gone = js.delete(DID, "3m4xyzab7xs2b", time_us=T0 + 1)
    assert (
        gone["commit"]["operation"] == "delete"
        and "record" not in gone["commit"]
        and "cid" not in gone["commit"]
    )


def test_facets_count_utf8_bytes() -> None:
    text = "Très bien #CommunitiesNotCages! ¡Sí! #Otra #SinFaceta"
    event = js.post(DID, "k", text, time_us=T0, facet_tags=["communitiesnotcages", "OTRA"], tags=["Extra"])
    record = event["commit"]["record"]
    raw = text.encode()
    spans = [
        (f["index"]["byteStart"], f["index"]["byteEnd"], f["features"][0]["tag"]) for f in record["facets"]
    ]
    assert spans[0] == (11, 31, "CommunitiesNotCages")  # "è" is two bytes: character index 10, byte 11
    assert [raw[start:end].decode() for start, end, _ in spans] == ["#CommunitiesNotCages", "#Otra"]
    assert [tag for *_, tag in spans] == ["CommunitiesNotCages", "Otra"]
    assert record["tags"] == ["Extra"]
    assert "facets" not in js.post(DID, "k", text, time_us=T0, facet_tags=[])["commit"]["record"]


async def test_jetstream_replay_then_live_tail_with_filters(http: aiohttp.ClientSession) -> None:
    async with JetstreamPeer() as peer:
        old = js.post(DID, js.tid(T0), "first #CommunitiesNotCages", time_us=T0)
        peer.publish(old)
        peer.publish(js.like(DID, js.tid(T0 + 1000), time_us=T0 + 1000))
        peer.publish(ident := js.identity(DID, time_us=T0 + 2000))
        peer.publish(second := js.post(DID, js.tid(T0 + 3000), "second", time_us=T0 + 3000))

        url = f"{peer.url}?wantedCollections=app.bsky.feed.post&cursor={T0 + 1000}&maxMessageSizeBytes=0"
        async with (
            http.ws_connect(url) as posts,
            http.ws_connect(f"{peer.url}?wantedCollections=app.bsky.feed.*") as feed,
        ):
            await peer.wait_connected(2)
            assert peer.connections[0] == {
                "wantedCollections": ["app.bsky.feed.post"],
                "cursor": [str(T0 + 1000)],
                "maxMessageSizeBytes": ["0"],
            }
            message = await posts.receive(timeout=5)
            assert message.data == json.dumps(ident, separators=(",", ":"))  # compact, one per frame
            assert await next_json(posts) == second

            peer.publish(live_like := js.like(DID, "3lk", time_us=T0 + 4000))
            peer.publish(live := js.post(DID, "3lp", "live #CommunitiesNotCages", time_us=T0 + 5000))
            peer.publish(acct := js.account(DID, time_us=T0 + 6000, active=False))
            assert [await next_json(posts), await next_json(posts)] == [live, acct]
            assert [await next_json(feed) for _ in range(3)] == [live_like, live, acct]

            peer.publish("{not json")
            assert (await posts.receive(timeout=5)).data == "{not json"


async def test_jetstream_drop_then_resume_from_cursor(http: aiohttp.ClientSession) -> None:
    async with JetstreamPeer() as peer:
        async with http.ws_connect(peer.url) as ws:
            await peer.wait_connected(1)
            peer.publish(first := js.post(DID, "a", "#one", time_us=T0))
            assert await next_json(ws) == first
            peer.drop()
            message = await ws.receive(timeout=5)
            assert message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
            assert ws.close_code != 1000

        peer.publish(missed := js.post(DID, "b", "#two", time_us=T0 + 10))
        async with http.ws_connect(f"{peer.url}?cursor={T0}") as ws:
            await peer.wait_connected(2)
            assert [await next_json(ws), await next_json(ws)] == [first, missed]
        async with http.ws_connect(f"{peer.url}?cursor={T0 + 10**9}") as ws:  # a future cursor: live only
            await peer.wait_connected(3)
            peer.publish(later := js.post(DID, "c", "#three", time_us=T0 + 20))
            assert await next_json(ws) == later


# ---------------------------------------------------------------- Mastodon

TOKEN = "masto-user-token"
WHEN = datetime(2026, 10, 15, 18, 0, 5, tzinfo=UTC)


def cnc(n: int, tag: str = "communitiesnotcages") -> dict[str, Any]:
    return status(
        113300000000000000 + n, f"<p>post {n} #{tag}</p>", tags=[tag], created_at=WHEN + timedelta(seconds=n)
    )


async def test_mastodon_streaming_refuses_without_a_user_token(http: aiohttp.ClientSession) -> None:
    async with MastodonPeer(token=TOKEN) as peer:
        stream = f"{peer.url}/api/v1/streaming?stream=hashtag&tag=X"
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
                await http.ws_connect(stream, headers=headers)
            assert refused.value.status == 401
        async with http.get(stream) as response:
            assert response.status == 401 and "error" in await response.json()
        async with http.get(f"{peer.url}/api/v1/streaming/health") as response:
            assert await response.text() == "OK"
        assert peer.connections == []


async def test_mastodon_streams_updates_and_deletes(http: aiohttp.ClientSession) -> None:
    async with MastodonPeer(token=TOKEN) as peer:
        by_query = await http.ws_connect(
            f"{peer.url}/api/v1/streaming?stream=hashtag&tag=CommunitiesNotCages",
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        by_message = await http.ws_connect(f"{peer.url}/api/v1/streaming/?access_token={TOKEN}")
        by_protocol = await http.ws_connect(f"{peer.url}/api/v1/streaming", protocols=(TOKEN,))
        await peer.wait_connected(3)
        assert [c["auth"] for c in peer.connections] == ["header", "query", "protocol"]
        assert peer.connections[0]["query"] == {"stream": ["hashtag"], "tag": ["CommunitiesNotCages"]}
        assert by_protocol.protocol == TOKEN

        await by_message.send_json({"type": "subscribe", "stream": "hashtag", "tag": "COMMUNITIESNOTCAGES"})
        await by_message.send_json({"type": "subscribe", "stream": "bogus"})
        assert await next_json(by_message) == {"error": "Unknown stream type", "status": 400}  # both handled

        peer.publish(one := cnc(1))
        frame = await next_json(by_query)
        assert frame["stream"] == ["hashtag", "CommunitiesNotCages"] and frame["event"] == "update"
        assert isinstance(frame["payload"], str) and json.loads(frame["payload"]) == one
        frame = await next_json(by_message)
        assert frame["stream"] == ["hashtag", "COMMUNITIESNOTCAGES"] and json.loads(frame["payload"]) == one

        await by_message.send_json({"type": "unsubscribe", "stream": "hashtag", "tag": "communitiesnotcages"})
        await by_message.send_json({"type": "subscribe", "stream": "hashtag", "tag": "other"})
        await by_message.send_json({"type": "subscribe", "stream": "nope"})
        assert await next_json(by_message) == {"error": "Unknown stream type", "status": 400}
        peer.delete(one["id"])
        assert await next_json(by_query) == {
            "stream": ["hashtag", "CommunitiesNotCages"],
            "event": "delete",
            "payload": one["id"],
        }
        peer.publish(other := cnc(2, "other"))
        assert json.loads((await next_json(by_message))["payload"]) == other  # the delete never reached it

        peer.send_raw("not json")
        assert (await by_query.receive(timeout=5)).data == "not json"
        peer.drop()
        assert (await by_query.receive(timeout=5)).type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR)
        for ws in (by_query, by_message, by_protocol):
            await ws.close()


async def test_mastodon_tag_timeline_pages_like_mastodon(http: aiohttp.ClientSession) -> None:
    async with MastodonPeer(token=TOKEN) as peer:
        for n in range(1, 11):
            peer.publish(cnc(n))
        peer.publish(cnc(11, "elsewhere"))
        base = f"{peer.url}/api/v1/timelines/tag/CommunitiesNotCages"

        async def page(**params: str) -> tuple[list[int], aiohttp.ClientResponse]:
            async with http.get(base, params={"limit": "3", **params}) as response:
                assert response.status == 200
                return [int(s["id"]) % 100 for s in await response.json()], response

        ids, response = await page()
        assert ids == [10, 9, 8]
        assert response.links["next"]["url"].query == {"limit": "3", "max_id": cnc(8)["id"]}
        assert response.links["prev"]["url"].query == {"limit": "3", "min_id": cnc(10)["id"]}
        assert (await page(max_id=cnc(8)["id"]))[0] == [7, 6, 5]
        assert (await page(since_id=cnc(4)["id"]))[0] == [10, 9, 8]  # the newest page above it
        assert (await page(min_id=cnc(4)["id"]))[0] == [7, 6, 5]  # the page just above it
        assert (await page(min_id=cnc(4)["id"], max_id=cnc(7)["id"]))[0] == [6, 5]
        ids, response = await page(min_id=cnc(10)["id"])
        assert ids == [] and "Link" not in response.headers

        async with http.get(response.url.with_query(limit="50")) as response:
            assert len(await response.json()) == 10  # limit is capped at 40, default 20
        assert peer.timeline_requests[0] == {"limit": ["3"]}

        peer.require_token_for_timeline = True
        async with http.get(base) as response:
            assert response.status == 401
        async with http.get(base, headers={"Authorization": f"Bearer {TOKEN}"}) as response:
            assert response.status == 200


# ---------------------------------------------------------------- X counts

NOW = datetime(2026, 10, 15, 18, 5, 30, tzinfo=UTC)


def minute(hh: int, mm: int) -> datetime:
    return datetime(2026, 10, 15, hh, mm, tzinfo=UTC)


async def test_x_counts_auth_and_query_errors(http: aiohttp.ClientSession) -> None:
    async with XCountsPeer(token="bearer-1") as peer:
        url = f"{peer.url}/2/tweets/counts/recent"
        for headers in ({}, {"Authorization": "Bearer nope"}):
            async with http.get(url, params={"query": "#x"}, headers=headers) as response:
                assert response.status == 401
                assert await response.json() == {
                    "title": "Unauthorized",
                    "type": "about:blank",
                    "status": 401,
                    "detail": "Unauthorized",
                }
        async with http.get(url, headers={"Authorization": "Bearer bearer-1"}) as response:
            assert response.status == 400
            body = await response.json()
            assert body["title"] == "Invalid Request" and "query" in body["errors"][0]["parameters"]
        assert len(peer.requests) == 3


async def test_x_counts_buckets_both_field_names_and_corrections(http: aiohttp.ClientSession) -> None:
    async with XCountsPeer(token="bearer-1") as peer:
        peer.now = lambda: NOW
        peer.minutes = {minute(18, 0): 212, minute(18, 1): 348, minute(18, 4): 5, minute(17, 59): 1000}
        auth = {"Authorization": "Bearer bearer-1"}
        url = f"{peer.url}/2/tweets/counts/recent"
        params = {
            "query": "#CommunitiesNotCages -is:retweet",
            "granularity": "minute",
            "start_time": "2026-10-15T18:00:00Z",
            "end_time": "2026-10-15T18:02:00Z",
        }
        async with http.get(url, params=params, headers=auth) as response:
            assert response.status == 200
            assert await response.json() == {
                "data": [
                    {
                        "start": "2026-10-15T18:00:00.000Z",
                        "end": "2026-10-15T18:01:00.000Z",
                        "tweet_count": 212,
                    },
                    {
                        "start": "2026-10-15T18:01:00.000Z",
                        "end": "2026-10-15T18:02:00.000Z",
                        "tweet_count": 348,
                    },
                ],
                "meta": {"total_tweet_count": 560},
            }
            assert response.headers["x-rate-limit-remaining"] == "299"

        peer.field = "post_count"
        peer.minutes[minute(18, 1)] = 350  # corrected after the fact
        async with http.get(
            url, params={"query": "#x", "start_time": "2026-10-15T17:30:00Z"}, headers=auth
        ) as response:
            body = await response.json()
        assert body == {
            "data": [
                {"start": "2026-10-15T17:30:00.000Z", "end": "2026-10-15T18:00:00.000Z", "post_count": 1000},
                {"start": "2026-10-15T18:00:00.000Z", "end": "2026-10-15T18:05:00.000Z", "post_count": 567},
            ],
            "meta": {"total_post_count": 1567},
        }
        async with http.get(
            url, params={"query": "#x", "end_time": "2026-10-15T18:05:25Z"}, headers=auth
        ) as response:
            assert response.status == 400  # end_time must be 10 s before now


async def test_x_counts_rate_limit(http: aiohttp.ClientSession) -> None:
    async with XCountsPeer(token="bearer-1") as peer:
        clock = [NOW]
        peer.now = lambda: clock[0]
        peer.limit_per_window, peer.window_s = 2, 900
        reset = str(int(NOW.timestamp()) + 900)

        async def get() -> aiohttp.ClientResponse:
            async with http.get(
                f"{peer.url}/2/tweets/counts/recent",
                params={"query": "#x"},
                headers={"Authorization": "Bearer bearer-1"},
            ) as response:
                await response.read()
                return response

        assert [(await get()).headers["x-rate-limit-remaining"] for _ in range(2)] == ["1", "0"]
        refused = await get()
        assert refused.status == 429
        assert (refused.headers["x-rate-limit-limit"], refused.headers["x-rate-limit-reset"]) == ("2", reset)
        clock[0] = NOW + timedelta(seconds=900)
        again = await get()
        assert again.status == 200 and again.headers["x-rate-limit-remaining"] == "1"
