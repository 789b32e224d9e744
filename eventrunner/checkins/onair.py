"""What the check-in overlays put on air, as producers set it: an on-air delay (a check-in
reaches the overlays this long after it was approved, so a producer can still hide it),
a kill switch that takes every check-in graphic off air at once, and the action shown
in the spotlight card."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_DELAY_S = 600


class AirSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    delay_s: int = Field(default=0, ge=0, le=MAX_DELAY_S, strict=True)
    killed: bool = Field(default=False, strict=True)
    spotlight: str | None = Field(default=None, min_length=1, max_length=40)  # an action's id

    def changed_by(self, changes: dict[str, Any]) -> dict[str, Any]:
        """The settings with `changes` applied, as data to validate (forms.parse)."""
        return {**self.model_dump(), **changes}
