"""The post count as data: per-minute buckets per platform, the counting window, and the
`posts` topic's views built from them. Pure: every process renders the same views from
the same buckets.

A bucket is keyed `platform:minute` (minute = epoch ms // 60,000, in UTC: a minute is the
same everywhere). Streamed posts add one to their bucket once; a polled count (X) or a
producer's adjustment replaces or adds to its own bucket. Totals are the sum of the
buckets inside the window, so a window that moves (a segment extended) never loses a post.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from eventrunner.core.show import ShowState

MINUTE_MS = 60_000
ADJUSTMENTS = "manual"  # the platform name of producers' adjustments
# Platforms no webhook or recording may claim: X's minutes are replaced by its polls, and
# adjustments are the producers' own.
RESERVED_PLATFORMS = ("x", ADJUSTMENTS)
RATE_MINUTES = 5  # the rate is the mean of the last this many whole minutes
SPARK_MINUTES = 30  # minutes in the public sparkline
CHART_MINUTES = 60  # minutes in the producers' chart


@dataclass(frozen=True)
class Window:
    """The instants the count covers: [start, end) intervals, in order."""

    intervals: tuple[tuple[int, int], ...]

    @property
    def start(self) -> int:
        return self.intervals[0][0]

    @property
    def end(self) -> int:
        return self.intervals[-1][1]

    def covers_minute(self, minute: int) -> bool:
        """Any of the minute is in the window (a segment taken live at 14:02:37 counts
        14:02, its busiest minute)."""
        at = minute * MINUTE_MS
        return any(start < at + MINUTE_MS and at < end for start, end in self.intervals)

    def nearest_minute(self, minute: int) -> int:
        """`minute` if the window covers it, else the window's minute nearest to it."""
        if self.covers_minute(minute):
            return minute
        edges = [
            edge for start, end in self.intervals for edge in (start // MINUTE_MS, (end - 1) // MINUTE_MS)
        ]
        return min(edges, key=lambda edge: abs(edge - minute))


def day_window(day: date, zone: str) -> Window:
    """The calendar day in the event's own zone (23 or 25 hours across a clock change)."""
    tz = ZoneInfo(zone)
    start = datetime.combine(day, time(0), tz)
    end = datetime.combine(day + timedelta(days=1), time(0), tz)
    return Window(((_ms(start), _ms(end)),))


def segments_window(state: ShowState, segment_ids: list[str], now_ms: int) -> Window:
    """The times of the named segments as the show runs them: an extended segment counts
    for longer, and one on air past its planned end (held, over time) until it ends."""
    wanted = set(segment_ids)
    intervals = []
    for segment in state.segments:
        if segment.id not in wanted:
            continue
        end = segment.actual_end or segment.planned_end
        if segment.actual_start is not None and segment.actual_end is None:
            end = max(end, now_ms + MINUTE_MS)  # running: counted until it ends
        intervals.append((segment.actual_start or segment.planned_start, end))
    return Window(tuple(sorted(intervals)))


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def bucket_key(platform: str, at_ms: int) -> str:
    return f"{platform}:{at_ms // MINUTE_MS}"


def split_key(key: str) -> tuple[str, int] | None:
    platform, _, minute = key.rpartition(":")
    return (platform, int(minute)) if platform and minute.lstrip("-").isdigit() else None


@dataclass
class Tally:
    """What the views are built from."""

    hashtag: str
    window: Window
    goal: int | None = None
    buckets: dict[str, int] = field(default_factory=dict)
    sources: list[dict[str, Any]] = field(default_factory=list)  # each source's health
    adjustments: list[dict[str, Any]] = field(default_factory=list)  # newest first
    candidates: list[dict[str, Any]] = field(default_factory=list)  # recent posts, newest first
    top: dict[str, Any] | None = None  # the post producers put on air

    def per_minute(self) -> dict[int, dict[str, int]]:
        """minute -> platform -> count, inside the window. A producer's adjustment always
        counts: made outside the window (the phone bank's tally after the storm), it is
        shown at the window's nearest minute."""
        minutes: dict[int, dict[str, int]] = defaultdict(dict)
        for key, count in self.buckets.items():
            split = split_key(key)
            if split is None or not count:
                continue
            platform, minute = split
            if platform == ADJUSTMENTS:
                minute = self.window.nearest_minute(minute)
            elif not self.window.covers_minute(minute):
                continue
            minutes[minute][platform] = minutes[minute].get(platform, 0) + count
        return minutes


def summary(tally: Tally) -> dict[str, Any]:
    """Totals over the window: what GET /api/posts starts with."""
    by_platform: dict[str, int] = defaultdict(int)
    for counts in tally.per_minute().values():
        for platform, count in counts.items():
            by_platform[platform] += count
    return {"total": sum(by_platform.values()), "by_platform": dict(sorted(by_platform.items()))}


def build_views(tally: Tally, now_ms: int) -> tuple[dict[str, dict[str, Any]], int | None]:
    """Each audience's view now, and when it next changes by time alone (the next minute,
    when the rate and the charts move on), or None once the window is over."""
    minutes = tally.per_minute()
    # Posts as they came: producers' adjustments count in the totals, never in the rate or
    # the charts (a +5,000 correction is not 1,000 posts a minute).
    posted = {m: {p: n for p, n in counts.items() if p != ADJUSTMENTS} for m, counts in minutes.items()}
    now_minute = now_ms // MINUTE_MS
    rate_minutes = [m for m in range(now_minute - RATE_MINUTES, now_minute) if tally.window.covers_minute(m)]
    in_rate = sum(sum(posted.get(m, {}).values()) for m in rate_minutes)
    rate = in_rate / len(rate_minutes) if rate_minutes else 0
    spark_start = now_minute - SPARK_MINUTES + 1
    public: dict[str, Any] = {
        "hashtag": tally.hashtag,
        **summary(tally),
        "rate": round(rate, 1),
        "window": {"start": tally.window.start, "end": tally.window.end},
        "spark": {
            "start": spark_start * MINUTE_MS,
            "counts": [sum(posted.get(m, {}).values()) for m in range(spark_start, now_minute + 1)],
        },
    }
    if tally.goal is not None:
        public["goal"] = tally.goal
    if tally.top is not None:
        public["top"] = dict(tally.top)
    chart_start = now_minute - CHART_MINUTES + 1
    platforms = sorted({platform for counts in posted.values() for platform in counts})
    producer = {
        **public,
        "chart": {
            "start": chart_start * MINUTE_MS,
            "by_platform": {
                platform: [posted.get(m, {}).get(platform, 0) for m in range(chart_start, now_minute + 1)]
                for platform in platforms
            },
        },
        # Copies: the tally's lists change in place, and a view must not change after it
        # was published (the next change is found by comparing with it).
        "sources": [dict(source) for source in tally.sources],
        "adjustments": list(tally.adjustments),
        "candidates": list(tally.candidates),
    }
    next_minute = (now_minute + 1) * MINUTE_MS
    # The charts move on each minute while the window runs and a few minutes after it.
    changes_at = next_minute if now_ms < tally.window.end + RATE_MINUTES * MINUTE_MS else None
    return {"producer": producer, "public": public}, changes_at
