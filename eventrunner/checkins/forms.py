"""What the public may submit: an action to host, and a check-in from one. Untrusted
input, validated into plain values; a problem names its field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from eventrunner.checkins.places import FIELD_OFFICES_BY_ID, STATES, zone_of

ACTION_TYPES = ("rally", "vigil", "press conference", "caravan", "car caravan", "other")
MAX_MESSAGE = 280
MAX_HEADCOUNT = 1_000_000
MAX_ACTION_HOURS = 48
# Real places only: "localtime" would be the server's own zone, "Factory" none at all.
ZONES = frozenset(available_timezones()) - {"localtime", "Factory"}
MAX_DAYS_AWAY = 400  # an action is hosted within about a year of now


def _text(limit: int, required: bool = True) -> Any:
    return Field(min_length=1 if required else 0, max_length=limit)


class ActionForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = _text(120)
    type: Literal["rally", "vigil", "press conference", "caravan", "car caravan", "other"]
    venue: str = _text(120)
    city: str = _text(80)
    state: str = Field(min_length=2, max_length=2)
    field_office: str | None = None
    detention_center: str | None = Field(default=None, max_length=120)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    timezone: str | None = None  # derived from the city and state unless the host names one
    description: str = Field(default="", max_length=1000)
    contact: str = _text(200)  # private: producers only, never in a public answer

    @field_validator("state")
    @classmethod
    def _known_state(cls, value: str) -> str:
        value = value.upper()
        if value not in STATES:
            raise ValueError("a two-letter US state (or DC, PR)")
        return value

    @field_validator("field_office")
    @classmethod
    def _known_office(cls, value: str | None) -> str | None:
        if value is not None and value not in FIELD_OFFICES_BY_ID:
            raise ValueError(f"one of the ICE field offices: {', '.join(FIELD_OFFICES_BY_ID)}")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str | None) -> str | None:
        if value is not None and value not in ZONES:
            raise ValueError("an IANA time zone such as America/Chicago")
        return value

    @model_validator(mode="after")
    def _sensible_times(self) -> ActionForm:
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must come after starts_at")
        if self.ends_at - self.starts_at > timedelta(hours=MAX_ACTION_HOURS):
            raise ValueError(f"an action lasts at most {MAX_ACTION_HOURS} hours")
        if abs(self.starts_at - datetime.now(UTC)) > timedelta(days=MAX_DAYS_AWAY):
            raise ValueError(f"starts_at must be within {MAX_DAYS_AWAY} days of today")
        if self.timezone is None:
            self.timezone = zone_of(self.city, self.state)
        return self

    def record(self) -> dict[str, Any]:
        """The stored body: times as epoch ms, shown in the action's own zone."""
        body = self.model_dump(exclude={"starts_at", "ends_at"})
        body["starts_ms"] = _ms(self.starts_at)
        body["ends_ms"] = _ms(self.ends_at)
        return body


class CheckinForm(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    headcount: int = Field(ge=0, le=MAX_HEADCOUNT, strict=True)
    message: str = Field(default="", max_length=MAX_MESSAGE)


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


def local_time(ms: int, zone: str) -> str:
    """An instant as ISO 8601 in `zone` (what a page shows beside the viewer's time)."""
    return datetime.fromtimestamp(ms / 1000, tz=ZoneInfo(zone)).isoformat(timespec="minutes")
