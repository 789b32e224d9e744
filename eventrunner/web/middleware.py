"""Cross-cutting HTTP concerns: security headers and rate limits on public endpoints."""

from __future__ import annotations

import math
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


def rate_limits(
    limits: list[tuple[str, str | None, RateLimiter]],
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """`limits`: (path prefix, method or None for any, limiter); the first match applies."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        for prefix, method, limiter in limits:
            if request.path.startswith(prefix) and method in (None, request.method):
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


def default_rate_limits() -> list[tuple[str, str | None, RateLimiter]]:
    return [
        ("/producer/login", "POST", RateLimiter(per_minute=10, burst=5)),
        ("/api/", None, RateLimiter(per_minute=240, burst=60)),
        # Many phones can share one address (carrier NAT): the page limit is generous.
        ("/", "GET", RateLimiter(per_minute=600, burst=200)),
    ]
