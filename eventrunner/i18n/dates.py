"""Dates in the viewer's language, from Babel's CLDR data: 'Thursday, March 3, 2022' in
English, 'jueves, 3 de marzo de 2022' in Spanish. (Times of day: core/timetext.py.)"""

from __future__ import annotations

from datetime import date

from babel.dates import format_date

from eventrunner.core.languages import Language


def long_date(day: date | str, language: Language) -> str:
    """The show document's '2022-03-03' (a calendar day, in no zone) as words."""
    when = date.fromisoformat(day) if isinstance(day, str) else day
    return format_date(when, format="full", locale=language)
