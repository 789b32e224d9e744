"""Which language a page is in: the one asked for in the address (`?lang=es`, from the
page's language switch, and remembered in a cookie), else the remembered one, else the
first the browser accepts that we speak, else English."""

from __future__ import annotations

from eventrunner.core.languages import DEFAULT_LANGUAGE, LANGUAGES, Language
from eventrunner.web.qvalues import weighted

LANGUAGE_COOKIE = "lang"
LANGUAGE_COOKIE_MAX_AGE = 365 * 24 * 3600


def spoken(tag: str | None) -> Language | None:
    """'es-MX' -> 'es'; None for a language we do not speak."""
    primary = (tag or "").strip().split("-")[0].split("_")[0].lower()
    return next((language for language in LANGUAGES if language == primary), None)


def accepted(header: str | None) -> list[str]:
    """The tags of an Accept-Language header, most wanted first; q=0 means 'not this'."""
    ranked = [
        (-weight, position, tag) for position, (tag, weight) in enumerate(weighted(header)) if weight > 0
    ]
    return [tag for _, _, tag in sorted(ranked)]


def choose_language(asked: str | None, remembered: str | None, accept_language: str | None) -> Language:
    for choice in (asked, remembered, *accepted(accept_language)):
        language = spoken(choice)
        if language is not None:
            return language
    return DEFAULT_LANGUAGE
