"""Schedule files: the YAML a coalition writes for its day, validated into a model.

`load_schedule` returns the validated model and its `Plan`, or raises
`ScheduleError` listing every problem with the line it comes from. It raises nothing
else, whatever the file holds: schedule files are untrusted (core/yamlsource.py).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from eventrunner.core import timetext
from eventrunner.core.languages import Language
from eventrunner.core.plan import Plan, PlanProblem, build_plan
from eventrunner.core.timeparse import parse_duration_ms, parse_local
from eventrunner.core.yamlsource import YamlProblem, line_of, load_yaml, quoted, read_source

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20_000)]
Url = Annotated[str, StringConstraints(pattern=r"^(https?://|mailto:)\S+$", max_length=2000)]

SEGMENT_KINDS = (
    "livestream",
    "action_hour",
    "twitterstorm",
    "local_actions",
    "email_action",
    "call_action",
    "break",
    "other",
)


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _duration(value: Any) -> str | int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("a duration is written like 45m, 1h30m or 20s")
    parse_duration_ms(value)
    return value


Duration = Annotated[str | int, PlainValidator(_duration)]


# Translations: any object with text may carry `translations: {es: {field: text}}`, the
# same fields in another language (a link in Spanish may point to a Spanish page). Lists
# of texts are translated whole on their owner; objects in lists carry their own.
class LinkText(_Model):
    label: Text | None = None
    url: Url | None = None


class Link(_Model):
    label: Text
    url: Url
    kind: Literal["watch", "register", "host", "find", "petition", "toolkit", "info"] = "info"
    translations: dict[Language, LinkText] = {}


class _Cue(_Model):
    id: Slug | None = None
    at: Duration = 0
    take: Literal["auto", "manual"] = "auto"
    on_air: Duration | None = None
    notes: Text | None = None


Figure = Annotated[str, StringConstraints(min_length=1, max_length=40)]


class LowerThirdText(_Model):
    name: Text | None = None
    role: Text | None = None


class LowerThirdCue(_Cue):
    kind: Literal["lower_third"]
    name: Text
    role: Text | None = None
    translations: dict[Language, LowerThirdText] = {}


class StatText(_Model):
    figure: Figure | None = None  # "18.000+" in Spanish
    label: Text | None = None
    source: Text | None = None


class StatCue(_Cue):
    kind: Literal["stat"]
    figure: Figure
    label: Text
    as_of: date
    source: Text
    translations: dict[Language, StatText] = {}


class QuoteText(_Model):
    text: Text | None = None
    attribution: Text | None = None


class QuoteCue(_Cue):
    kind: Literal["quote"]
    text: Text
    attribution: Text
    translations: dict[Language, QuoteText] = {}


class CallToActionText(_Model):
    text: Text | None = None
    url: Url | None = None


class CallToActionCue(_Cue):
    kind: Literal["cta"]
    text: Text
    url: Url | None = None
    translations: dict[Language, CallToActionText] = {}


class NoteCue(_Cue):
    """A producer-only reminder in the rundown (roll a video, switch guests)."""

    kind: Literal["note"]
    text: Text


CUE_KINDS = ("lower_third", "stat", "quote", "cta", "note")
Cue = Annotated[LowerThirdCue | StatCue | QuoteCue | CallToActionCue | NoteCue, Field(discriminator="kind")]


class EmailText(_Model):
    recipients: Text | None = None
    subject: Text | None = None
    body: LongText | None = None


class EmailAction(_Model):
    recipients: Text
    subject: Text
    body: LongText
    # To the viewer's two senators and representative: the page looks them up by ZIP
    # code and fills the letter's [Name] and [CITY/TOWN] placeholders in the browser.
    congress: bool = False
    translations: dict[Language, EmailText] = {}


SamplePost = Annotated[str, StringConstraints(min_length=1, max_length=1000)]


class SegmentText(_Model):
    title: Text | None = None
    description: LongText | None = None
    sample_posts: list[SamplePost] | None = None


class Segment(_Model):
    id: Slug
    title: Text
    kind: Literal[SEGMENT_KINDS]  # type: ignore[valid-type]
    start: Text
    end: Text | None = None
    duration: Duration | None = None
    description: LongText | None = None
    links: list[Link] = []
    sample_posts: list[SamplePost] = []
    email: EmailAction | None = None
    notes: Text | None = None
    cues: list[Cue] = []
    translations: dict[Language, SegmentText] = {}

    @field_validator("start", "end")
    @classmethod
    def _local_time(cls, value: str | None) -> str | None:
        if value is not None:
            parse_local(value, date(2000, 1, 1))
        return value


class AllDayText(_Model):
    title: Text | None = None
    description: LongText | None = None


class AllDayItem(_Model):
    title: Text
    description: LongText | None = None
    links: list[Link] = []
    translations: dict[Language, AllDayText] = {}


class EventText(_Model):
    title: Text | None = None
    summary: LongText | None = None
    demands: list[Text] | None = None


class Event(_Model):
    title: Text
    hashtags: list[Hashtag] = []
    timezone: Text
    date: date
    summary: LongText | None = None
    organizers: list[Text] = []
    demands: list[Text] = []
    links: list[Link] = []
    all_day: list[AllDayItem] = []
    translations: dict[Language, EventText] = {}

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name the file system refuses
            raise ValueError(
                f"unknown time zone {quoted(value)} (use an IANA name like America/New_York)"
            ) from None
        return value

    @model_validator(mode="after")
    def _demands_one_for_one(self) -> Event:
        # Demands are shown side by side with their number on air: a translation
        # that drops or merges one would silently change what the coalition demands.
        for language, text in self.translations.items():
            if text.demands is not None and len(text.demands) != len(self.demands):
                raise ValueError(
                    f"translations.{language}.demands has {len(text.demands)} items and demands has "
                    f"{len(self.demands)}: translate each demand, in the same order"
                )
        return self


Hashtag = Annotated[str, StringConstraints(pattern=r"^#\w{1,100}$")]
WebSocketUrl = Annotated[str, StringConstraints(pattern=r"^wss?://\S+$", max_length=2000)]


class BlueskySource(_Model):
    """Bluesky's Jetstream firehose (posts are filtered here: it cannot filter by tag)."""

    url: WebSocketUrl = "wss://jetstream2.us-east.bsky.network/subscribe"


