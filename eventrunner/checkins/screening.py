"""What holds a text for a producer's eyes even from a trusted host: anything that could
expose a person (a phone number, an e-mail address, a street address, a licence plate),
links, and profanity, in English and Spanish. These are rallies at ICE offices: a false
hold costs a producer a click, a miss can cost someone their safety."""

from __future__ import annotations

import re
import unicodedata

SEPARATOR = r"[\s().\-\u2010-\u2015/_]"
PATTERNS: dict[str, re.Pattern[str]] = {
    # Seven or more digits with separators between them: US, Mexican and other formats.
    "a phone number": re.compile(rf"(?<!\d)(?:\+{SEPARATOR}*)?(?:\d{SEPARATOR}*){{7,}}\d?(?!\d)"),
    "an e-mail address": re.compile(
        r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
        r"|\b[\w.+-]+\s*[\[(]?\s*(?:at|arroba)\s*[\])]?\s*[\w-]+\s*[\[(]?\s*(?:dot|punto)\s*[\])]?\s*[a-z]{2,}\b",
        re.I,
    ),
    "a social media handle": re.compile(r"(?<![\w@])@[A-Za-z0-9_.]{2,}"),
    "a link": re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+\.(?:com|org|net|us|io|ly|co|me|info|gov)\b", re.I),
    "a street address": re.compile(
        r"\b\d{1,6}\s+(?:[\w.'-]+\s+){0,4}?(?:st|street|ave|avenue|blvd|boulevard|rd|road|dr|drive|ln|lane|"
        r"way|ct|court|pl|place|hwy|highway|pkwy|parkway|ter|terrace|cir|circle)\b\.?"
        r"|\b(?:calle|avenida|av\.|carretera|camino|paseo)\s+[\w.'-]+(?:\s+[\w.'-]+){0,3}\s+(?:#\s*)?\d{1,6}\b",
        re.I,
    ),
    "a licence plate": re.compile(
        r"(?i:\b(?:plates?|placas?|tag|licen[cs]e|licencia|matr[ií]cula)\b(?:\W+\w+){0,3}?\W+(?=[A-Z0-9-]*\d)[A-Z0-9-]{2,8}\b)"
        r"|\b[A-Z]{3}[\s-]?\d{3,4}\b|\b\d{3}[\s-]?[A-Z]{3}\b|\b\d[A-Z]{3}\d{3}\b"
    ),
}

# Words a livestream does not put on air, English and Spanish, matched as whole words
# (accents and case ignored). Short on purpose: the rest is the producer's judgement.
PROFANITY = frozenset(
    [
        "fuck",
        "fucking",
        "fucker",
        "motherfucker",
        "shit",
        "bullshit",
        "bitch",
        "bastard",
        "asshole",
        "dick",
        "cunt",
        "piss",
        "damn",
        "puta",
        "puto",
        "pendejo",
        "pendeja",
        "mierda",
        "cabron",
        "cabrona",
        "chingar",
        "chingada",
        "chingado",
        "verga",
        "joder",
        "coño",
        "culero",
        "culera",
        "pinche",
        "marica",
        "maricon",
        "huevon",
    ]
)
WORD = re.compile(r"[a-z]+")


def _plain(text: str) -> str:
    """Lower case, accents off: "Cabrón" and "cabron" are one word."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


PLAIN_PROFANITY = frozenset(_plain(word) for word in PROFANITY)


def _visible(text: str) -> str:
    """Fullwidth and other look-alike forms folded (NFKC), invisible characters (zero-width
    spaces, joiners) taken out: "555\u200b123\u200b4567" is a phone number."""
    folded = unicodedata.normalize("NFKC", text)
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


def hold_reasons(text: str) -> list[str]:
    """Why `text` must wait for a producer: empty if nothing was found."""
    text = _visible(text)
    reasons = [f"it may contain {what}" for what, pattern in PATTERNS.items() if pattern.search(text)]
    if any(word in PLAIN_PROFANITY for word in WORD.findall(_plain(text))):
        reasons.append("it may contain profanity")
    return reasons
