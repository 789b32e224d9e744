"""Settings, from command-line flags and the environment, in one place."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from eventrunner.access.roles import SharedPassword

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent  # the source tree, when running from one


def _shipped(name: str) -> Path:
    """A top-level folder of the source tree that a wheel carries inside the package as
    `_<name>` (see pyproject.toml); an editable install or a checkout reads it in place."""
    packaged = PACKAGE_DIR / f"_{name}"
    return packaged if packaged.is_dir() else PROJECT_DIR / name


SCHEDULES_DIR = _shipped("schedules")
DEMO_SCHEDULE = SCHEDULES_DIR / "2022-03-03-communities-not-cages.yaml"
STATIC_DIR = _shipped("static")
OVERLAYS_DIR = _shipped("overlays")
TEMPLATES_DIR = PACKAGE_DIR / "web" / "templates"


@dataclass(frozen=True)
class Secret:
    env: str
    value: str
    origin: Literal["environment", "generated", "kept"]
    where: str  # where a secret not from the environment is kept


@dataclass(frozen=True)
class Secrets:
    producer_password: Secret
    api_token: Secret
    session_key: Secret
    # None: that role cannot sign in (see ROLE_PASSWORD_NAMES)
    graphics_password: Secret | None = None
    viewer_password: Secret | None = None

    def role_passwords(self) -> dict[str, str | None]:
        """The passwords of the roles besides the producer's, by role (auth.ProducerAuth)."""
        return {
            "graphics": self.graphics_password.value if self.graphics_password else None,
            "viewer": self.viewer_password.value if self.viewer_password else None,
        }


@dataclass(frozen=True)
class Settings:
    schedule: Path
    data_dir: Path
    demo: bool = False
    reset: bool = False
    host: str = "127.0.0.1"
    port: int = 8080
    behind_proxy: bool = False
    # A connection that has not sent a whole request by then is closed: idle sockets and
    # slow-header tricklers cannot pile up (websockets have their own heartbeat).
    idle_timeout_s: float = 15.0
    # Several processes share one show through Redis; None keeps it all in the data dir.
    redis_url: str | None = None
    # One of `--workers` processes: the port is shared with the others (SO_REUSEPORT).
    reuse_port: bool = False
    # A recorded stream of posts to play into the count (rehearsals), and how fast.
    replay_posts: Path | None = None
    replay_speed: float = 1.0
    # The participant page's public address (--public-url, checked by
    # web/address.checked_public_url): share links, the QR code and calendar files name
    # it whatever Host a request carries. None: each request's Host, if it is a plain one.
    public_url: str | None = None


def _kept_secret(data_dir: Path, name: str, env: str) -> Secret:
    """The env var if set, else a random value kept (mode 600) in the data dir.

    Keeping it means a restart (even after kill -9) does not sign producers out or
    change the token a Stream Deck was set up with.
    """
    path = data_dir / name
    value = os.environ.get(env, "").strip()
    if value:
        return Secret(env, value, "environment", str(path))
    try:
        kept = path.read_text().strip()
    except FileNotFoundError:
        kept = ""
    if kept:
        return Secret(env, kept, "kept", str(path))
    value = secrets.token_urlsafe(18)
    data_dir.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as out:
        out.write(value + "\n")
    return Secret(env, value, "generated", str(path))


# (file or key name, environment variable) of each secret
SECRET_NAMES = {
    "producer_password": ("producer-password", "EVENTRUNNER_PRODUCER_PASSWORD"),
    "api_token": ("api-token", "EVENTRUNNER_API_TOKEN"),
    "session_key": ("session-key", "EVENTRUNNER_SESSION_KEY"),
}


# The graphics operator's and the viewer's passwords: from the environment only, never
# generated or kept, so a role nobody set up is not one anybody can sign in as.
ROLE_PASSWORD_NAMES = {
    "graphics_password": "EVENTRUNNER_GRAPHICS_PASSWORD",
    "viewer_password": "EVENTRUNNER_VIEWER_PASSWORD",
}


def with_role_passwords(found: Secrets) -> Secrets:
    """`found` with the role passwords the environment sets; SharedPassword if two roles
    have one password (the password decides the role, so it could not)."""
    roles = {
        field: Secret(env, value, "environment", "the environment only") if value else None
        for field, env in ROLE_PASSWORD_NAMES.items()
        for value in [os.environ.get(env, "").strip()]
    }
    found = replace(found, **roles)
    named = [s for s in (found.producer_password, found.graphics_password, found.viewer_password) if s]
    for i, one in enumerate(named):
        for other in named[i + 1 :]:
            if one.value == other.value:
                raise SharedPassword(
                    f"{one.env} and {other.env} are the same password: each role needs its own"
                    " (the password someone signs in with decides their role)"
                )
    return found


def load_secrets(data_dir: Path) -> Secrets:
    kept = Secrets(**{field: _kept_secret(data_dir, *names) for field, names in SECRET_NAMES.items()})
    return with_role_passwords(kept)


@dataclass(frozen=True)
class PostCredentials:
    """What the post sources sign in with, from the environment only (never a file)."""

    webhook_secret: str | None
    x_bearer_token: str | None
    mastodon_tokens: dict[str, str]  # instance host -> user token (read:statuses)

    @classmethod
    def from_environment(cls) -> PostCredentials:
        # "mastodon.social=TOKEN other.example=TOKEN": one user token per instance.
        pairs = os.environ.get("EVENTRUNNER_MASTODON_TOKENS", "").split()
        tokens = dict(pair.split("=", 1) for pair in pairs if "=" in pair)
        return cls(
            webhook_secret=os.environ.get("EVENTRUNNER_WEBHOOK_SECRET", "").strip() or None,
            x_bearer_token=os.environ.get("EVENTRUNNER_X_BEARER_TOKEN", "").strip() or None,
            mastodon_tokens={host.lower(): token for host, token in tokens.items() if host and token},
        )