class MastodonSource(_Model):
    """One Mastodon instance: its hashtag stream with a user token (from the settings),
    else its public tag timeline, polled."""

    instance: Url
    every: Duration = "10s"  # how often to read the tag timeline when there is no token


class XSource(_Model):
    """X's recent counts, polled with a bearer token (from the settings)."""

    api: Url = "https://api.x.com"
    every: Duration = "15s"  # how often to ask: X allows 300 requests per 15 min
    query: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None


class PostSources(_Model):
    bluesky: BlueskySource | None = None
    mastodon: list[MastodonSource] = []
    x: XSource | None = None


class PostCounting(_Model):
    """Live hashtag post counts (the Twitterstorm): what is counted, where, and the goal."""

    hashtag: Hashtag | None = None  # the event's first hashtag unless named
    goal: Annotated[int, Field(ge=1, le=1_000_000_000)] | None = None
    # Segments whose time the count covers; the whole day of the event when empty.
    window: list[Slug] = []
    sources: PostSources = PostSources()


class ScheduleModel(_Model):
    event: Event
    segments: Annotated[list[Segment], Field(min_length=1)]
    posts: PostCounting | None = None


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


MAX_REPORTED = 100  # problems listed; a hostile file can have millions
MAX_MESSAGE = 400  # characters of one problem's message


class ScheduleError(Exception):
    def __init__(self, path: str, problems: list[Problem]) -> None:
        self.path = path
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__("\n".join(self.lines()))

    def lines(self) -> list[str]:
        """One `FILE:LINE: message` line per problem, at most MAX_REPORTED and then a count."""
        lines = [self._line(p.line, p.message) for p in self.problems[:MAX_REPORTED]]
        rest = self.problems[MAX_REPORTED:]
        if rest:
            lines.append(self._line(rest[0].line, f"... and {len(rest)} more problems"))
        return lines

    def _line(self, line: int, message: str) -> str:
        if len(message) > MAX_MESSAGE:
            message = message[: MAX_MESSAGE - 1] + "…"
        return f"{_printable(self.path)}:{line}: {_printable(message)}"


