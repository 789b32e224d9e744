"""Console sign-in: a password per role for people, a bearer token for machines.

The password decides the role (roles.py): producer, and, when their passwords are set,
graphics operator and viewer. The API token is a producer. A signed-in person holds a
signed, expiring session cookie naming a session that must still be live on the server
(see sessions.py), which records its role: signing out ends it everywhere. Each role
signs its cookies with a salt that includes a hash of its password, so changing (or
unsetting) a role's password signs that role out. Every way in (the sign-in form, the
HTTP API, socket handshakes) shares one budget of failed attempts, per address and
server-wide, and every refusal is logged.
Overlays and participants never authenticate: their namespaces and routes cannot change
the show.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web
from itsdangerous import BadSignature, TimestampSigner

from eventrunner.access.offenders import OffenderLog
from eventrunner.access.ratelimit import SignInBudget
from eventrunner.access.roles import Role, SharedPassword, as_role
from eventrunner.access.sessions import Sessions, SessionStore, session_key

log = logging.getLogger(__name__)

SESSION_COOKIE = "eventrunner_producer"
SESSION_MAX_AGE_S = 7 * 24 * 3600


@dataclass(frozen=True)
class Check:
    """What a request or handshake proved."""

    role: Role
    session: str | None = None  # the session a cookie named; None for the API token
    retry_after: float = 0.0  # > 0: refused because failed sign-ins spent the budget

    @property
    def signed_in(self) -> bool:
        return self.role != "none"


@dataclass(frozen=True)
class SignIn:
    cookie: str | None = None  # the new session's cookie value, if the password was right
    retry_after: float = 0.0
    role: Role = "none"


NOT_PRESENTED = Check("none")


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


def handshake_client(environ: Mapping[str, Any]) -> str:
    """The client address of a socket.io handshake. engine.io's aiohttp driver says
    REMOTE_ADDR 127.0.0.1 for everyone; the request it keeps knows the peer (behind a
    proxy, the forwarded client)."""
    remote = getattr(environ.get("aiohttp.request"), "remote", None)
    return remote if isinstance(remote, str) and remote else "unknown"


SignOutListener = Callable[[str], Awaitable[None]]


class ProducerAuth:
    """`data_dir` keeps live sessions across restarts; without it they live in memory.
    `role_passwords` adds the graphics operator's and the viewer's (a role without one
    cannot sign in)."""

    def __init__(
        self,
        password: str,
        api_token: str,
        secret: bytes,
        data_dir: Path | None = None,
        budget: SignInBudget | None = None,
        sessions: Sessions | None = None,
        role_passwords: Mapping[str, str | None] | None = None,
    ) -> None:
        self._passwords: dict[Role, bytes] = {"producer": password.encode()}
        for role, other in (role_passwords or {}).items():
            named = as_role(role)
            if named is not None and named != "producer" and other:
                self._passwords[named] = other.encode()
        if len(set(self._passwords.values())) < len(self._passwords):
            raise SharedPassword("each role needs its own password: two roles were given the same one")
        self._api_token = api_token.encode()
        # The producer's salt is what it was before roles, so their cookies stay good.
        self._signers = {
            role: TimestampSigner(secret, salt=f"{role}-session:" + hashlib.sha256(value).hexdigest())
            for role, value in self._passwords.items()
        }
        if sessions is None:
            sessions = (
                SessionStore.in_data_dir(data_dir, SESSION_MAX_AGE_S)
                if data_dir is not None
                else SessionStore(None, SESSION_MAX_AGE_S)
            )
        self.sessions = sessions
        self.budget = budget or SignInBudget()
        self.refusals = OffenderLog(log)
        self._sign_out_listeners: list[SignOutListener] = []

    @property
    def roles(self) -> tuple[Role, ...]:
        """The roles that can sign in (those with a password)."""
        return tuple(self._passwords)

    def role_of_password(self, candidate: str) -> Role:
        """The role `candidate` signs in as, or "none". Every password is compared, so the
        time taken does not say which role came close."""
        found: Role = "none"
        for role, value in self._passwords.items():
            if _same_secret(candidate, value):
                found = role
        return found

    def token_matches(self, candidate: str) -> bool:
        return bool(candidate) and _same_secret(candidate, self._api_token)

    # --- checking what a request or handshake presents ---------------------------------

    async def check(self, client: str, token: str | None, cookie: str | None, via: str) -> Check:
        """A bearer token if one is presented, else the session cookie."""
        if token is None and not cookie:
            return NOT_PRESENTED  # a visitor, not a guess: neither spent nor logged
        wait = self.budget.address_wait(client)
        if wait > 0:
            return self._refuse(via, client, "too many failed sign-ins from this address", wait)
        if token is not None:
            return self._check_token(token, client, via)
        return await self._check_cookie(cookie, client, via)

    def _check_token(self, token: str, client: str, via: str) -> Check:
        # The right token works through a server-wide attack (a Stream Deck must keep
        # running the show); a token is long and random, so only the per-address budget
        # above is needed against guessing it. Wrong ones wait while the server's budget
        # is spent, so the attack still ends in 429s.
        if self.token_matches(token):
            return Check("producer")
        wait = self.budget.overall_wait()
        if wait > 0:
            return self._refuse(via, client, "too many failed sign-ins on this server", wait)
        self.budget.spend(client)
        return self._refuse(via, client, "wrong API token")

    async def _check_cookie(self, cookie: str | None, client: str, via: str) -> Check:
        # A cookie is signed, so it cannot be guessed: it spends no budget (a console left
        # open after a sign-out must not lock its producers out), and the server-wide
        # budget does not stop it, so signed-in producers run the show through a botnet.
        signed = self._signed_session(cookie, max_age=SESSION_MAX_AGE_S)
        if signed is None:
            return self._refuse(via, client, "a session cookie that is expired or not ours")
        session, signed_as = signed
        role = await self.sessions.role(session)
        if role is None:
            return self._refuse(via, client, "a signed-out session")
        if role != signed_as:  # the store and the cookie must agree on who this is
            return self._refuse(via, client, "a session whose role is not its cookie's")
        return Check(role, session=session)

    def _refuse(self, via: str, client: str, why: str, retry_after: float = 0.0) -> Check:
        self.refusals.note("producer sign-in: refused %s from %s: %s", via, client, why)
        return Check("none", retry_after=retry_after)

    def _signed_session(self, cookie: str | None, max_age: int | None) -> tuple[str, Role] | None:
        """The session a cookie names and the role whose key signed it."""
        if not cookie:
            return None
        for role, signer in self._signers.items():
            try:
                return signer.unsign(cookie, max_age=max_age).decode(), role
            except (BadSignature, UnicodeError):
                continue
        return None

    async def check_request(self, request: web.Request) -> Check:
        header = request.headers.get("Authorization", "")
        token = header.removeprefix("Bearer ").strip() if header.startswith("Bearer ") else ""
        return await self.check(
            request.remote or "unknown", token or None, request.cookies.get(SESSION_COOKIE), request.path
        )

    async def check_socket(self, environ: Mapping[str, Any], auth: Any) -> Check:
        """A socket.io handshake: the session cookie, or `auth: {token}` for tools."""
        token = auth.get("token") if isinstance(auth, dict) else None
        cookie = cookie_value(environ.get("HTTP_COOKIE", ""), SESSION_COOKIE)
        presented = token if isinstance(token, str) and token else None
        return await self.check(handshake_client(environ), presented, cookie, "socket")

    # --- signing in and out ------------------------------------------------------------

    async def sign_in(self, password: str, client: str) -> SignIn:
        wait = max(self.budget.address_wait(client), self.budget.overall_wait())
        if wait > 0:
            self._refuse("sign-in", client, "too many failed sign-ins", wait)
            return SignIn(retry_after=wait)
        role = self.role_of_password(password)
        if role == "none":
            self.budget.spend(client)
            self._refuse("sign-in", client, "wrong password")
            return SignIn()
        session = await self.sessions.start(role)
        return SignIn(cookie=self._signers[role].sign(session).decode(), role=role)

    def on_sign_out(self, listener: SignOutListener) -> None:
        """`listener(key)` runs when a session signs out (to close its sockets)."""
        self._sign_out_listeners.append(listener)

    async def sign_out(self, cookie: str | None) -> None:
        # Any session we signed, however old: signing out must never fail to end one.
        signed = self._signed_session(cookie, max_age=None)
        if signed is not None and await self.sessions.end(signed[0]):
            await self.signed_out(session_key(signed[0]))

    async def signed_out(self, key: str) -> None:
        """The session with `key` (sessions.session_key) ended, here or in another
        process of the show: close its sockets."""
        for listener in self._sign_out_listeners:
            await listener(key)

    @staticmethod
    def set_session_cookie(response: web.StreamResponse, cookie: str, secure: bool) -> None:
        response.set_cookie(
            SESSION_COOKIE,
            cookie,
            max_age=SESSION_MAX_AGE_S,
            httponly=True,
            samesite="Strict",
            secure=secure,
            path="/",
        )
