"""Small schedules and instants for tests, written the way organizers write them."""

from __future__ import annotations

import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from eventrunner.core.schedule import Schedule, load_schedule, parse_schedule

REPO = Path(__file__).resolve().parent.parent
CNC = REPO / "schedules" / "2022-03-03-communities-not-cages.yaml"
FREE_THEM_ALL = REPO / "schedules" / "2020-04-01-free-them-all.yaml"
NEW_YORK = ZoneInfo("America/New_York")


def cnc() -> Schedule:
    return load_schedule(CNC)


def at(text: str, zone: ZoneInfo = NEW_YORK) -> int:
    """'2022-03-03 11:30' in `zone` -> epoch ms."""
    return int(datetime.fromisoformat(text).replace(tzinfo=zone).timestamp() * 1000)


def minutes(n: float) -> int:
    return int(n * 60_000)


SMALL_DAY_SEGMENTS = """
  - id: one
    title: One
    kind: livestream
    start: "10:00"
    end: "11:00"
    cues:
      - {id: hello, at: 0m, kind: lower_third, name: Host, role: Welcome, on_air: 15s}
      - {id: figure, at: 10m, kind: stat, figure: "18,000+", label: detained, as_of: 2022-03-03, source: DWN}
      - {id: reminder, at: 20m, kind: note, text: roll video}
  - id: two
    title: Two
    kind: twitterstorm
    start: "11:30"
    end: "12:00"
    cues:
      - {id: storm, at: 0m, kind: cta, text: Tweet now, take: manual}
"""


def small_day(
    zone: str = "America/New_York", day: str = "2022-03-03", segments: str | None = None
) -> Schedule:
    """Two segments with a gap: 'one' 10:00-11:00 (cues at 0, 10m, 20m), 'two' 11:30-12:00."""
    segments = segments or SMALL_DAY_SEGMENTS
    text = f"""
event:
  title: Test day
  timezone: {zone}
  date: {day}
segments:{segments}"""
    return parse_schedule(text, "test.yaml")


def day_on_air(path: Path, title: str, cues: str, hours: int = 1) -> Path:
    """A day whose 'opening' segment started five minutes ago (written in UTC wall time) and
    runs `hours`, with `cues` (YAML list items), then 'closing' (30 min) an hour after it."""
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=5)
    fmt = "%Y-%m-%d %H:%M"
    path.write_text(f"""
event: {{title: {title}, timezone: UTC, date: "{start:%Y-%m-%d}"}}
segments:
  - id: opening
    title: Opening
    kind: livestream
    start: "{start:{fmt}}"
    end: "{start + timedelta(hours=hours):{fmt}}"
    cues:
{textwrap.indent(textwrap.dedent(cues).strip(), " " * 6)}
  - id: closing
    title: Closing
    kind: other
    start: "{start + timedelta(hours=hours + 1):{fmt}}"
    duration: 30m
""")
    return path


def live_now_schedule(path: Path) -> Path:
    """'opening' on air for five minutes (1 h, cues 'host' at 0 and 'guest' at 30m), then
    'closing' an hour after it."""
    return day_on_air(
        path,
        "Restart day",
        """
        - {id: host, at: 0m, kind: lower_third, name: Host}
        - {id: guest, at: 30m, kind: lower_third, name: Guest}
        """,
    )
