"""The languages eventrunner speaks: a schedule's own text is English unless it says
otherwise, and any of its texts may carry translations into the others."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

Language = Literal["en", "es"]
LANGUAGES: tuple[Language, ...] = ("en", "es")
DEFAULT_LANGUAGE: Language = "en"
# Each language in its own words, for the pages' language switch.
LANGUAGE_NAMES: dict[Language, str] = {"en": "English", "es": "Español"}


def translated(item: Mapping[str, Any], field: str, language: str) -> Any:
    """`item[field]` in `language` when the schedule translates it (its `translations`),
    else as written: a missing translation falls back to the schedule's own text.
    static/js/showclient.js (ER.tx) does the same in the browser."""
    translation = item.get("translations", {}).get(language, {})
    value = translation.get(field)
    return item.get(field) if value is None else value