def _printable(text: str) -> str:
    """Control characters from the file (a newline in a key, a terminal escape) written as
    escapes, so each problem is one line and a terminal shows exactly what it says."""
    if text.isprintable():
        return text
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode() for c in text
    )


@dataclass(frozen=True)
class Schedule:
    model: ScheduleModel
    plan: Plan
    source: str
    sha256: str


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def _dotted(path: tuple[Any, ...]) -> str:
    """segments[2].cues[0].text; a key that is not a plain name is quoted: event[' ']."""
    text = ""
    for step in path:
        if isinstance(step, int):
            text += f"[{step}]"
        elif _NAME.fullmatch(str(step)):
            text += f".{step}" if text else str(step)
        else:
            text += f"[{quoted(step)}]"
    return text


def _without_union_tags(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic puts a discriminated union's tag in the location: cues[1].quote.text."""
    return tuple(
        step
        for i, step in enumerate(loc)
        if not (i >= 2 and loc[i - 2] == "cues" and isinstance(loc[i - 1], int) and step in CUE_KINDS)
    )


def _pydantic_problems(data: Any, error: ValidationError) -> list[Problem]:
    problems = []
    for item in error.errors(include_url=False):
        loc = item["loc"]
        kind = item["type"]
        shown = _without_union_tags(loc)
        if kind == "extra_forbidden":
            message = f"unknown key {quoted(loc[-1])}"
        elif kind == "missing":
            message = f"missing key '{loc[-1]}'"
        elif kind == "union_tag_invalid":
            message = (
                f"unknown cue kind {quoted(item['input'].get('kind'))}"
                if isinstance(item["input"], dict)
                else item["msg"]
            )
        else:
            message = item["msg"].removeprefix("Value error, ")
        where = _dotted(shown[:-1] if kind == "missing" else shown)
        problems.append(Problem(line_of(data, loc), f"{where}: {message}" if where else message))
    return problems


def parse_schedule(text: str, source: str) -> Schedule:
    try:
        data = load_yaml(text)
    except YamlProblem as problem:
        raise ScheduleError(source, [Problem(problem.line, problem.message)]) from problem
    if not isinstance(data, dict):
        raise ScheduleError(source, [Problem(1, "a schedule is a mapping with 'event' and 'segments'")])
    try:
        model = ScheduleModel.model_validate(data)
    except ValidationError as error:
        raise ScheduleError(source, _pydantic_problems(data, error)) from error
    problems = _placeholder_problems(data, model) + _posts_problems(data, model)
    try:
        plan = build_plan(model)
    except PlanProblem as problem:
        problems += [Problem(line_of(data, path), f"{_dotted(path)}: {msg}") for path, msg in problem.items]
        raise ScheduleError(source, problems) from problem
    if problems:
        raise ScheduleError(source, problems)
    return Schedule(model, plan, source, hashlib.sha256(text.encode()).hexdigest())


def _placeholder_problems(data: Any, model: ScheduleModel) -> list[Problem]:
    """Every `{start:ID}` / `{end:ID}` in the texts must name a segment (core/timetext.py)."""
    segment_ids = [segment.id for segment in model.segments]
    return [
        Problem(line_of(data, path), f"{_dotted(path)}: {message}")
        for path, value in timetext.texts(model.model_dump(mode="json"))
        for message in timetext.problems(value, segment_ids)
    ]


def _posts_problems(data: Any, model: ScheduleModel) -> list[Problem]:
    """The count's window names segments, and there is a hashtag to count."""
    if model.posts is None:
        return []
    segment_ids = {segment.id for segment in model.segments}
    problems = [
        Problem(line_of(data, ("posts", "window", n)), f"posts.window[{n}]: no segment {quoted(name)}")
        for n, name in enumerate(model.posts.window)
        if name not in segment_ids
    ]
    if model.posts.hashtag is None and not model.event.hashtags:
        problems.append(Problem(line_of(data, ("posts",)), "posts: name a hashtag, or give the event some"))
    return problems


def load_schedule(path: str | Path) -> Schedule:
    try:
        text = read_source(path)
    except YamlProblem as problem:
        raise ScheduleError(str(path), [Problem(problem.line, problem.message)]) from None
    return parse_schedule(text, str(path))
