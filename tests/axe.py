"""axe-core (from npm, node_modules/axe-core) run in a Playwright page: the WCAG 2.2 A and AA
rules, and what they find as text an assertion can print."""

from __future__ import annotations

import pytest
from playwright.async_api import Page

from .browser import in_ci
from .builders import REPO

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


def require_axe() -> None:
    if not AXE.exists():
        message = f"{AXE.relative_to(REPO)} is missing: npm ci (tests/run.sh does)"
        if in_ci():
            pytest.fail(message)
        pytest.skip(message)


async def violations(page: Page) -> list[dict]:
    """axe's violations of WCAG 2.2 A and AA on the page as it is now. The page's context needs
    bypass_csp=True: axe goes in as an inline script, which the pages' policy blocks."""
    require_axe()
    if not await page.evaluate("typeof window.axe === 'object'"):
        await page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
        assert await page.evaluate("typeof window.axe === 'object'"), "axe did not load: bypass_csp=True?"
    return await page.evaluate(
        "values => axe.run(document, {runOnly: {type: 'tag', values}}).then(r => r.violations)", WCAG_AA
    )


def readable(found: list[dict], where: str) -> str:
    """'' for none; else where, then per rule its id, impact, help and each failing node's
    selector with axe's summary of what to fix."""
    if not found:
        return ""
    lines = [f"{where}:"]
    for rule in found:
        lines.append(f"  {rule['id']} ({rule['impact']}): {rule['help']} <{rule['helpUrl']}>")
        for node in rule["nodes"]:
            summary = " ".join(node.get("failureSummary", "").split())
            lines.append(f"    {' > '.join(map(str, node['target']))}: {summary}")
    return "\n".join(lines)
