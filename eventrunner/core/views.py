"""The show document that clients see: schedule content, timing, program and graphics.

Two audiences: `producer` sees everything; `public` (overlays and participants) does
not see producer notes or note cues. Views never contain null, so merge patches between
two versions are exact. The layout is a public interface, documented in docs/PROTOCOL.md.

Texts carry their time placeholders (core/timetext.py) resolved from the segments'
planned times in the state, so they follow the plan the show runs: the demo's shifted
day, and a producer's extend with `shift_rest`.
"""

from __future__ import annotations

from typing import Any, Literal

from eventrunner.core import timetext
from eventrunner.core.plan import cue_ids
from eventrunner.core.schedule import ScheduleModel
from eventrunner.core.show import ShowState, next_transition

Audience = Literal["producer", "public"]
Content = tuple[dict[str, Any], list[dict[str, Any]]]  # (event, rundown)
AUDIENCES: tuple[Audience, ...] = ("producer", "public")
_PRIVATE_KEYS = {"notes"}


def _clean(value: Any, private: bool) -> Any:
    """Drop None values (and, for the public, producer-only keys) all the way down."""
    if isinstance(value, dict):
        return {
            key: _clean(item, private)
            for key, item in value.items()
            if item is not None and (private or key not in _PRIVATE_KEYS)
        }
    if isinstance(value, list):
        return [_clean(item, private) for item in value]
    return value


def _content(model: ScheduleModel, private: bool) -> Content:
    event = model.event.model_dump(mode="json")
    rundown = []
    for segment in model.segments:
        item = segment.model_dump(mode="json", exclude={"cues", "start", "end", "duration"})
        item["cues"] = [
            {**cue.model_dump(mode="json", exclude={"at", "on_air"}), "id": cue_id}
            for cue, cue_id in zip(segment.cues, cue_ids(segment.id, segment.cues), strict=True)
            if private or cue.kind != "note"
        ]
        rundown.append(item)
    return _clean(event, private), _clean(rundown, private)


class DocumentBuilder:
    """Builds each audience's view of a state; schedule content is computed once, and its
    times again only when a segment that a text refers to moves."""

    def __init__(self, model: ScheduleModel) -> None:
        self._zone = timetext.zone_of(model.event.timezone)
        self._templates = {audience: _content(model, audience == "producer") for audience in AUDIENCES}
        self._public_cues = {cue["id"] for segment in self._templates["public"][1] for cue in segment["cues"]}
        self._referenced = sorted(
            {
                segment_id
                for _, text in timetext.texts(list(self._templates["producer"]))
                for segment_id in timetext.referenced(text)
            }
        )
        self._resolved: tuple[tuple[tuple[int, int], ...], dict[Audience, Content]] | None = None

    def _content(self, state: ShowState) -> dict[Audience, Content]:
        times = {s.id: (s.planned_start, s.planned_end) for s in state.segments}
        key = tuple(times.get(segment_id, (0, 0)) for segment_id in self._referenced)
        if self._resolved is None or self._resolved[0] != key:

            def render(text: str, language: str) -> str:
                return timetext.render(text, times, self._zone, language)

            resolved = {
                audience: (timetext.map_texts(event, render), timetext.map_texts(rundown, render))
                for audience, (event, rundown) in self._templates.items()
            }
            self._resolved = (key, resolved)
        return self._resolved[1]

    def _cue_shown(self, state: ShowState, private: bool) -> str | None:
        """The current cue; for the public, the last public cue at or before it, so a
        producer-only note firing changes nothing they can see."""
        if state.current_cue is None or state.cue is None:
            return None
        for cue in reversed(state.segment.cues[: state.cue + 1]):
            if private or cue.id in self._public_cues:
                return cue.id
        return None

    def view(self, state: ShowState, audience: Audience) -> dict[str, Any]:
        event, rundown = self._content(state)[audience]
        private = audience == "producer"
        following = state.index + 1
        program = {
            "phase": state.phase,
            "segment": state.segment.id,
            "cue": self._cue_shown(state, private),
            "next_segment": state.segments[following].id if following < len(state.segments) else None,
            "held": state.held,
            "held_since": state.held_since,
            # Only producers see when the autopilot acts next: it would reveal note cues.
            "next_transition": next_transition(state) if private else None,
        }
        timing_segments = {
            s.id: {
                "planned_start": s.planned_start,
                "planned_end": s.planned_end,
                "actual_start": s.actual_start,
                "actual_end": s.actual_end,
            }
            for s in state.segments
        }
        timing_cues = {
            c.id: {"planned": c.planned, "actual": c.actual}
            for s in state.segments
            for c in s.cues
            if private or c.id in self._public_cues
        }
        return _clean(
            {
                "version": state.version,
                "event": event,
                "rundown": rundown,
                "timing": {"segments": timing_segments, "cues": timing_cues},
                "program": program,
                "graphics": {slot: g.model_dump() for slot, g in state.graphics.items()},
            },
            private=True,
        )
