"""Debian's Chromium driven by Playwright (its own browser download does not work here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import in_ci

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def require_chromium() -> None:
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is missing: apt-get install chromium (tests/run.sh does)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)
