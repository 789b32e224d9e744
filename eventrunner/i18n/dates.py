"""Dates and times in the viewer's language, from Babel's CLDR data: '1:00 PM EST' and
'Thursday, March 3, 2022' in English; '13:00 EST' and 'jueves, 3 de marzo de 2022' in
Spanish. The zone is always named: never the server's local one."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time

from eventrunner.core.languages import Language
from eventrunner.core.timetext import local_time, zone_label


def clock_time(ms: int, zone: ZoneInfo, language: Language) -> str:
    # CLDR puts a narrow no-break space before AM/PM; browsers before Chromium 110 (OBS)
    # print a plain space, and the page's own scripts rewrite these times.
    return format_time(local_time(ms, zone), format="short", locale=language).replace("\u202f", " ")


def event_time(ms: int, zone: ZoneInfo, language: Language) -> str:
    return f"{clock_time(ms, zone, language)} {zone_label(local_time(ms, zone))}".rstrip()


def long_date(day: date | str, language: Language) -> str:
    """The show document's '2022-03-03' (a calendar day, in no zone) as words."""
    return format_date(
        date.fromisoformat(day) if isinstance(day, str) else day, format="full", locale=language
    )
