"""Page scripts must run in OBS 28's embedded Chromium 103: ES2020 syntax at most."""

from __future__ import annotations

import subprocess

from .builders import REPO

ES_CHECK = REPO / "node_modules" / ".bin" / "es-check"


def assert_es2020(*scripts: str) -> None:
    assert ES_CHECK.exists(), "es-check is missing: run `npm ci` (tests/run.sh does)"
    result = subprocess.run(
        [str(ES_CHECK), "es2020", *scripts],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_page_scripts_are_es2020():
    scripts = sorted(str(p.relative_to(REPO)) for p in (REPO / "static").rglob("*.js"))
    assert scripts, "no page scripts found"
    assert_es2020(*scripts)


def test_a_newer_syntax_is_caught(tmp_path):
    modern = tmp_path / "modern.js"
    modern.write_text("class A { #secret = 1; static { this.x = 1; } }\n")
    result = subprocess.run(
        [str(ES_CHECK), "es2020", str(modern)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode != 0
