"""Accessibility checks with axe-core, and screenshots kept as test artefacts, for Playwright tests.

    from tests.web.axe import assert_accessible, screenshot

    page.goto(f"{base}/sign/smart-city")
    assert_accessible(page, context="sign page, 360×740, id")
    screenshot(page, "sign-error-360-id")

`assert_accessible(page, context="", selector=None, exclude=())` injects axe-core into the
page as it is now (after `goto`, a click, an error shown), runs the WCAG 2.0 and 2.1 A/AA
rules, and fails with one line per serious or critical violation: the rule id, its help
text and link, and each element's selector with what is wrong with it. `context` names the
page state in that message; `selector` limits the check to one part of the page (a CSS
selector, e.g. "main"), `exclude` leaves parts out (CSS selectors). On a failure it also
saves a screenshot, named in the message. `violations(page, selector, exclude, rules)`
returns the raw axe results of the same run (or of the axe `rules` named), all impacts,
for a test that wants to look itself; `report(found)` makes them readable.

`screenshot(page, name)` saves a full-page PNG as `<artefacts>/<name>.png` and returns its
path; every browser test saves its pictures through it. The artefact folder is $IKRAR_TEST_ARTIFACTS, or `test-artifacts/` at the repository
root (git-ignored; CI keeps it).

axe-core comes from the pinned `axe-playwright-python` test dependency (pyproject.toml),
which ships `axe.min.js`; nothing is fetched at run time and no copy is kept here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).parents[2]
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
FAILING = ("serious", "critical")
MAX_NODES = 8  # elements listed per rule; the rest are counted
CAPTURE_TRIES = 4  # a screenshot Chromium could not capture is asked for again, this many times in all

_RUN = """([context, options]) => axe.run(context || document, options)"""


@cache
def _axe_script() -> str:
    from axe_playwright_python.sync_playwright import Axe

    return str(Axe().axe_script)


def artifacts() -> Path:
    """The folder for test artefacts ($IKRAR_TEST_ARTIFACTS or test-artifacts/), made if missing."""
    folder = Path(os.environ.get("IKRAR_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def screenshot(page: Any, name: str, full_page: bool = True, **options: Any) -> Path:
    """Save a PNG of `page` as `<artefacts>/<name>.png` (the name made file-safe); returns its path.

    `options` go to Playwright's `page.screenshot` (e.g. `animations="disabled"`). Chromium on a
    loaded machine now and then answers "Unable to capture screenshot" for a frame it had not
    composited yet; that is asked again (up to CAPTURE_TRIES times, a frame apart), any other
    error is raised at once."""
    path = artifacts() / f"{_file_safe(name)}.png"
    for attempt in range(1, CAPTURE_TRIES):
        try:
            page.screenshot(path=str(path), full_page=full_page, **options)
            return path
        except Exception as error:  # playwright's Error; any other kind is raised as it is
            if "Unable to capture screenshot" not in str(error):
                raise
            page.wait_for_timeout(250 * attempt)
    page.screenshot(path=str(path), full_page=full_page, **options)  # the last try: its error is the test's
    return path


def violations(
    page: Any, selector: str | None = None, exclude: Sequence[str] = (), rules: Sequence[str] = ()
) -> list[dict[str, Any]]:
    """axe-core's violations of the WCAG 2.0/2.1 A and AA rules (or only of the axe `rules`
    named) on `page` as it is now, every impact, as axe reports them (`id`, `impact`, `help`,
    `helpUrl`, `nodes` with `target` and `failureSummary`)."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_axe_script())
    context: dict[str, Any] | None = None
    if selector or exclude:
        context = {"include": [[selector or "html"]], "exclude": [[s] for s in exclude]}
    only = {"type": "rule", "values": list(rules)} if rules else {"type": "tag", "values": list(TAGS)}
    options = {"runOnly": only, "resultTypes": ["violations"]}
    result = page.evaluate(_RUN, [context, options])
    return list(result["violations"])


def assert_accessible(page: Any, context: str = "", selector: str | None = None, exclude: Sequence[str] = ()) -> None:
    """Fail when axe-core finds a serious or critical WCAG 2.1 A/AA violation on `page`,
    listing each (rule, help, elements); a screenshot of the page is saved then."""
    found = [v for v in violations(page, selector, exclude) if v.get("impact") in FAILING]
    if not found:
        return
    where = f"{page.url} ({context})" if context else page.url
    shot = screenshot(page, f"axe-{context or page.url}")
    raise AssertionError(
        f"{len(found)} serious or critical accessibility violation(s) on {where}:\n{report(found)}\nscreenshot: {shot}"
    )


def report(found: Sequence[dict[str, Any]]) -> str:
    """axe violations as readable lines: rule id, impact, help and link, then each element."""
    lines: list[str] = []
    for v in found:
        lines.append(f"- {v['id']} ({v.get('impact')}): {v['help']} <{v['helpUrl'].split('?')[0]}>")
        nodes = v.get("nodes", [])
        for node in nodes[:MAX_NODES]:
            target = " ".join(" >> ".join(t) if isinstance(t, list) else str(t) for t in node.get("target", []))
            lines.append(f"    {target}: {_why(node.get('failureSummary') or '')}")
        if len(nodes) > MAX_NODES:
            lines.append(f"    … and {len(nodes) - MAX_NODES} more")
    return "\n".join(lines)


def _why(summary: str) -> str:
    """axe's failure summary on one line, without its "Fix any of the following:" headings."""
    parts = [p.strip() for p in summary.splitlines() if p.strip() and not p.strip().startswith("Fix ")]
    return "; ".join(parts)


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-")[:120] or "page"
