"""JSON Merge Patch (RFC 7386): the deltas clients apply to their copy of the show.

Documents here never hold null values (views drop them), so a patch is exact: applying
`diff(old, new)` to `old` gives `new`. static/js/showclient.js applies them in the browser.
"""

from __future__ import annotations

from typing import Any


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    patch: dict[str, Any] = {key: None for key in old if key not in new}
    for key, value in new.items():
        if key not in old:
            patch[key] = value
        elif old[key] != value:
            both_objects = isinstance(value, dict) and isinstance(old[key], dict)
            patch[key] = diff(old[key], value) if both_objects else value
    return patch


def apply(doc: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    result = dict(doc)
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = apply(result[key], value)
        else:
            result[key] = value
    return result
