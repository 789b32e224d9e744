"""Cross-cutting HTTP concerns: security headers and rate limits on public endpoints."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from eventrunner.access.ratelimit import RateLimiter

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


def behind_proxy() -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Behind a reverse proxy (--behind-proxy), the client is the last X-Forwarded-For
    hop and the scheme is X-Forwarded-Proto: rate limits key on the real client and the
    session cookie is marked Secure. Never enabled by default: the headers are forgeable."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        forwarded_for = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        scheme = request.headers.get("X-Forwarded-Proto", "").strip().lower()
        changes: dict[str, str] = {}
        if forwarded_for:
            changes["remote"] = forwarded_for
        if scheme in ("http", "https"):
            changes["scheme"] = scheme
        return await handler(request.clone(**changes) if changes else request)

    return middleware


def security_headers() -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if response.content_type == "text/html":
            response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        if request.path.startswith(("/producer", "/api/")):
            # Producer pages and API answers can carry producer notes: never cached.
            response.headers.setdefault("Cache-Control", "no-store")
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
    # Sign-in attempts are limited in the login handler, which counts only failures.
    return [
        (re.compile(r"/api/.*"), None, RateLimiter(per_minute=240, burst=60)),
        (re.compile(r"/|/producer|/overlays/.*"), "GET", RateLimiter(per_minute=1200, burst=400)),
    ]
