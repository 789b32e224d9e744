"""Header lists with quality values (Accept-Language, Accept-Encoding): 'es-MX, en;q=0.5'.
Parsed leniently: a header is the client's, and a bad weight means 'not this one'."""

from __future__ import annotations

MAX_ITEMS = 32  # more than any browser sends; a longer list is someone else's


def weighted(header: str | None) -> list[tuple[str, float]]:
    """(token, weight) in the order written; the token lowercased and stripped."""
    items = []
    for part in (header or "").split(",")[:MAX_ITEMS]:
        token, _, params = part.partition(";")
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if token.strip():
            items.append((token.strip().lower(), weight))
    return items
