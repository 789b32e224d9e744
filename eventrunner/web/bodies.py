"""Reading a JSON request body: its type, its size and its syntax, each refused by name."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from eventrunner.core.validation import FormError


async def json_body(request: web.Request, max_bytes: int) -> Any:
    """The body as parsed JSON (at most `max_bytes`; orjson's limits stop deep nesting)."""
    if request.content_type != "application/json":
        raise FormError("the body must be JSON (Content-Type: application/json)")
    try:
        body = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise FormError(f"the body is at most {max_bytes} bytes") from None
    if len(body) > max_bytes:
        raise FormError(f"the body is at most {max_bytes} bytes")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise FormError(f"the body is not JSON: {error}") from None
