"""Debian's Chromium driven by Playwright (its own browser download does not work here)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from playwright.async_api import Page, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")


def in_ci() -> bool:
    """With CI=true a missing browser fails the test instead of skipping it."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


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


WAIT_MS = 15_000


@pytest.fixture
async def browser():
    """Debian's Chromium, once per test (use it by naming `browser`: conftest imports it)."""
    require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield launched
        await launched.close()


async def connected(page: Page) -> None:
    """Until the page's live connection is up."""
    await expect(page.locator("body")).to_have_attribute("data-connection", "connected", timeout=WAIT_MS)
