"""How many Jetstream events a second the Bluesky source gets through on one core.

    .venv/bin/python bench/ingest.py --events 200000

Builds N Jetstream (v1) events shaped like the real firehose a `wantedCollections=
app.bsky.feed.post` subscriber gets, with about 1 in 100 a post with the hashtag, and
serializes them to JSON text first (as they come off the websocket). Then, on core 0 (the
store's SQLite thread too: it starts after the pin):

- ours: `JetstreamSource.take(raw, health)` for each, in order (awaiting the work it hands
  back, as its read loop does), on a `PostBoard` built as
  `eventrunner.app.post_counting()` builds it, over the real embedded store (SQLite in a
  fresh data dir, WAL, synchronous=FULL) and a `LiveHub`: the pre-filter, the parse of what
  could matter, the tag check, the store's count-once (dedupe) and uncount of deletions;
- baseline: stdlib `json.loads(raw)` of the same events (a source that parses everything,
  and does nothing else);
- and, for reference only, `orjson.loads(raw)` of the same events.

Each is run `--repeat` times (ours on a fresh store each time) and the best run is kept.
Afterwards the counted total (the source's health and the store's minute buckets) must
equal the distinct tagged posts minus the deleted ones, or the bench fails (exit 1). The
store's temp dirs go in `--data-dir` (default: the system's temp dir); the figures depend
on its fsync, as a deployment's do. The output ends with one line:

    RESULT ingest_events_per_s=... baseline_events_per_s=... ratio=...

(ratio: ours over the baseline). Targets: at least 50,000 events a second, ratio at
least 1.5.

The mix, per 1,000 events: 10 posts with the hashtag (in the text and a tag facet, in any
case; a few in full-width letters or only in the record's `tags`), of which 1 in 10 is
replayed later (at-least-once delivery) and 1 in 10 deleted later; 1 near miss (a longer
hashtag or a link holding the tag's letters: parsed, not counted); about 790 other posts
of varied length and language (English, Spanish, Portuguese, German, French, Japanese,
Korean, with emoji, other hashtags, replies, images, quotes); 50 deletions (mostly of
other posts); 80 likes and 40 reposts (which a posts-only subscriber would not get, kept
as a margin); 20 identity and account events.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import orjson  # noqa: E402
import uvloop  # noqa: E402

from eventrunner.posts.board import BUCKETS, PostBoard  # noqa: E402
from eventrunner.posts.sources.jetstream import JetstreamSource  # noqa: E402
from eventrunner.posts.sources.supervisor import Health  # noqa: E402
from eventrunner.posts.tally import day_window  # noqa: E402
from eventrunner.stores.embedded import EmbeddedStore  # noqa: E402
from eventrunner.topics.hub import LiveHub  # noqa: E402
from tests.peers.jetstream import hashtags  # noqa: E402

HASHTAG = "CommunitiesNotCages"
TARGET_RATE, TARGET_RATIO = 50_000, 1.5
CPU = 0
STEP_US = 330  # about 3,000 events a second, as the real firehose

# What each event is, out of 1,000 (the rest are other posts).
TAGGED, NEAR_MISS, DELETES, LIKES, REPOSTS, IDENTITY = 10, 1, 50, 80, 40, 20
REPLAYED, DELETED = 0.1, 0.1  # of the tagged posts
REPLAY_AFTER, DELETE_AFTER = (200, 20_000), (500, 30_000)  # events later

SENTENCES = {
    "en": [
        "Just finished my morning run and the sky is unreal today.",
        "Can't believe it's already Thursday, this week flew by",
        "Hot take: pineapple on pizza is fine and we all need to move on.",
        "Reading a great thread about city budgets and where the money actually goes.",
        "My cat knocked the coffee off the desk again. Third time this week.",
        "Anyone else watching the game tonight?",
        "New blog post is up, link in bio",
        "The bus was 25 minutes late and nobody said a word about it.",
        "Grateful for the people who showed up for the neighborhood cleanup this weekend!",
        "I have opinions about semicolons; they are mostly good.",
        "lol",
        "this",
        "Working on a new painting, here is a sneak peek.",
        "Local elections matter more than most people think. Check your registration.",
    ],
    "es": [
        "¡Qué día tan bonito para salir a caminar por el parque!",
        "No puedo creer que ya sea diciembre, el año se pasó volando.",
        "Mañana hay reunión del barrio a las 7, ¿alguien más va?",
        "La cola en el consulado fue eterna, pero por fin tengo la cita.",
    ],
    "pt": [
        "Bom dia! Café, pão de queijo e uma playlist nova.",
        "Alguém sabe se a greve dos ônibus continua amanhã?",
        "Terminei o livro e não sei o que sentir ainda.",
    ],
    "de": [
        "Endlich Wochenende. Ich gehe jetzt spazieren und schalte das Handy aus.",
        "Die Bahn ist wieder zu spät, Überraschung.",
        "Schöne Grüße aus München, es schneit schon wieder!",
    ],
    "fr": [
        "Quelle journée ! Je rentre enfin à la maison.",
        "Le marché de Noël ouvre ce week-end, qui vient ?",
    ],
    "ja": [
        "今日は雨ですね。傘を忘れました。",
        "新しいカフェに行ってきた\uff01ケーキが美味しかった",
        "明日のライブ楽しみすぎる",
        "おはようございます。今日も一日がんばりましょう。",
        "これ本当に面白いから見てほしい\uff1f",  # full-width question mark
        "今日の気温は\uff11\uff12度でした",  # full-width digits
        "次の電車は\uff11\uff10\uff1a\uff13\uff10発です",
    ],
    "ko": [
        "오늘 날씨가 정말 좋네요!",
        "퇴근하고 치킨 먹을 거예요",
        "이 노래 너무 좋아서 계속 듣고 있어요",
    ],
}
LANG_WEIGHTS = {"en": 60, "es": 7, "pt": 9, "de": 5, "fr": 3, "ja": 12, "ko": 4}
EMOJI = ["😂", "❤️", "🔥", "🙏", "✨", "😭", "👀", "🌈", "☕", "🏳️‍🌈", "👍🏽", "🎉"]
OTHER_TAGS = ["#bluesky", "#art", "#photography", "#news", "#BookSky", "#caturday", "#NowPlaying", "#日本"]
TAGGED_TEXTS = [
    "Rally at the ICE office now! #{tag}",
    "Hundreds of us outside the detention center tonight. Bring water. #{tag} #immigration",
    "#{tag} vigil starts at 7pm, candles provided",
    "Our neighbors belong here. #{tag} ✊🏽",
    "Estamos aquí y no nos vamos. #{tag} #SiSePuede",
    "Livestream is up, watch and share #{tag}",
]


B32 = "234567abcdefghijklmnopqrstuvwxyz"


def tid(time_us: int, clock_id: int = 0) -> str:
    """An atproto TID (as tests/peers/jetstream.py's, a little faster)."""
    n = (time_us << 10) | clock_id
    return "".join(B32[(n >> shift) & 31] for shift in (60, 55, 50, 45, 40, 35, 30, 25, 20, 15, 10, 5, 0))


@dataclass
class Stream:
    events: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    counted: set[str] = field(default_factory=set)  # what the source should hold at the end
    tagged: set[str] = field(default_factory=set)  # distinct tagged posts created
    deleted: set[str] = field(default_factory=set)  # tagged posts deleted afterwards

    def add(self, kind: str, event: dict[str, Any] | str) -> str:
        raw = event if isinstance(event, str) else orjson.dumps(event).decode()  # raw UTF-8, as Jetstream
        self.events.append(raw)
        self.kinds[kind] = self.kinds.get(kind, 0) + 1
        return raw


class Maker:
    """Jetstream v1 events, shaped as tests/peers/jetstream.py builds them (and as the
    reference's wire lines are), quick enough to make 200,000."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cids = ["bafyrei" + "".join(rng.choices(B32, k=52)) for _ in range(4096)]
        self.dids = [f"did:plc:{''.join(rng.choices(B32, k=24))}" for _ in range(20_000)]
        self.refs = [self._ref(n) for n in range(8192)]  # posts that replies, likes and quotes point at
        self._iso: dict[int, str] = {}

    def _ref(self, n: int) -> dict[str, str]:
        at_us = int(time.time() * 1_000_000) - self.rng.randint(10**6, 10**11)
        uri = f"at://{self.rng.choice(self.dids)}/app.bsky.feed.post/{tid(at_us, n % 1024)}"
        return {"cid": self.cid(), "uri": uri}

    def cid(self) -> str:
        return self.rng.choice(self.cids)

    def iso(self, time_us: int) -> str:
        second = time_us // 1_000_000
        prefix = self._iso.get(second)
        if prefix is None:
            prefix = self._iso[second] = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        return f"{prefix}.{time_us // 1000 % 1000:03d}Z"

    def commit(self, did: str, time_us: int, operation: str, collection: str, rkey: str, **rest: Any) -> dict:
        commit = {"rev": tid(time_us, 1), "operation": operation, "collection": collection, "rkey": rkey}
        return {"did": did, "time_us": time_us, "kind": "commit", "commit": commit | rest}

    def post(
        self, did: str, rkey: str, text: str, time_us: int, lang: str, tags: list[str] | None = None
    ) -> dict:
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "createdAt": self.iso(time_us - 200_000),
            "langs": [lang],
            "text": text,
        }
        if "#" in text or "\uff03" in text:
            facets = [
                {
                    "index": {"byteStart": start, "byteEnd": end},
                    "features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
                }
                for start, end, tag in hashtags(text)
            ]
            if facets:
                record["facets"] = facets
        if tags:
            record["tags"] = tags
        rng = self.rng
        if rng.random() < 0.3:
            parent = rng.choice(self.refs)
            root = parent if rng.random() < 0.5 else rng.choice(self.refs)
            record["reply"] = {"parent": parent, "root": root}
        roll = rng.random()
        if roll < 0.15:
            images = [
                {
                    "alt": rng.choice(("", "A photo of the street at dusk", "screenshot")),
                    "aspectRatio": {"height": 1536, "width": 2048},
                    "image": {
                        "$type": "blob",
                        "ref": {"$link": self.cid()},
                        "mimeType": "image/jpeg",
                        "size": rng.randint(100_000, 900_000),
                    },
                }
                for _ in range(rng.randint(1, 4))
            ]
            record["embed"] = {"$type": "app.bsky.embed.images", "images": images}
        elif roll < 0.22:
            record["embed"] = {"$type": "app.bsky.embed.record", "record": rng.choice(self.refs)}
        return self.commit(did, time_us, "create", "app.bsky.feed.post", rkey, record=record, cid=self.cid())

    def delete(self, did: str, rkey: str, time_us: int, collection: str = "app.bsky.feed.post") -> dict:
        return self.commit(did, time_us, "delete", collection, rkey)

    def subject(self, did: str, rkey: str, time_us: int, collection: str) -> dict:
        created = self.iso(time_us - 200_000)
        record = {"$type": collection, "createdAt": created, "subject": self.rng.choice(self.refs)}
        return self.commit(did, time_us, "create", collection, rkey, record=record, cid=self.cid())

    def identity(self, did: str, time_us: int, seq: int) -> dict:
        if self.rng.random() < 0.5:
            body = {"did": did, "handle": f"{did[8:16]}.bsky.social", "seq": seq, "time": self.iso(time_us)}
            return {"did": did, "time_us": time_us, "kind": "identity", "identity": body}
        body = {"active": self.rng.random() < 0.9, "did": did, "seq": seq, "time": self.iso(time_us)}
        return {"did": did, "time_us": time_us, "kind": "account", "account": body}


def build(count: int, seed: int) -> Stream:
    """`count` events as JSON text, in the order the firehose would send them."""
    rng = random.Random(seed)
    make = Maker(rng)
    dids = make.dids
    langs, weights = list(LANG_WEIGHTS), list(LANG_WEIGHTS.values())
    stream = Stream()
    later: dict[int, list[tuple[str, str, dict[str, Any] | str]]] = {}  # position -> (kind, key, event)
    others: list[tuple[str, str]] = []  # (did, rkey) of other posts, some deleted later
    time_us = int(time.time() * 1_000_000) - count * STEP_US  # ends about now

    def other_text(lang: str) -> str:
        pool = SENTENCES[lang]
        text = " ".join(rng.choice(pool) for _ in range(rng.choice((1, 1, 1, 2, 2, 3, 5))))
        if rng.random() < 0.25:
            text += " " + "".join(rng.choices(EMOJI, k=rng.randint(1, 3)))
        if rng.random() < 0.12:
            text += " " + " ".join(rng.sample(OTHER_TAGS, rng.randint(1, 3)))
        return text[:300]

    def tagged_text() -> tuple[str, list[str] | None]:
        roll = rng.random()
        if roll < 0.04:  # typed in full-width letters (NFKC folds them)
            wide = "".join(chr(ord(c) + 0xFEE0) for c in HASHTAG)
            return f"今夜集会があります \uff03{wide}", None
        if roll < 0.08:  # only in the record's extra tags, not in the text
            return "Outside the courthouse with everyone 📣", [HASHTAG]
        tag = rng.choice((HASHTAG, HASHTAG, HASHTAG.lower(), HASHTAG.upper()))
        return rng.choice(TAGGED_TEXTS).format(tag=tag), None

    position = 0
    while len(stream.events) < count:
        for kind, key, event in later.pop(position, []):
            if len(stream.events) < count:
                if isinstance(event, dict):
                    event["time_us"] = time_us  # sent now
                stream.add(kind, event)
                if kind == "delete tagged":
                    stream.counted.discard(key)
                    stream.deleted.add(key)
        position += 1
        if len(stream.events) >= count:
            break
        time_us += rng.randint(1, 2 * STEP_US)
        did = rng.choice(dids)
        rkey = tid(time_us - rng.randint(0, 2_000_000), rng.randrange(1024))
        lang = rng.choices(langs, weights)[0]
        roll = rng.randrange(1000)
        if roll < TAGGED:
            text, extra = tagged_text()
            raw = stream.add("tagged post", make.post(did, rkey, text, time_us, lang, extra))
            key = f"{did}/{rkey}"
            stream.tagged.add(key)
            stream.counted.add(key)
            if rng.random() < DELETED:
                at = position + rng.randint(*DELETE_AFTER)
                later.setdefault(at, []).append(("delete tagged", key, make.delete(did, rkey, time_us)))
            elif rng.random() < REPLAYED / (1 - DELETED):
                at = position + rng.randint(*REPLAY_AFTER)
                later.setdefault(at, []).append(("replayed tagged post", key, raw))
        elif roll < TAGGED + NEAR_MISS:
            text = rng.choice(
                (
                    f"#{HASHTAG}Now is trending",
                    f"Info and rides: https://{HASHTAG.lower()}.org/events",
                    f"#{HASHTAG[:11]} and #{HASHTAG[11:]}: {HASHTAG}!",
                )
            )
            stream.add("near miss", make.post(did, rkey, text, time_us, lang))
        elif roll < TAGGED + NEAR_MISS + DELETES:
            if others and rng.random() < 0.9:
                gone_did, gone_rkey = others.pop(rng.randrange(len(others)))
                stream.add("delete", make.delete(gone_did, gone_rkey, time_us))
            else:  # a like taken back
                stream.add("delete", make.delete(did, rkey, time_us, "app.bsky.feed.like"))
        elif roll < TAGGED + NEAR_MISS + DELETES + LIKES:
            stream.add("like", make.subject(did, rkey, time_us, "app.bsky.feed.like"))
        elif roll < TAGGED + NEAR_MISS + DELETES + LIKES + REPOSTS:
            stream.add("repost", make.subject(did, rkey, time_us, "app.bsky.feed.repost"))
        elif roll < TAGGED + NEAR_MISS + DELETES + LIKES + REPOSTS + IDENTITY:
            stream.add("identity/account", make.identity(did, time_us, 4_000_000_000 + position))
        else:
            stream.add("other post", make.post(did, rkey, other_text(lang), time_us, lang))
            others.append((did, rkey))
            if len(others) > 50_000:
                others.pop(0)
    if not stream.tagged:
        raise SystemExit("ingest: too few events for a tagged post; use --events 10000 or more")
    return stream


async def ours(events: list[str], data_dir: Path) -> tuple[float, Health, int]:
    """events/s through the source; its health; what the store's minute buckets hold."""
    store = EmbeddedStore(data_dir)
    try:
        clock = lambda: int(time.time() * 1000)  # noqa: E731
        hub = LiveHub(clock)
        day = day_window(datetime.now(UTC).date(), "UTC")
        board = PostBoard(store.collections, hub, clock, HASHTAG, None, lambda: day, shared=False)
        await board.load()
        source = JetstreamSource("wss://jetstream.invalid/subscribe", board, HASHTAG)
        health = Health(source.name, source.platform)
        take = source.take
        start = time.perf_counter()
        for raw in events:
            work = take(raw, health)  # as the source's own read loop does
            if work is not None:
                await work
        await source.drain()  # every count and uncount kept: timed too
        elapsed = time.perf_counter() - start
        await board.close()
        buckets = await store.collections.counts(BUCKETS)
        kept = sum(value for key, value in buckets.items() if key.startswith("bluesky:"))
        return len(events) / elapsed, health, kept
    finally:
        await store.close()


def parse_all(events: list[str], loads: Any) -> float:
    start = time.perf_counter()
    for raw in events:
        loads(raw)
    return len(events) / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the best is kept")
    parser.add_argument("--seed", type=int, default=20261124)
    parser.add_argument("--data-dir", type=Path, default=None, help="where the store's temp dirs go")
    opts = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {CPU % (os.cpu_count() or 1)})

    built = time.perf_counter()
    stream = build(opts.events, opts.seed)
    events = stream.events
    sizes = sorted(len(raw.encode()) for raw in events)
    expected = len(stream.counted)
    print(
        f"ingest: {len(events):,} events built in {time.perf_counter() - built:.1f} s "
        f"({sum(sizes) / len(sizes):,.0f} bytes on average, median {sizes[len(sizes) // 2]:,}, "
        f"max {sizes[-1]:,}); to count: {len(stream.tagged)} tagged posts - {len(stream.deleted)} deleted "
        f"= {expected}"
    )
    for kind, n in sorted(stream.kinds.items(), key=lambda item: -item[1]):
        print(f"  {kind:22} {n:8,}  {100 * n / len(events):5.2f} %")

    # How many the source's pre-filter sends on to the parser (not timed; a private method,
    # so the line is left out if the source no longer has it).
    probe = JetstreamSource("wss://jetstream.invalid/subscribe", None, HASHTAG)  # type: ignore[arg-type]
    might_matter = getattr(probe, "_might_matter", None)
    if might_matter is not None:
        parsed = sum(1 for raw in events if might_matter(raw))
        share = 100 * parsed / len(events)
        print(f"  parsed by the source (could hold the tag, or a deletion): {parsed:,} ({share:.2f} %)")

    rates: dict[str, float] = {}
    root = Path(tempfile.mkdtemp(prefix="ingest-", dir=opts.data_dir))
    try:
        for run in range(opts.repeat):
            gc.collect()
            rate, health, kept = uvloop.run(ours(events, root / f"run{run}"))
            if health.counted != expected or kept != expected or health.skipped:
                print(
                    f"ingest: WRONG: the source counted {health.counted} (the store holds {kept}, "
                    f"{health.skipped} skipped), expected {expected}",
                    file=sys.stderr,
                )
                return 1
            rates["ours"] = max(rates.get("ours", 0.0), rate)
            gc.collect()
            rates["json.loads"] = max(rates.get("json.loads", 0.0), parse_all(events, json.loads))
            gc.collect()
            rates["orjson.loads"] = max(rates.get("orjson.loads", 0.0), parse_all(events, orjson.loads))
    finally:
        shutil.rmtree(root, ignore_errors=True)

    ours_rate, base = rates["ours"], rates["json.loads"]
    ratio = ours_rate / base
    print(f"\n  {'path':38} {'events/s':>10}  {'µs/event':>8}")
    described = {
        "ours": "ours: take() + embedded store",
        "json.loads": "baseline: json.loads",
        "orjson.loads": "reference: orjson.loads (not in RESULT)",
    }
    for name, rate in rates.items():
        print(f"  {described[name]:38} {rate:10,.0f}  {1e6 / rate:8.2f}")
    print(f"  counted {expected} of {len(events):,} events (checked: the source's health and the store)")
    rate_ok, ratio_ok = ours_rate >= TARGET_RATE, ratio >= TARGET_RATIO
    print(
        f"  target: at least {TARGET_RATE:,} events/s: {'met' if rate_ok else 'MISSED'}; "
        f"ratio at least {TARGET_RATIO}: {'met' if ratio_ok else 'MISSED'} ({ratio:.2f})"
    )
    print(f"RESULT ingest_events_per_s={ours_rate:.0f} baseline_events_per_s={base:.0f} ratio={ratio:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
