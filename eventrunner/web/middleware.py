"""Cross-cutting HTTP concerns: security headers, compression and rate limits."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import math
import re
from collections.abc import Awaitable, Callable

from aiohttp import hdrs, web, web_response

from eventrunner.access.ratelimit import RateLimiter
from eventrunner.web.qvalues import weighted

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
        # Every header line counts (a proxy may add a line of its own): the last hop of
        # the last line is the one the proxy vouches for, and it must be an address.
        hops = ",".join(request.headers.getall("X-Forwarded-For", [])).split(",")
        forwarded_for = _address(hops[-1].strip())
        scheme = request.headers.get("X-Forwarded-Proto", "").strip().lower()
        changes: dict[str, str] = {}
        if forwarded_for:
            changes["remote"] = forwarded_for
        if scheme in ("http", "https"):
            changes["scheme"] = scheme
        return await handler(request.clone(**changes) if changes else request)

    return middleware


def _address(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


SERVER_NAME = "eventrunner"  # no version: it only helps someone match exploits to us


def name_the_server() -> None:
    """Every answer names the server without versions, including the ones aiohttp makes
    on its own (a request it cannot parse, a websocket upgrade), which no middleware or
    signal sees. aiohttp fills the header from this module default when it is unset."""
    web_response.SERVER_SOFTWARE = SERVER_NAME


def _add_security_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.content_type == "text/html":
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if request.path.startswith(("/producer", "/api/")):
        # Producer pages and API answers can carry producer notes: never cached.
        response.headers.setdefault("Cache-Control", "no-store")


def security_headers() -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPException as error:
            # Raised answers (404, 303 ...) are responses too and get the same headers.
            _add_security_headers(request, error)
            raise
        _add_security_headers(request, response)
        return response

    return middleware


# --- compression ------------------------------------------------------------------------

COMPRESSIBLE_TYPES = frozenset(
    {"text/html", "text/css", "text/javascript", "application/javascript", "application/json", "text/plain"}
)
MIN_COMPRESS_BYTES = 512  # below this gzip's framing eats the gain
UNCOMPRESSED_PATHS = ("/socket.io/", "/live/")  # realtime transports frame their own bytes


def accepts_gzip(request: web.Request) -> bool:
    """Whether Accept-Encoding allows gzip (an explicit q=0 refuses it, as does `*;q=0`)."""
    wildcard = False
    for coding, weight in weighted(request.headers.get(hdrs.ACCEPT_ENCODING)):
        if coding in ("gzip", "x-gzip"):
            return weight > 0
        if coding == "*":
            wildcard = weight > 0
    return wildcard


def gzipped(body: bytes) -> bytes | None:
    """The gzip bytes, or None when they would not be smaller."""
    if len(body) < MIN_COMPRESS_BYTES:
        return None
    packed = gzip.compress(body, compresslevel=6, mtime=0)
    return packed if len(packed) < len(body) else None


def add_vary(response: web.StreamResponse, header: str) -> None:
    varies = [v.strip() for v in response.headers.get(hdrs.VARY, "").split(",") if v.strip()]
    if header.lower() not in (v.lower() for v in varies):
        response.headers[hdrs.VARY] = ", ".join([*varies, header])


def compression() -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """gzip for HTML, JSON, JS and CSS answers built in memory. Handlers that negotiate
    encodings themselves (static files: precompressed) say so with Vary: Accept-Encoding."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        response = await handler(request)
        if (
            request.path.startswith(UNCOMPRESSED_PATHS)
            or type(response) is not web.Response  # streams, files and websockets write themselves
            or response.prepared
            or response.content_type not in COMPRESSIBLE_TYPES
            or hdrs.CONTENT_ENCODING in response.headers
            or "accept-encoding" in response.headers.get(hdrs.VARY, "").lower()
            or not isinstance(response.body, bytes)
        ):
            return response
        add_vary(response, "Accept-Encoding")
        packed = gzipped(response.body) if accepts_gzip(request) else None
        if packed is not None:
            response.body = packed
            response.headers[hdrs.CONTENT_ENCODING] = "gzip"
        return response

    return middleware


Rule = tuple[re.Pattern[str], str | None, RateLimiter | None]


def rate_limits(rules: list[Rule]) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """`rules`: (path pattern, method or None for any, limiter or None where the handler
    limits by itself); the first match applies."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        for pattern, method, limiter in rules:
            # HEAD renders the page as GET does: it is limited as GET.
            asked = "GET" if request.method == "HEAD" else request.method
            if pattern.fullmatch(request.path) and method in (None, asked):
                if limiter is None:
                    break
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


def body_timeout(
    seconds: float, uploads: tuple[str, float] | None = None
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """A request with a body must be answered within `seconds`: a body sent a byte a
    minute would otherwise hold a handler and a socket (websocket upgrades are GETs).
    `uploads`: (a path prefix, its longer limit), for photos sent over a phone network."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return await handler(request)
        limit = uploads[1] if uploads and request.path.startswith(uploads[0]) else seconds
        try:
            async with asyncio.timeout(limit):
                return await handler(request)
        except TimeoutError:
            return web.json_response({"error": f"the request did not arrive within {limit:g} s"}, status=408)

    return middleware


def default_rate_limits(self_limited: tuple[str, str]) -> list[Rule]:
    """`self_limited`: (a path prefix, its method) whose handler limits by itself."""
    # Socket handshakes and static files are not limited per address: a rally's phones
    # can all share one carrier-NAT address, and a restart reconnects everyone at once.
    # Sign-in attempts are limited in the login handler, which counts only failures.
    return [
        (re.compile(re.escape(self_limited[0]) + r"[^/]+"), self_limited[1], None),
        # A watch party looks up its members of Congress from one address: the route
        # keeps its own, larger budgets (web/representatives.py).
        (re.compile(r"/api/representatives"), "GET", None),
        (re.compile(r"/api/.*"), None, RateLimiter(per_minute=240, burst=60)),
        (re.compile(r"/|/producer|/overlays/.*"), "GET", RateLimiter(per_minute=1200, burst=400)),
        # What a page fetches after it (its QR code, the calendar files, the share card):
        # a budget of its own, so a watch party's pages do not spend each other's loads.
        (
            re.compile(r"/schedule(/[^/]+)?\.ics|/schedule/[^/]+/google|/share\.png|/qr\.svg"),
            "GET",
            RateLimiter(per_minute=2400, burst=800),
        ),
    ]
