"""The participant page's address as clients should see it: for share links, the QR
code, Open Graph tags and calendar files.

With `--public-url` (EVENTRUNNER_PUBLIC_URL) it is that, whatever the request says. Else
it is built from the request's Host header, which the client writes: only a plain
`host[:port]` or `[ipv6]:port` is taken, anything else is answered 400.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from aiohttp import web

HOST_MAX = 255
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
# A host name or IPv4 address, or a bracketed IPv6 address (checked below), and a port.
_HOST = re.compile(rf"(?:{_LABEL}(?:\.{_LABEL})*|\[(?P<ipv6>[0-9A-Fa-f:.]+)\])(?::(?P<port>[0-9]{{1,5}}))?")

# Set by the routes that are given --public-url (web/share.py, web/calendar.py), read by
# every page_url(request): the participant page's too (web/pages.py).
PUBLIC_URL_KEY = web.AppKey("public_url", str)


def valid_host(host: str) -> bool:
    """`host[:port]` as a Host header or a URL's authority may carry it, strictly."""
    match = _HOST.fullmatch(host) if len(host) <= HOST_MAX else None
    if match is None or int(match["port"] or 0) > 65535:
        return False
    try:
        return match["ipv6"] is None or isinstance(ipaddress.ip_address(match["ipv6"]), ipaddress.IPv6Address)
    except ValueError:
        return False


def checked_public_url(text: str) -> str:
    """--public-url as the page's address (`https://day.example/`), or ValueError saying
    what is wrong with it."""
    try:
        parts = urlsplit(text.strip())
    except ValueError:  # an unclosed "[" of an IPv6 address
        parts = None
    if parts is None or parts.scheme.lower() not in ("http", "https") or not valid_host(parts.netloc):
        raise ValueError(f"{text!r} is not an http(s) address with a host, like https://day.example.org")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        # The pages' own links start at the root: a path here would not be where they are.
        raise ValueError(f"{text!r}: give the server's address only, without a path or a query")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}/"


def use_public_url(app: web.Application, public_url: str | None) -> None:
    """Every page_url of the app is `public_url` (already checked) from now on."""
    if public_url is not None:
        app[PUBLIC_URL_KEY] = public_url


def page_url(request: web.Request) -> str:
    """The participant page's absolute address, ending in "/". Without --public-url,
    the scheme is the request's (X-Forwarded-Proto's with --behind-proxy, see
    middleware.behind_proxy) and the host its Host header (the proxy passes it on,
    deploy/nginx.conf); HTTPBadRequest if that is not a plain host and port."""
    public = request.config_dict.get(PUBLIC_URL_KEY)
    if public is not None:
        return public
    host = request.host
    if not valid_host(host):
        raise web.HTTPBadRequest(
            text="The Host header must be a host name or address with an optional port, "
            f"at most {HOST_MAX} characters."
        )
    return f"{request.scheme}://{host}/"
