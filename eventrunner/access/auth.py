"""Producer sign-in: a password for people, a bearer token for machines.

A signed-in producer holds a signed, expiring session cookie. The signing salt includes
a hash of the password, so changing the password signs everyone out. Overlays and
participants never authenticate: their namespaces and routes cannot change the show.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from itsdangerous import BadSignature, TimestampSigner

SESSION_COOKIE = "eventrunner_producer"
SESSION_MAX_AGE_S = 7 * 24 * 3600


def _same_secret(candidate: str, secret: bytes) -> bool:
    try:
        return hmac.compare_digest(candidate.encode(), secret)
    except UnicodeError:  # undecodable bytes from a header: not the secret
        return False


def cookie_value(header: str, name: str) -> str | None:
    """One cookie from a Cookie header. Parsed leniently, like browsers and aiohttp do:
    http.cookies drops every cookie when any one on the host is malformed."""
    for part in header.split(";"):
        key, _, value = part.strip().partition("=")
        if key == name:
            return value.strip().strip('"')
    return None


class ProducerAuth:
    def __init__(self, password: str, api_token: str, secret: bytes) -> None:
        self._password = password.encode()
        self._api_token = api_token.encode()
        salt = "producer-session:" + hashlib.sha256(self._password).hexdigest()
        self._signer = TimestampSigner(secret, salt=salt)

    def password_matches(self, candidate: str) -> bool:
        return _same_secret(candidate, self._password)

    def token_matches(self, candidate: str) -> bool:
        return bool(candidate) and _same_secret(candidate, self._api_token)

    def new_session(self) -> str:
        return self._signer.sign(secrets.token_urlsafe(16)).decode()

    def session_valid(self, value: str | None) -> bool:
        if not value:
            return False
        try:
            self._signer.unsign(value, max_age=SESSION_MAX_AGE_S)
        except (BadSignature, UnicodeError):
            return False
        return True

    def request_is_producer(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer ") and self.token_matches(header.removeprefix("Bearer ").strip()):
            return True
        return self.session_valid(request.cookies.get(SESSION_COOKIE))

    def socket_is_producer(self, environ: Mapping[str, Any], auth: Any) -> bool:
        """A socket.io handshake: the session cookie, or `auth: {token}` for tools."""
        if (
            isinstance(auth, dict)
            and isinstance(auth.get("token"), str)
            and self.token_matches(auth["token"])
        ):
            return True
        return self.session_valid(cookie_value(environ.get("HTTP_COOKIE", ""), SESSION_COOKIE))

    def set_session_cookie(self, response: web.StreamResponse, secure: bool) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            self.new_session(),
            max_age=SESSION_MAX_AGE_S,
            httponly=True,
            samesite="Strict",
            secure=secure,
            path="/",
        )
