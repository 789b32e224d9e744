"""Cross-cutting HTTP concerns: security headers and rate limits on public endpoints."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from ..ratelimit import RateLimiter

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "connect-src 'self' ws: wss:",
        "frame-src 'self'",
        "frame-ancestors 'self'",
        "base-uri 'none'",
        "form-action 'self'",
    ]
)


def security_headers() -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.content_type == "text/html":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response

    return middleware


Rule = tuple[re.Pattern[str], str | None, RateLimiter]


def rate_limits(rules: list[Rule]) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """`rules`: (path pattern, method or None for any, limiter); the first match applies."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        for pattern, method, limiter in rules:
            if pattern.fullmatch(request.path) and method in (None, request.method):
                wait = limiter.retry_after(request.remote or "unknown")
                if wait > 0:
                    return web.json_response(
                        {"error": f"too many requests; try again in {math.ceil(wait)} s"},
                        status=429,
                        headers={"Retry-After": str(math.ceil(wait))},
                    )
                break
        return await handler(request)

    return middleware


def default_rate_limits() -> list[Rule]:
    # Socket handshakes and static files are not limited per address: a rally's phones
    # can all share one carrier-NAT address, and a restart reconnects everyone at once.
    return [
        (re.compile(r"/producer/login"), "POST", RateLimiter(per_minute=10, burst=5)),
        (re.compile(r"/api/.*"), None, RateLimiter(per_minute=240, burst=60)),
        (re.compile(r"/|/producer|/overlays/.*"), "GET", RateLimiter(per_minute=600, burst=200)),
    ]
