"""A built wheel, installed away from the source tree, serves every page.

Templates, overlays, static files and the shipped schedules live outside the Python
package in the source tree; the wheel must carry them all (see pyproject.toml).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from eventrunner.web.bundles import bundles
from eventrunner.web.overlays import OVERLAYS
from eventrunner.web.static import load_assets

from .builders import REPO
from .conftest import PASSWORD
from .process import ServerProcess

pytestmark = pytest.mark.slow

# Top-level folders a build never needs (and that would make copying the tree slow).
NOT_SOURCE = {
    ".git",
    ".venv",
    "node_modules",
    "build",
    "dist",
    "data",
    "test-artifacts",
    ".pytest_cache",
    ".ruff_cache",
}
# Top-level source folders and where the wheel keeps them.
SHIPPED = {
    "eventrunner": "eventrunner",
    "overlays": "eventrunner/_overlays",
    "schedules": "eventrunner/_schedules",
    "static": "eventrunner/_static",
}
STATIC_REF = re.compile(r'"/static/([^"?]+)\?v=([^"]+)"')
QUIET_PIP = ["-m", "pip", "-q", "--disable-pip-version-check", "--no-input"]


def run(*command: str | Path, cwd: Path) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, f"{command}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def not_source(folder: str, names: list[str]) -> set[str]:
    skip = {name for name in names if name == "__pycache__" or name.endswith(".egg-info")}
    return skip | (NOT_SOURCE & set(names) if Path(folder) == REPO else set())


def build_wheel(tmp_path: Path) -> tuple[Path, Path]:
    """Builds from a copy of the tree, so the build leaves nothing in the checkout; offline,
    with the build backend the test extra installs."""
    source = tmp_path / "source"
    shutil.copytree(REPO, source, ignore=not_source)
    wheels = tmp_path / "wheels"
    build = ["wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", wheels, source]
    run(sys.executable, *QUIET_PIP, *build, cwd=tmp_path)
    (wheel,) = wheels.glob("eventrunner-*.whl")
    return source, wheel


def fresh_venv(tmp_path: Path, wheel: Path) -> Path:
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    python = venv / "bin" / "python"
    run(python, *QUIET_PIP, "install", "--no-deps", "--no-index", wheel, cwd=tmp_path)
    # The dependencies come from the environment running the tests, appended after the
    # venv's own site-packages (so the wheel's eventrunner wins over any other copy); a
    # plain path line in a .pth does not run that environment's editable-install hooks.
    site = Path(
        run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip()
    )
    ours = sysconfig.get_paths()
    (site / "test-dependencies.pth").write_text(f"{ours['purelib']}\n{ours['platlib']}\n")
    return venv


def test_the_wheel_holds_every_shipped_file(tmp_path):
    source, wheel = build_wheel(tmp_path)
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, inside in SHIPPED.items():
        for path in (source / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                relative = path.relative_to(source / folder).as_posix()
                assert f"{inside}/{relative}" in names, f"{folder}/{relative} is not in the wheel"


@dataclass(frozen=True)
class Installed:
    source: Path  # the tree the wheel was built from
    venv: Path
    elsewhere: Path  # a working directory with no source tree in it


@pytest.fixture
def installed(tmp_path: Path) -> Installed:
    source, wheel = build_wheel(tmp_path)
    venv = fresh_venv(tmp_path, wheel)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(
        venv / "bin" / "python",
        "-c",
        "import eventrunner, eventrunner.config as c; print(eventrunner.__file__, c.STATIC_DIR, "
        "c.OVERLAYS_DIR, c.SCHEDULES_DIR, c.DEMO_SCHEDULE, c.TEMPLATES_DIR, sep='\\n')",
        cwd=elsewhere,
    ).split()
    for path in where:
        assert Path(path).is_relative_to(venv), f"{path} is not from the installed wheel"
        assert Path(path).exists(), path
    return Installed(source, venv, elsewhere)


async def test_an_installed_wheel_serves_every_page(installed):
    program = [str(installed.venv / "bin" / "eventrunner")]
    server = ServerProcess(["--demo"], Path("data"), program=program, cwd=installed.elsewhere).start()
    try:
        # A relative --data-dir is named in full, so nobody has to guess where it went.
        assert f"(data in {(installed.elsewhere / 'data').resolve()})" in "".join(server.output)
        jar = aiohttp.CookieJar(unsafe=True)  # keep the producer's session on 127.0.0.1
        async with aiohttp.ClientSession(server.url, cookie_jar=jar) as session:

            async def page(path: str, *marks: str) -> str:
                async with session.get(path) as response:
                    text = await response.text()
                    assert response.status == 200, f"{path}: {response.status}\n{text}"
                for mark in marks:
                    assert mark in text, f"{path} lacks {mark!r}"
                return text

            async with session.post("/producer/login", data={"password": PASSWORD}) as response:
                assert response.status == 200  # after the redirect to the console
            pages = [
                await page("/", "#CommunitiesNotCages", "/static/bundles/participant.js?v="),
                await page("/producer", "/static/js/producer.js?v="),
                await page("/overlays/", *(overlay.url for overlay in OVERLAYS)),
            ]
            for overlay in OVERLAYS:
                pages.append(await page(overlay.url, f"/static/js/overlays/{overlay.name}.js?v="))

            # Every file the pages load is served, and is the file from the tree (or the
            # bundle of files from the tree).
            referenced = {ref for text in pages for ref in STATIC_REF.findall(text)}
            assert len(referenced) >= 10
            files = load_assets(installed.source / "static")
            tree = {**files, **bundles(files)}
            for path, version in sorted(referenced):
                assert version != "missing", f"the server did not find static/{path}"
                async with session.get(f"/static/{path}") as response:
                    assert response.status == 200, path
                    assert await response.read() == tree[path].body, path
    finally:
        server.stop()
