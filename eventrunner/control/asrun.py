"""The as-run log: what the show actually did, one entry for each change a command saved
(a producer's, the API's, the autopilot's), with who, when, and the planned and actual
times of the segment at that moment.

Entries are records of kind "asrun" in the store's collections, so they survive restarts
and every process of a Redis show reads the same log. Each process writes the entries of
the commands it saved itself; the record id is the show version, which only grows (across
restarts and resets too), so an id never repeats.

Paging by version with the contract as it is: `records` reads a status in insertion
order, at most `limit` at a time. So a record's status is its page of PAGE versions
("p0", "p1", ...): one read holds a whole page, which is sorted here by version (with
several processes, records may arrive slightly out of order).

Writing an entry never holds up or fails the show: it is a task of its own, and a store
error is logged (a few lines a minute), never raised into the dispatcher.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from eventrunner.access.offenders import OffenderLog
from eventrunner.control.commands import Command
from eventrunner.control.dispatcher import Dispatcher
from eventrunner.core import timetext
from eventrunner.core.plan import cue_ids
from eventrunner.core.schedule import (
    Cue,
    LowerThirdCue,
    QuoteCue,
    ScheduleModel,
    StatCue,
)
from eventrunner.core.show import SegmentTiming, ShowState
from eventrunner.stores.contract import Collections

log = logging.getLogger(__name__)

KIND = "asrun"
PAGE = 1000  # versions a status holds, and entries an answer holds at most
LABEL_CHARS = 120
CLOSE_WAIT_S = 5.0
# The dispatcher's `source` ("console:3f2a1b", "api", "autopilot") as people say it.
SLOT_NAMES = {"lower_third": "lower third", "card": "card", "cta": "call to action"}

Entry = dict[str, Any]


def who_of(source: str) -> str:
    """'graphics:3fa9c1' -> 'graphics': the dispatcher's source names the console's role
    (or 'api', 'autopilot', 'server') before the colon."""
    return source.split(":", 1)[0]


def page_status(version: int) -> str:
    return f"p{version // PAGE}"


def duration(ms: int) -> str:
    """'1 h 5 min', '2 min 5 s', '30 s' (the size only; callers say which way)."""
    seconds = round(abs(ms) / 1000)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    return f"{seconds} s"


def _off_by(ms: int, late: str, early: str) -> str:
    if round(ms / 1000) == 0:
        return "on time"
    return f"{duration(ms)} {late if ms > 0 else early}"


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


class _Names:
    """Titles and cue labels as the schedule writes them, placeholders as times."""

    def __init__(self, model: ScheduleModel, state: ShowState) -> None:
        self.zone = timetext.zone_of(model.event.timezone)
        self.times = {s.id: (s.planned_start, s.planned_end) for s in state.segments}
        self.titles = {segment.id: segment.title for segment in model.segments}
        self.cues: dict[str, Cue] = {
            cue_id: cue
            for segment in model.segments
            for cue, cue_id in zip(segment.cues, cue_ids(segment.id, segment.cues), strict=True)
        }

    def text(self, text: str) -> str:
        return _shorten(timetext.render(text, self.times, self.zone))

    def title(self, segment_id: str) -> str:
        return self.text(self.titles.get(segment_id, segment_id))

    def cue(self, cue_id: str) -> str:
        cue = self.cues.get(cue_id)
        if cue is None:
            return cue_id
        if isinstance(cue, LowerThirdCue):
            text = cue.name + (f" — {cue.role}" if cue.role else "")
        elif isinstance(cue, StatCue):
            text = f"{cue.figure} {cue.label}"
        elif isinstance(cue, QuoteCue):
            text = f"“{cue.text}” — {cue.attribution}"
        else:
            text = cue.text
        return self.text(text)

    def time(self, ms: int) -> str:
        return timetext.clock_time(ms, self.zone)

    def iso(self, ms: int) -> str:
        return timetext.local_time(ms, self.zone).isoformat(timespec="milliseconds")


def _segment(timing: SegmentTiming, names: _Names) -> Entry:
    block: Entry = {
        "id": timing.id,
        "title": names.title(timing.id),
        "planned_start": timing.planned_start,
        "planned_end": timing.planned_end,
    }
    if timing.actual_start is not None:
        block["actual_start"] = timing.actual_start
        block["late_ms"] = timing.actual_start - timing.planned_start
    if timing.actual_end is not None:
        block["actual_end"] = timing.actual_end
        block["over_ms"] = timing.actual_end - timing.planned_end
    return block


def _graphic(slot: str, cue_id: str, names: _Names) -> Entry:
    return {"slot": slot, "cue": cue_id, "label": names.cue(cue_id)}


def build_entry(
    model: ScheduleModel,
    command: str,
    args: dict[str, Any],
    who: str,
    before: ShowState | None,
    after: ShowState,
    at: int,
) -> Entry:
    """The entry for the change from `before` to `after` (None: the show was opened)."""
    names = _Names(model, after)
    earlier = {s.id: s for s in before.segments} if before is not None else {}
    said: list[str] = []
    if before is None:
        said.append("show opened")
    elif command == "reset":
        said.append("back to the plan")

    # Segments that left the air in this change, then what is on air (or next) now.
    ended: list[SegmentTiming] = []
    for segment in after.segments:
        end = segment.actual_end
        if end is not None and (segment.id not in earlier or earlier[segment.id].actual_end != end):
            ended.append(segment)
            over = _off_by(end - segment.planned_end, "over", "under")
            said.append(f"{names.title(segment.id)} off air ({over})")
    current = after.segment
    was = (before.phase, before.segment.id) if before is not None else None
    if after.phase == "live" and was != ("live", current.id):
        late = _off_by((current.actual_start or at) - current.planned_start, "late", "early")
        said.append(f"{names.title(current.id)} on air (started {late})")
    elif after.phase in ("pending", "gap") and was != (after.phase, current.id):
        said.append(f"next: {names.title(current.id)} at {names.time(current.planned_start)}")
    elif after.phase == "ended" and (before is None or before.phase != "ended"):
        said.append("show ended")

    graphics_before = before.graphics if before is not None else {}
    taken = [
        _graphic(slot, g.cue, names)
        for slot, g in after.graphics.items()
        if slot not in graphics_before or graphics_before[slot] != g
    ]
    cleared = [
        _graphic(slot, g.cue, names) for slot, g in graphics_before.items() if slot not in after.graphics
    ]
    cue = after.current_cue
    was_cue = before.current_cue if before is not None else None
    if (
        cue is not None
        and (was_cue is None or was_cue.id != cue.id)
        and all(g["cue"] != cue.id for g in taken)
    ):
        said.append(f"cue: {names.cue(cue.id)}")  # a graphic's cue is said with its slot below
    if before is not None and before.held != after.held:
        said.append("held" if after.held else "resumed")

    if before is not None and command != "reset":
        moved = earlier.get(current.id)
        if moved is not None and moved.planned_end != current.planned_end:
            said.append(
                f"{names.title(current.id)} planned to end {names.time(current.planned_end)}"
                f" (was {names.time(moved.planned_end)})"
            )
        shifted = [
            s
            for s in after.segments
            if s.id != current.id and s.id in earlier and earlier[s.id].planned_start != s.planned_start
        ]
        if shifted:
            by = shifted[0].planned_start - earlier[shifted[0].id].planned_start
            said.append(f"{len(shifted)} later segment(s) moved {_off_by(by, 'later', 'earlier')}")

    said += [f"{SLOT_NAMES.get(g['slot'], g['slot'])} on air: {g['label']}" for g in taken]
    said += [f"{SLOT_NAMES.get(g['slot'], g['slot'])} off air" for g in cleared]

    entry: Entry = {
        "version": after.version,
        "at": at,
        "at_iso": names.iso(at),
        "who": who,
        "command": command,
        "what": "; ".join(said) or "no change on air",
        "phase": after.phase,
        "held": after.held,
        "segment": _segment(current, names),
    }
    if args:
        entry["args"] = args
    if cue is not None:
        entry["cue"] = {"id": cue.id, "label": names.cue(cue.id)}
    if taken:
        entry["taken"] = taken
    if cleared:
        entry["cleared"] = cleared
    others = [s for s in ended if s.id != current.id]
    if others:  # the one that left the air last, when another one is on air now
        entry["ended"] = _segment(max(others, key=lambda s: s.actual_end or 0), names)
    return entry


class AsRunLog:
    def __init__(self, dispatcher: Dispatcher, collections: Collections, opened: bool = False) -> None:
        """`opened`: this start opened a new show (or reset one): its first state is logged."""
        self.dispatcher = dispatcher
        self.collections = collections
        self.opened = opened
        self.problems = OffenderLog(log, per_minute=5)
        self._writes: set[asyncio.Task[None]] = set()
        dispatcher.on_command(self._saved)

    # --- writing ---------------------------------------------------------------------------

    def _saved(self, command: Command, source: str, before: ShowState, after: ShowState) -> None:
        """The dispatcher's hook, inside its lock: only note the instant and hand over."""
        name = str(getattr(command, "command", type(command).__name__))
        args = command.model_dump(exclude={"command", "if_version"}, exclude_none=True)
        at = self.dispatcher.clock()
        self._write_soon(name, args, who_of(source), before, after, at)

    async def start(self) -> None:
        if self.opened:
            self._write_soon("open", {}, "server", None, self.dispatcher.state, self.dispatcher.clock())

    def _write_soon(self, *change: Any) -> None:
        """`change`: build_entry's arguments after the model. The entry is built in the
        task too: the dispatcher's lock is held only to get here."""
        task = asyncio.get_running_loop().create_task(self._write(change), name="asrun-write")
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def _write(self, change: tuple[Any, ...]) -> None:
        try:
            entry = build_entry(self.dispatcher.schedule.model, *change)
            version = int(entry["version"])
            await self.collections.insert(KIND, str(version), page_status(version), entry, int(entry["at"]))
        except Exception as error:  # the log is a record of the show, never a reason to stop it
            self.problems.note("as-run entry not kept: %s: %s", type(error).__name__, error)

    async def settled(self, wait_s: float) -> None:
        """Wait (at most `wait_s`) for the entries this process is writing now."""
        if self._writes:
            await asyncio.wait(set(self._writes), timeout=wait_s)

    async def close(self) -> None:
        await self.settled(CLOSE_WAIT_S)

    # --- reading ---------------------------------------------------------------------------

    async def _page(self, page: int) -> list[Entry]:
        records = await self.collections.records(KIND, page_status(page * PAGE), limit=PAGE)
        return sorted((record.body for record in records), key=lambda entry: int(entry["version"]))

    async def entries(self, since: int | None, limit: int = PAGE) -> tuple[list[Entry], bool]:
        """Entries after version `since`, oldest first, at most `limit`, and whether more
        follow; without `since`, the newest `limit` (newest last)."""
        # One page past this process's version: another process may have saved newer ones.
        last = self.dispatcher.state.version // PAGE + 1
        found: list[Entry] = []
        if since is None:
            for page in range(last, -1, -1):
                found = await self._page(page) + found
                if len(found) >= limit:
                    break
            return found[-limit:], False
        for page in range((since + 1) // PAGE, last + 1):
            found += [entry for entry in await self._page(page) if int(entry["version"]) > since]
            if len(found) > limit:
                break
        return found[:limit], len(found) > limit
