"""Matching a hashtag the way people type it: case-insensitively and Unicode-normalized
(NFKC, so a hashtag typed in full-width letters, or with a decomposed accent, matches the
plain form)."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

# A hashtag in running text: '#' (or the full-width or small number sign, which NFKC folds
# to it) and word characters, not preceded by a word character (so "a#b" is no hashtag).
_IN_TEXT = re.compile(r"(?<!\w)#(\w+)")
# Every character NFKC folds to '#', the plain one first (U+FF03 FULLWIDTH, U+FE5F SMALL).
HASH_SIGNS = ("#", "\uff03", "\ufe5f")


def normalize_tag(tag: str) -> str:
    """The form two spellings of one hashtag share: no '#', NFKC, casefolded."""
    return unicodedata.normalize("NFKC", tag).lstrip("#").casefold()


def tags_in_text(text: str) -> set[str]:
    """The normalized hashtags written in `text`."""
    return {match.casefold() for match in _IN_TEXT.findall(unicodedata.normalize("NFKC", text))}


def ascii_probe(tag: str) -> bytes | None:
    """Bytes that every raw JSON text holding this hashtag contains, lower-cased (to
    skip the rest of a firehose before parsing it); None when the tag is not plain ASCII
    (then a JSON encoder may escape it, and every message must be parsed)."""
    normalized = normalize_tag(tag)
    return normalized.encode() if normalized.isascii() else None


@cache
def lookalikes(tag: str) -> re.Pattern[str]:
    """A pattern that finds every non-ASCII character NFKC and casefolding turn into
    letters of `tag` (or its '#'): full-width forms, mathematical bold and italic,
    ligatures, the long s. A text without any holds the tag only as plain ASCII. Built
    once per tag (about a second: it reads the whole of Unicode). Characters past the
    Basic Multilingual Plane go in by their 1,024-character block (a few false alarms,
    and a class the regex engine tests fast)."""
    letters = set(normalize_tag(tag)) | {"#"}
    basic, blocks = [], set()
    for code in range(0x80, 0x110000):
        if 0xD800 <= code <= 0xDFFF:
            continue  # surrogates are no characters
        folded = unicodedata.normalize("NFKC", chr(code)).casefold()
        if folded and all(char in letters for char in folded):
            if code < 0x10000:
                basic.append(re.escape(chr(code)))
            else:
                blocks.add(code >> 10)
    ranges = [f"{chr(block << 10)}-{chr((block << 10) | 0x3FF)}" for block in sorted(blocks)]
    return re.compile("[" + "".join(basic) + "".join(ranges) + "]")
