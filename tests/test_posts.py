"""Post counts: the counting window in the event's zone (midnight, daylight saving), the
tally, hashtag matching, the signed webhook (signature, dedupe, malformed and oversized
bodies), producers' adjustments, and the `posts` topic coalesced to 4 updates a second."""

from __future__ import annotations

import hashlib
import hmac
import itertools
import time
from datetime import date

import aiohttp
import orjson
import pytest

from eventrunner.posts.hashtags import normalize_tag, tags_in_text
from eventrunner.posts.tally import MINUTE_MS, Tally, Window, build_views, day_window, summary

from .builders import at
from .conftest import TOKEN
from .sockets import Recorder

SECRET = "webhook-secret-for-tests"
PRODUCER = {"Authorization": f"Bearer {TOKEN}"}
HOUR = 3_600_000


# --- the window and the tally --------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "hours"),
    [(date(2022, 3, 3), 24), (date(2022, 3, 13), 23), (date(2022, 11, 6), 25)],  # DST starts, ends
)
def test_the_default_window_is_the_events_calendar_day_in_its_own_zone(day, hours):
    window = day_window(day, "America/New_York")
    assert window.start == at(f"{day} 00:00")
    assert window.end - window.start == hours * HOUR
    last_minute, next_day = (window.end - 1) // MINUTE_MS, window.end // MINUTE_MS
    assert window.covers_minute(last_minute) and not window.covers_minute(next_day)


def test_totals_count_only_minutes_inside_the_window_and_the_rate_is_per_minute():
    window = Window(((at("2022-03-03 14:00"), at("2022-03-03 15:00")),))
    start = window.start // MINUTE_MS
    tally = Tally("#CommunitiesNotCages", window)
    tally.buckets = {
        f"bluesky:{start - 1}": 7,  # before the Twitterstorm
        f"bluesky:{start}": 10,
        f"x:{start + 1}": 20,
        f"mastodon:{start + 2}": 5,
        f"manual:{start + 2}": -1,
        f"x:{start + 60}": 99,  # the minute the window ends: outside
        f"manual:{start - 90}": 6,  # a producer's adjustment before it: always counted
    }
    assert summary(tally) == {
        "total": 40,
        "by_platform": {"bluesky": 10, "manual": 5, "mastodon": 5, "x": 20},
    }
    views, changes_at = build_views(tally, window.start + 3 * MINUTE_MS + 5)
    # Three whole minutes of the window so far; adjustments count in totals, not in the rate.
    assert views["public"]["rate"] == round(35 / 3, 1)
    assert views["public"]["spark"]["counts"][-4:] == [10, 20, 5, 0]
    assert "manual" not in views["producer"]["chart"]["by_platform"]
    assert changes_at == window.start + 4 * MINUTE_MS
    assert "sources" not in views["public"] and "sources" in views["producer"]


def test_hashtags_match_case_insensitively_and_unicode_normalized():
    wanted = normalize_tag("#CommunitiesNotCages")
    assert wanted in tags_in_text("Rally now! #communitiesnotcages")
    assert wanted in tags_in_text("＃ＣｏｍｍｕｎｉｔｉｅｓＮｏｔＣａｇｅｓ today")  # noqa: RUF001  (full width)
    assert wanted not in tags_in_text("email#CommunitiesNotCages or #CommunitiesNotCagesNow")
    assert normalize_tag("#NoMa\u0301sJaulas") == normalize_tag("#NoMásJaulas")


# --- the webhook ---------------------------------------------------------------------------


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"X-Eventrunner-Signature": f"sha256={digest}", "Content-Type": "application/json"}


async def send(url: str, payload: object, headers: dict[str, str] | None = None) -> tuple[int, dict]:
    body = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url + "/api/posts/webhook", data=body, headers=headers or signed(body)) as answer,
    ):
        return answer.status, await answer.json()


def post(
    n: int, text: str = "Free them all #CommunitiesNotCages", when: str = "2022-03-03T14:01:00-05:00"
) -> dict:
    return {"platform": "threads", "id": f"t{n}", "created_at": when, "text": text}


@pytest.fixture
async def counting(start_server, monkeypatch):
    monkeypatch.setenv("EVENTRUNNER_WEBHOOK_SECRET", SECRET)
    return await start_server()


async def count_of(url: str) -> dict:
    async with aiohttp.ClientSession() as session, session.get(url + "/api/posts") as answer:
        return await answer.json()


