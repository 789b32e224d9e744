"""The plan: a schedule's segments and cues as absolute instants (epoch milliseconds).

Everything after this module works in epoch ms; only here do wall-clock times in the
event's IANA zone become instants, so neither the server's nor a browser's local zone
ever matters.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from eventrunner.core.timeparse import format_duration, parse_duration_ms, parse_local, to_epoch_ms

if TYPE_CHECKING:
    from .schedule import ScheduleModel

# Which on-air slot each graphic cue kind occupies; taking a cue replaces its slot.
SLOT_OF_KIND = {"lower_third": "lower_third", "stat": "card", "quote": "card", "cta": "cta"}
SLOTS = ("lower_third", "card", "cta")


@dataclass(frozen=True)
class PlannedCue:
    id: str
    offset_ms: int
    slot: str | None
    auto_take: bool
    on_air_ms: int | None


@dataclass(frozen=True)
class PlannedSegment:
    id: str
    start_ms: int
    end_ms: int
    cues: tuple[PlannedCue, ...]


@dataclass(frozen=True)
class Plan:
    segments: tuple[PlannedSegment, ...]

    @property
    def start_ms(self) -> int:
        return self.segments[0].start_ms

    def shifted(self, delta_ms: int) -> Plan:
        return Plan(
            tuple(
                replace(s, start_ms=s.start_ms + delta_ms, end_ms=s.end_ms + delta_ms) for s in self.segments
            )
        )


class PlanProblem(Exception):
    def __init__(self, items: list[tuple[tuple[Any, ...], str]]) -> None:
        super().__init__("; ".join(message for _, message in items))
        self.items = items


def cue_ids(segment_id: str, cues: list[Any]) -> list[str]:
    return [cue.id or f"{segment_id}-{n}" for n, cue in enumerate(cues, start=1)]


def build_plan(model: ScheduleModel) -> Plan:
    problems: list[tuple[tuple[Any, ...], str]] = []
    zone = ZoneInfo(model.event.timezone)  # the schedule model has checked the name

    seen_ids: dict[str, tuple[Any, ...]] = {}

    def claim(identifier: str, path: tuple[Any, ...]) -> None:
        if identifier in seen_ids:
            problems.append((path, f"id '{identifier}' is already used at {_where(seen_ids[identifier])}"))
        else:
            seen_ids[identifier] = path

    segments: list[PlannedSegment] = []
    for index, segment in enumerate(model.segments):
        path: tuple[Any, ...] = ("segments", index)
        claim(segment.id, (*path, "id"))
        try:
            start = to_epoch_ms(parse_local(segment.start, model.event.date), zone)
        except ValueError as error:
            problems.append(((*path, "start"), str(error)))
            continue
        if (segment.end is None) == (segment.duration is None):
            problems.append((path, "give either 'end' or 'duration' (exactly one)"))
            continue
        if segment.end is not None:
            try:
                end = to_epoch_ms(parse_local(segment.end, model.event.date), zone)
            except ValueError as error:
                problems.append(((*path, "end"), str(error)))
                continue
        else:
            end = start + parse_duration_ms(segment.duration)  # type: ignore[arg-type]
        if end <= start:
            problems.append(
                (
                    (*path, "end" if segment.end else "duration"),
                    f"segment '{segment.id}' ends before it starts (to cross midnight, "
                    "write the end with its date: 2022-03-04 00:30)",
                )
            )
            continue
        cues = []
        for cue_index, (cue, cue_id) in enumerate(
            zip(segment.cues, cue_ids(segment.id, segment.cues), strict=True)
        ):
            cue_path = (*path, "cues", cue_index)
            claim(cue_id, (*cue_path, "id"))
            offset = parse_duration_ms(cue.at)
            if offset >= end - start:
                problems.append(
                    (
                        (*cue_path, "at"),
                        f"cue at {format_duration(offset)} is not inside the "
                        f"segment ({format_duration(end - start)} long)",
                    )
                )
            if cues and offset < cues[-1].offset_ms:
                problems.append(((*cue_path, "at"), "cues must be listed in time order"))
            slot = SLOT_OF_KIND.get(cue.kind)
            if slot is None and cue.on_air is not None:
                problems.append(((*cue_path, "on_air"), "only graphic cues go on air"))
            on_air = parse_duration_ms(cue.on_air) if cue.on_air is not None else None
            cues.append(PlannedCue(cue_id, offset, slot, cue.take == "auto", on_air))
        if segments and start < segments[-1].end_ms:
            previous = model.segments[index - 1]
            if start < segments[-1].start_ms:
                problems.append(
                    (
                        (*path, "start"),
                        "segments must be listed in time order "
                        f"('{segment.id}' starts before '{previous.id}')",
                    )
                )
            else:
                problems.append(
                    (
                        (*path, "start"),
                        f"segment '{segment.id}' overlaps '{previous.id}', which is still running then",
                    )
                )
        segments.append(PlannedSegment(segment.id, start, end, tuple(cues)))
    if problems:
        raise PlanProblem(problems)
    return Plan(tuple(segments))


def _where(path: tuple[Any, ...]) -> str:
    return "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path[:-1]).lstrip(".")
