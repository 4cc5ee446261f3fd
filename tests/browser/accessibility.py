"""axe-core in the browser tests: loaded from node_modules (package-lock.json), never a CDN."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page

from tests.conftest import REQUIRE_SERVICES

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
WCAG_21_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]

RUN_AXE = """
async (tags) => {
  const result = await axe.run(document, { runOnly: { type: "tag", values: tags } });
  return result.violations.map((violation) => ({
    id: violation.id,
    help: violation.help,
    nodes: violation.nodes.slice(0, 5).map((node) => node.target.join(" ")),
  }));
}
"""


def axe_path() -> Path:
    """The axe-core build `npm ci` installs; skip without it, or fail where services are due."""
    if not AXE.is_file():
        message = f"accessibility tests need {AXE} (run `npm ci`)"
        if REQUIRE_SERVICES:
            pytest.fail(f"{message} (PHONOGLYPH_REQUIRE_SERVICES=1 forbids skipping)")
        pytest.skip(message)
    return AXE


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """WCAG 2.1 A and AA violations axe finds on the page as it is now."""
    violations: list[dict[str, Any]] = page.evaluate(RUN_AXE, WCAG_21_AA)
    return violations