async def test_the_webhook_counts_signed_posts_once_and_refuses_the_rest_by_name(counting):
    url = counting.url
    body = orjson.dumps(
        [post(1), post(2), post(3, text="no tag here"), post(4, when="2022-03-04T00:00:00-05:00")]
    )
    assert (await send(url, body, {"Content-Type": "application/json"}))[0] == 401
    assert (await send(url, body, signed(body, "wrong")))[0] == 401
    status, answer = await send(url, body)
    assert status == 200 and answer == {"counted": 3, "already": 0, "without_hashtag": 1}
    status, again = await send(url, [post(1), post(2)])  # a retry: nothing counted twice
    assert again == {"counted": 0, "already": 2, "without_hashtag": 0}
    total = await count_of(url)
    # t4 was posted at midnight, after the Twitterstorm: kept, but outside the window.
    assert total["total"] == 2 and total["by_platform"] == {"threads": 2}
    assert total["window"]["start"] == at("2022-03-03 14:00") and total["goal"] is None  # the Twitterstorm
    for bad, named in (
        (b"{not json", "not JSON"),
        (
            [{"platform": "Threads!", "id": "1", "created_at": "2022-03-03T14:00:00Z", "text": "#x"}],
            "platform",
        ),
        (
            [{"platform": "threads", "id": "1", "created_at": "2022-03-03T14:00:00", "text": "#x"}],
            "created_at",
        ),
        ([{"platform": "threads", "id": "1", "created_at": "2022-03-03T14:00:00Z"}], "text or its tags"),
        ([], "posts"),
    ):
        status, refused = await send(url, bad)
        assert status == 400 and named in refused["error"], bad
    status, _ = await send(url, b"[" + b'"x",' * 20_000 + b'"x"]')
    assert status == 413
    assert (await count_of(url))["total"] == 2  # nothing refused was counted


async def test_producers_adjust_with_a_reason_set_the_goal_and_put_a_recent_post_on_air(counting):
    url = counting.url
    await send(url, [post(1, text="Shut down detention #CommunitiesNotCages")])
    async with aiohttp.ClientSession() as session:
        adjust = {"by": 40, "reason": "phone bank tally from Chicago"}
        async with session.post(url + "/api/posts/adjust", json=adjust) as answer:
            assert answer.status == 401
        async with session.post(
            url + "/api/posts/adjust", json={"by": 0, "reason": "x"}, headers=PRODUCER
        ) as answer:
            assert answer.status == 400 and "not 0" in (await answer.json())["error"]
        async with session.post(url + "/api/posts/adjust", json=adjust, headers=PRODUCER) as answer:
            assert (await answer.json())["total"] == 41
        key = counting.server.board.tally.candidates[0]["key"]
        async with session.post(
            url + "/api/posts/settings", json={"goal": 5000, "top": key}, headers=PRODUCER
        ) as answer:
            settings = await answer.json()
        assert (
            settings["goal"] == 5000 and settings["top"]["text"] == "Shut down detention #CommunitiesNotCages"
        )
        async with session.post(
            url + "/api/posts/settings", json={"top": "threads:nope"}, headers=PRODUCER
        ) as answer:
            assert answer.status == 404
    console, crowd = Recorder(["posts"]), Recorder(["posts"])
    await console.connect(url, ["/producer"], auth={"token": TOKEN}, expect=("posts",))
    await crowd.connect(url, ["/public"], expect=("posts",))
    try:
        producer = await console.wait_for("/producer", lambda d: bool(d["adjustments"]), "posts")
        public = await crowd.wait_for("/public", lambda d: "top" in d, "posts")
    finally:
        await console.close()
        await crowd.close()
    assert producer["adjustments"][0]["reason"] == "phone bank tally from Chicago"
    assert public["top"]["text"] == "Shut down detention #CommunitiesNotCages" and public["goal"] == 5000
    assert "adjustments" not in public and "candidates" not in public


async def test_the_posts_topic_goes_out_at_most_4_times_a_second_however_fast_posts_come(counting):
    published: list[float] = []
    hub = counting.server.hub
    publish = hub.publish

    def timed(name, views, version=None):
        change = publish(name, views, version)
        if name == "posts" and change is not None:
            published.append(time.monotonic())
        return change

    hub.publish = timed
    crowd = Recorder(["posts"])
    await crowd.connect(counting.url, ["/public"], expect=("posts",))
    try:
        for batch in range(20):
            await send(counting.url, [post(batch * 10 + n) for n in range(10)])
        doc = await crowd.wait_for("/public", lambda d: d["total"] == 200, "posts")
        assert doc["by_platform"] == {"threads": 200}
    finally:
        await crowd.close()
    gaps = [later - earlier for earlier, later in itertools.pairwise(published)]
    assert len(published) >= 2 and min(gaps) >= 0.24
