"""Do two screens whose clocks are wrong flip each second together?

Starts `eventrunner serve` on a day that is on air, opens the same page (the clock
overlay, then the participant page) in two headless Chromium pages whose `Date` is off by
+10 minutes and by -10 seconds, and records with a MutationObserver the real instant
(performance.timeOrigin + performance.now()) each page's countdown text changes. Per
shown value it reports how far apart the two pages flipped, how far each flip came after
the true second on the server's clock (the server runs on this machine, so its clock is
the real one), and the steps between a page's flips.

With --baseline REV the same is measured with the page scripts of git revision REV
(default: 77f4b13, the last one that rendered on a fixed 250 ms interval), served in
place of today's through Playwright's request routing. The output ends with one line:

    RESULT countdown_max_disagreement_ms=... flips=...

(today's scripts, both pages kinds together).

    .venv/bin/python bench/countdowns.py --flips 30 --baseline 77f4b13
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from playwright.async_api import Browser, Page, Route, async_playwright  # noqa: E402

from tests.browser import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402
from tests.process import ServerProcess, show  # noqa: E402
from tests.test_countdowns import PAGES, RECORD_FLIPS, SKEW_DATE, SKEWS_MS, day_on_air  # noqa: E402

SETTLE_S = 1.5  # after connecting: the clock samples of the connect burst are in


@dataclass
class Run:
    page: str
    scripts: str
    disagreement: list[float]  # per shown value, |page A - page B|, ms
    lateness: list[float]  # per flip of either page, ms after the true second
    steps: list[float]  # between one page's consecutive flips, ms


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def scripts_at(rev: str) -> dict[str, bytes]:
    """Every file under static/js/ at git revision `rev`, by URL path."""
    names = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", rev, "static/js/"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return {
        "/" + name: subprocess.run(
            ["git", "show", f"{rev}:{name}"], cwd=REPO, capture_output=True, check=True
        ).stdout
        for name in names
    }


def serve_from(scripts: dict[str, bytes]):
    async def handle(route: Route) -> None:
        body = scripts.get(urlparse(route.request.url).path)
        if body is None:
            await route.continue_()
        else:
            await route.fulfill(body=body, content_type="application/javascript")

    return handle


async def open_page(
    browser: Browser, url: str, selector: str, viewport: dict, skew: int, scripts: dict[str, bytes] | None
):
    context = await browser.new_context(viewport=viewport)
    if scripts:
        await context.route("**/static/js/**", serve_from(scripts))
    page = await context.new_page()
    await page.add_init_script(SKEW_DATE % skew)
    await page.add_init_script(RECORD_FLIPS % selector)
    await page.goto(url)
    await page.wait_for_selector("body[data-connection=connected]", timeout=15_000)
    return page


async def measure(
    browser: Browser, server: ServerProcess, name: str, flips: int, rev: str | None, scripts: dict | None
) -> Run:
    path, selector, viewport = PAGES[name]
    pages: list[Page] = [
        await open_page(browser, server.url + path, selector, viewport, skew, scripts) for skew in SKEWS_MS
    ]
    await asyncio.sleep(SETTLE_S)
    for page in pages:
        await page.evaluate("window.__flips = []")
    await asyncio.sleep(flips + 0.6)
    recorded = [{text: t for t, text in await page.evaluate("window.__flips")} for page in pages]
    for page in pages:
        await page.context.close()
    target = (await show(server.url))["timing"]["segments"]["opening"]["planned_end"]
    common = sorted(recorded[0].keys() & recorded[1].keys())
    run = Run(name, rev or "today's", [abs(recorded[0][k] - recorded[1][k]) for k in common], [], [])
    for page_flips in recorded:
        instants = sorted(page_flips.values())
        run.lateness += [(t - target + 500) % 1000 - 500 for t in instants]  # < 0: early
        run.steps += [b - a for a, b in itertools.pairwise(instants)]
    return run


def row(run: Run) -> str:
    d, late, steps = run.disagreement, run.lateness, run.steps
    return (
        f"| {run.scripts} | {run.page} | {len(d)} | {statistics.median(d):.1f} | {pct(d, 0.95):.1f} | "
        f"{max(d):.1f} | {statistics.median(late):+.1f} | {min(late):+.1f} to {max(late):+.1f} | "
        f"{min(steps):.1f} to {max(steps):.1f} |"
    )


async def measure_all(flips: int, baseline: str | None, old: dict[str, bytes] | None) -> list[Run]:
    runs: list[Run] = []
    with tempfile.TemporaryDirectory() as tmp:
        server = ServerProcess([str(day_on_air(Path(tmp) / "day.yaml"))], Path(tmp) / "data").start()
        try:
            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
                variants = [(None, None)] + ([(baseline, old)] if baseline else [])
                for rev, scripts in variants:
                    for name in PAGES:
                        runs.append(await measure(browser, server, name, flips, rev, scripts))
                await browser.close()
        finally:
            server.kill()
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--flips", type=int, default=30, help="seconds recorded per page kind")
    parser.add_argument("--baseline", nargs="?", const="77f4b13", default=None, metavar="REV")
    args = parser.parse_args()

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True)
    old = scripts_at(args.baseline) if args.baseline else None
    print(f"# {time.strftime('%a %b %d %Y %H:%M UTC', time.gmtime())}, commit {commit.stdout.strip()}")
    print(f"# {platform.platform()}, Python {platform.python_version()}, {CHROMIUM}")
    skews = " and ".join(f"{skew / 1000:+.0f} s" for skew in SKEWS_MS)
    print(f"# device clocks off by {skews}; {args.flips} s recorded per page kind")
    runs = asyncio.run(measure_all(args.flips, args.baseline, old))

    print()
    print(
        "| scripts | page | flips | disagreement p50 ms | p95 ms | max ms "
        "| after the true second p50 ms | range ms | steps ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for run in runs:
        print(row(run))
    today = [run for run in runs if run.scripts == "today's"]
    worst = max(max(run.disagreement) for run in today)
    count = sum(len(run.disagreement) for run in today)
    print()
    print(f"RESULT countdown_max_disagreement_ms={worst:.1f} flips={count}")


if __name__ == "__main__":
    main()
