"""An X API v2 peer on loopback serving `GET /2/tweets/counts/recent` from per-minute counts.

Buckets follow X: the first starts at start_time and the last ends at end_time (either may be
partial); the ones between align to the minute, hour or UTC day. A minute's count goes to the
bucket holding its start (clamped to start_time), so a partial first bucket still counts the
minute start_time falls in. The rate-limit window runs on `peer.now`, like everything else here.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from .loopback import LoopbackPeer

STEPS = {"minute": timedelta(minutes=1), "hour": timedelta(hours=1), "day": timedelta(days=1)}
UNAUTHORIZED = {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}
TOO_MANY = {"title": "Too Many Requests", "type": "about:blank", "status": 429, "detail": "Too Many Requests"}


def stamp(moment: datetime) -> str:
    """X's timestamp form: 2026-10-15T18:00:00.000Z."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _floor(moment: datetime, granularity: str) -> datetime:
    moment = moment.replace(second=0, microsecond=0)
    if granularity != "minute":
        moment = moment.replace(minute=0)
    return moment.replace(hour=0) if granularity == "day" else moment


def _invalid(parameter: str, value: str, message: str) -> web.Response:
    body = {
        "errors": [{"parameters": {parameter: [value] if value else []}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }
    return web.json_response(body, status=400)


class XCountsPeer(LoopbackPeer):
    """Recent post counts the test sets in `minutes`, behind a bearer token and a rate limit."""

    def __init__(self, token: str = "x-app-bearer") -> None:
        super().__init__()
        self.token = token
        self.minutes: dict[datetime, int] = {}
        self.field = "tweet_count"
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.limit_per_window = 300
        self.window_s = 900
        self.requests: list[dict[str, list[str]]] = []
        self._window_start: datetime | None = None
        self._used = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/2/tweets/counts/recent", self._counts)

    def _rate(self, now: datetime) -> tuple[bool, dict[str, str]]:
        """Count one request in the current window; (allowed, x-rate-limit-* headers)."""
        if self._window_start is None or now >= self._window_start + timedelta(seconds=self.window_s):
            self._window_start, self._used = now, 0
        allowed = self._used < self.limit_per_window
        if allowed:
            self._used += 1
        reset = int((self._window_start + timedelta(seconds=self.window_s)).timestamp())
        headers = {
            "x-rate-limit-limit": str(self.limit_per_window),
            "x-rate-limit-remaining": str(self.limit_per_window - self._used),
            "x-rate-limit-reset": str(reset),
        }
        return allowed, headers

    async def _counts(self, request: web.Request) -> web.Response:
        query = request.query
        self.requests.append({key: query.getall(key) for key in dict.fromkeys(query)})
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response(UNAUTHORIZED, status=401)
        now = self.now()
        allowed, headers = self._rate(now)
        if not allowed:
            return web.json_response(TOO_MANY, status=429, headers=headers)
        answer = self._answer(query, now)
        answer.headers.update(headers)
        return answer

    def _answer(self, query: Any, now: datetime) -> web.Response:
        if not query.get("query"):
            return _invalid("query", "", "The `query` query parameter can not be empty")
        granularity = query.get("granularity", "hour")
        if granularity not in STEPS:
            return _invalid(
                "granularity",
                granularity,
                f"The `granularity` query parameter value [{granularity}] is not one of [minute,hour,day]",
            )
        times: dict[str, datetime] = {}
        for name in ("start_time", "end_time"):
            if query.get(name):
                try:
                    parsed = datetime.fromisoformat(query[name])
                except ValueError:
                    return _invalid(
                        name, query[name], f"Invalid '{name}':'{query[name]}'. Not an RFC 3339 timestamp"
                    )
                times[name] = parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
        end = times.get("end_time", now - timedelta(seconds=30))
        start = times.get("start_time", now - timedelta(days=7))
        if end > now - timedelta(seconds=10):
            return _invalid(
                "end_time",
                query["end_time"],
                "'end_time' must be a minimum of 10 seconds prior to the request time.",
            )
        if start < now - timedelta(days=7):
            return _invalid(
                "start_time",
                query["start_time"],
                f"'start_time' must be on or after {stamp(now - timedelta(days=7))}",
            )
        if start >= end:
            return _invalid(
                "start_time", query.get("start_time", ""), "'start_time' must be before 'end_time'"
            )
        data = self._buckets(start, end, granularity)
        total = sum(bucket[self.field] for bucket in data)
        return web.json_response({"data": data, "meta": {f"total_{self.field}": total}})

    def _buckets(self, start: datetime, end: datetime, granularity: str) -> list[dict[str, Any]]:
        edges = [start]
        edge = _floor(start, granularity) + STEPS[granularity]
        while edge < end:
            edges.append(edge)
            edge += STEPS[granularity]
        edges.append(end)
        counts = [0] * (len(edges) - 1)
        first_minute = _floor(start, "minute")
        for minute, count in self.minutes.items():
            if first_minute <= minute < end:
                counts[bisect.bisect_right(edges, max(minute, start)) - 1] += count
        return [
            {"start": stamp(lo), "end": stamp(hi), self.field: n}
            for lo, hi, n in zip(edges, edges[1:], counts, strict=False)
        ]
