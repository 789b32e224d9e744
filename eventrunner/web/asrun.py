"""The as-run log over HTTP, for producers: `GET /api/asrun` (JSON, paged by version) and
`GET /api/asrun.csv` (all of it, one row an entry, for a spreadsheet)."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from aiohttp import web

from eventrunner.access.auth import ProducerAuth
from eventrunner.access.roles import READERS
from eventrunner.control.asrun import AsRunLog, Entry
from eventrunner.core import timetext
from eventrunner.web.api import error_response, json_response, producer_refusal, store_or_503

# How long an answer waits for entries this process is still writing, so a console that
# heard of version V right away finds its entry.
SETTLE_S = 1.0
SINCE = re.compile(r"\d{1,15}")
# Every console role reads it (a viewer's console is read-only, not blind).
WHY = "the as-run log is for producers and the console's other roles: sign in, or send a Bearer token"
COLUMNS = (
    "version", "at", "at_ms", "who", "command", "what", "phase", "held",
    "segment", "segment_title", "planned_start", "planned_end", "actual_start", "actual_end",
    "late_s", "over_s", "cue", "cue_label", "taken", "cleared",
    "ended_segment", "ended_title", "ended_planned_end", "ended_actual_end", "ended_over_s",
)  # fmt: skip
# A cell a spreadsheet would read as a formula. Titles and labels come from schedule files.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """Text that starts like a formula gets a leading quote; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _seconds(ms: Any) -> int | str:
    return round(ms / 1000) if isinstance(ms, int) else ""


def _graphics(items: list[Entry] | None) -> str:
    return " | ".join(f"{g['slot']}: {g['cue']} ({g['label']})" for g in items or [])


def csv_row(entry: Entry, zone_name: str) -> list[Any]:
    zone = timetext.zone_of(zone_name)

    def iso(ms: Any) -> str:
        return timetext.local_time(ms, zone).isoformat(timespec="milliseconds") if isinstance(ms, int) else ""

    segment: Entry = entry.get("segment", {})
    ended: Entry = entry.get("ended", {})
    cue: Entry = entry.get("cue", {})
    row = [
        entry["version"], entry["at_iso"], entry["at"], entry["who"], entry["command"], entry["what"],
        entry["phase"], "yes" if entry.get("held") else "no",
        segment.get("id", ""), segment.get("title", ""),
        iso(segment.get("planned_start")), iso(segment.get("planned_end")),
        iso(segment.get("actual_start")), iso(segment.get("actual_end")),
        _seconds(segment.get("late_ms")), _seconds(segment.get("over_ms")),
        cue.get("id", ""), cue.get("label", ""),
        _graphics(entry.get("taken")), _graphics(entry.get("cleared")),
        ended.get("id", ""), ended.get("title", ""),
        iso(ended.get("planned_end")), iso(ended.get("actual_end")), _seconds(ended.get("over_ms")),
    ]  # fmt: skip
    return [safe_cell(value) for value in row]


class AsRunRoutes:
    def __init__(self, asrun: AsRunLog, auth: ProducerAuth) -> None:
        self.asrun = asrun
        self.auth = auth

    def register(self, app: web.Application) -> None:
        app.router.add_get("/api/asrun", store_or_503(self.entries))
        app.router.add_get("/api/asrun.csv", store_or_503(self.csv))

        async def start(_: web.Application) -> None:
            await self.asrun.start()

        async def close(_: web.Application) -> None:
            await self.asrun.close()  # before the store closes (registered after this)

        app.on_startup.append(start)
        app.on_cleanup.append(close)

    async def entries(self, request: web.Request) -> web.Response:
        refused = await producer_refusal(self.auth, request, WHY, READERS)
        if refused is not None:
            return refused
        since = request.query.get("since")
        if since is not None and not SINCE.fullmatch(since):
            return error_response(400, "since: a show version, a whole number of at most 15 digits")
        await self.asrun.settled(SETTLE_S)
        found, more = await self.asrun.entries(None if since is None else int(since))
        return json_response({"entries": found, "more": more})

    async def csv(self, request: web.Request) -> web.Response:
        refused = await producer_refusal(self.auth, request, WHY, READERS)
        if refused is not None:
            return refused
        await self.asrun.settled(SETTLE_S)
        event = self.asrun.dispatcher.schedule.model.event
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        since, more = 0, True
        while more:  # every entry, a page at a time
            found, more = await self.asrun.entries(since)
            writer.writerows(csv_row(entry, event.timezone) for entry in found)
            since = int(found[-1]["version"]) if found else since
        # With a byte-order mark: without it, Excel reads UTF-8 (accents, dashes) as Latin-1.
        return web.Response(
            body=("\ufeff" + out.getvalue()).encode(),
            content_type="text/csv",
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="asrun-{event.date.isoformat()}.csv"'},
        )
