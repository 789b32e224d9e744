"""The OBS overlays the server offers, with the URL options each understands."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Option:
    name: str
    values: str
    description: str


# The families ?font= may name: static/js/overlay.js takes the same list.
FONTS = (
    "Inter",
    "Roboto",
    "Open Sans",
    "Lato",
    "Montserrat",
    "Source Sans Pro",
    "Noto Sans",
    "Segoe UI",
    "Arial",
    "Helvetica",
    "Verdana",
    "Georgia",
)

# The largest ?scale= static/js/overlay.js honours (anything above 0 up to it); docs/OVERLAYS.md
# and the console's option list say the same, and tests/test_web.py holds the three together.
SCALE_MAX = 4.0

COMMON_OPTIONS = (
    Option(
        "preview",
        "1",
        "checkerboard background and a connection dot, for setting up (never on air)",
    ),
    Option(
        "scale",
        f"a number, 0 < scale ≤ {SCALE_MAX:g} (default 1)",
        "scale the 1920x1080 layout for another canvas: 0.6667 for 1280x720, 2 for 3840x2160",
    ),
    Option("accent", "hex colour, e.g. e4003a", "the accent colour of plates and bars"),
    Option("font", " | ".join(FONTS), "the typeface, if the OBS machine has it (else the default)"),
)
ALIGN = Option("align", "left | right", "which side of the screen it sits on")
# How long the check-in ticker keeps each check-in on screen; static/js/overlays/checkin-ticker.js
# takes the same range and default.
TICKER_SECONDS = Option(
    "seconds", "4 to 30 (default 8)", "how long each check-in stays on screen before the next"
)
# The post counter and the top post step aside while a stat or quote card is on air (they take
# the same part of the screen); static/js/overlays/post-counter.js and top-post.js read it.
CARDS = Option(
    "cards",
    "stay",
    "stay up while a stat or quote card is on air (by default it steps aside for the card)",
)


@dataclass(frozen=True)
class Overlay:
    name: str
    title: str
    description: str
    options: tuple[Option, ...] = field(default=())

    @property
    def url(self) -> str:
        return f"/overlays/{self.name}"

    def as_context(self) -> dict[str, object]:
        return {
            **asdict(self),
            "url": self.url,
            "options": [asdict(o) for o in COMMON_OPTIONS + self.options],
        }


OVERLAYS = (
    Overlay(
        "program",
        "Program (every graphic)",
        "Every graphic below, each in its slot, in one browser source: the simplest scene. Nothing"
        " overlaps: an all-day graphic steps aside for what producers take into its slot.",
        (TICKER_SECONDS,),
    ),
    Overlay(
        "clock",
        "Program clock",
        "Segment title, countdown to its end (or to the next start) and progress.",
    ),
    Overlay(
        "lower-third",
        "Lower third",
        "Name and role from the rundown's lower-third cues.",
        (ALIGN,),
    ),
    Overlay(
        "up-next",
        "Up next",
        "The next segment and its start time in the event's zone; steps aside for a lower third.",
        (ALIGN,),
    ),
    Overlay(
        "stat-card",
        "Stat card",
        "A figure with its label, 'as of' date and source; right, under the clock.",
        (ALIGN,),
    ),
    Overlay("quote-card", "Quote card", "A quote with its attribution; right, under the clock."),
    Overlay("cta", "Call to action", "The call to action on air, with its link, along the bottom."),
    Overlay(
        "checkin-ticker",
        "Check-in ticker",
        "Approved check-ins from local actions, newest first, one at a time, with the totals;"
        " obeys the on-air delay and the kill switch; steps aside for a call to action.",
        (TICKER_SECONDS,),
    ),
    Overlay(
        "checkin-map",
        "Check-in map",
        "Approved local actions as pins on a US map (live ones bright), a pulse when a check-in"
        " of one goes on air, and the totals; upper left, clear of the clock; steps aside for the"
        " spotlight card. Carries GeoNames' required credit.",
        (Option("align", "left | right", "upper-left (default) or upper-right corner"),),
    ),
    Overlay(
        "spotlight",
        "Spotlight card",
        "The action producers put in the spotlight: title, place, type, and its newest check-in"
        " on air (headcount, message, photo).",
        (Option("align", "left | right", "upper-left (default, the map's place) or upper-right corner"),),
    ),
    Overlay(
        "post-counter",
        "Post counter",
        "The hashtag's post count: the total (counting up to each new one), the goal bar, the"
        " rate a minute and a sparkline of the last 30 minutes; right side, below the clock.",
        (
            Option("align", "left | right", "right (default) or left side, below the top corner (the map's)"),
            CARDS,
        ),
    ),
    Overlay(
        "top-post",
        "Top post",
        "The post producers put on air: its platform, the hashtag and its text; right side,"
        " under the post counter.",
        (Option("align", "left | right", "right (default) or left side, under the post counter"), CARDS),
    ),
)
OVERLAYS_BY_NAME = {overlay.name: overlay for overlay in OVERLAYS}
