"""The council's story in real headless Chromium (Playwright for Python driving Debian's
``chromium``; Playwright never downloads a browser here), on SQLite and Postgres: a revops user
signs in, waives one defect and accepts another into a proposal; the proposer cannot approve it;
a council member reviews the proposal's diff and approves it; the governance log names both;
revops then proposes the latest snapshot as the next version from the versions page. A
viewer sees no action buttons and a forged POST from a viewer gets 403; a POST without the CSRF
token is refused; a HubSpot label holding a script stays text. Screenshots are kept as test
artifacts (``test-artifacts/web/``, or under ``HUBAUDIT_TEST_ARTIFACTS``).

Without chromium or playwright these tests skip, except in CI (``CI=true``), where they fail."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubaudit.model.baselines import BaselineStatus
from hubaudit.model.defects import DefectStatus
from hubaudit.services.baselines import baseline_versions
from hubaudit.services.triage import DefectQuery, list_defects

from .conftest import IN_CI, REPO
from .web_support import PASSWORD, SCRIPT_LABEL, World

pytestmark = pytest.mark.slow


def _need(message: str) -> None:
    if IN_CI:
        pytest.fail(message + " (CI=true: the browser tests must run)")
    pytest.skip(message)


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        _need("Chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _need("playwright is not installed (pip install -e '.[test]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            yield launched
        finally:
            launched.close()


def artifacts(database_url: str) -> Path:
    base = Path(os.environ.get("HUBAUDIT_TEST_ARTIFACTS", REPO / "test-artifacts"))
    folder = base / "web" / ("postgres" if database_url.startswith("postgresql") else "sqlite")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def world(web_world: World) -> World:
    return web_world


class Person:
    """One person's browser: their own cookies, every console error and dialog recorded."""

    def __init__(self, browser: Any, world: World, name: str, width: int = 1400) -> None:
        self.context = browser.new_context(
            base_url=world.url, viewport={"width": width, "height": 900}
        )
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.page.on(
            "console",
            lambda m: self.problems.append(m.text) if m.type in ("error", "warning") else None,
        )
        self.page.on(
            "dialog", lambda d: (self.problems.append("dialog: " + d.message), d.dismiss())
        )
        self.page.goto("/")
        assert "/login" in self.page.url
        self.page.fill("input[name=username]", name)
        self.page.fill("input[name=password]", PASSWORD)
        self.page.click("button:text('Sign in')")
        assert self.page.url.rstrip("/") == world.url, self.page.url

    def csrf(self) -> str:
        return str(self.page.locator("input[name=csrf]").first.get_attribute("value"))

    def forge(self, path: str, **form: str) -> int:
        """A POST the pages offer no button for, sent with this person's cookies."""
        response = self.page.request.post(path, form=form, max_redirects=0)
        return int(response.status)

    def shot(self, folder: Path, name: str) -> None:
        self.page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


def test_the_council_story_in_a_browser(browser: Any, world: World, database_url: str) -> None:
    shots = artifacts(database_url)
    defects = sorted(
        (d for d in list_defects(world.store, "demo", DefectQuery())),
        key=lambda d: d.id,
    )
    waived, accepted = [d for d in defects if d.label != SCRIPT_LABEL and d.field][:2]
    script = next(d for d in defects if d.label == SCRIPT_LABEL)

    rita = Person(browser, world, "rita")
    rita.page.click("a:text('demo')")
    rita.shot(shots, "1-defects-revops")
    rita.page.click(f"a[href='/portals/demo/defects/{waived.id}'] >> nth=0")
    rita.page.fill("input[name=reason]", "Q1 campaign, reverted after")
    rita.page.fill("input[name=until]", "2099-01-31")
    rita.page.click("button[value=waive]")
    assert rita.page.locator(".done").inner_text() == "Waived."
    assert rita.page.locator("dd.status").inner_text() == "waived"
    rita.page.goto(f"/portals/demo/defects/{accepted.id}")
    rita.page.fill("form:has(button[value=accept]) input[name=note]", "the new limit is right")
    rita.page.click("button[value=accept]")
    assert rita.page.locator(".done").inner_text().startswith("Accepted")
    rita.page.click("a:text('baseline v2')")
    assert "rita" in rita.page.locator("dd.proposers").inner_text()
    # the proposer is offered no approval, and one forged is refused
    assert rita.page.locator("button[value=approve]").count() == 0
    csrf = rita.csrf()
    assert rita.forge("/portals/demo/baselines/2", csrf=csrf, decision="approve", note="x") == 403
    rita.shot(shots, "2-proposal-as-proposer")
    # a POST without the CSRF token is refused
    assert rita.forge("/portals/demo/defects", ids=str(script.id), action="acknowledge") == 403
    rita.close()

    carl = Person(browser, world, "carl")
    carl.page.goto("/portals/demo/baselines")
    carl.page.click("a:text('v2')")
    diff = carl.page.locator("table.diff tbody tr")
    assert diff.count() >= 1
    assert accepted.key in carl.page.locator("table.diff").inner_text()
    carl.shot(shots, "3-proposal-review-council")
    carl.page.fill("input[name=note]", "agreed at the council of Dec 5")
    carl.page.click("button[value=approve]")
    assert carl.page.locator(".done").inner_text() == "Approved."
    version = baseline_versions(world.store, "demo")[-1].baseline
    assert (version.version, version.status, version.approved_by) == (
        2,
        BaselineStatus.APPROVED,
        "carl",
    )
    # any two versions side by side, picked from the list (the newest two by default)
    carl.page.goto("/portals/demo/baselines")
    carl.page.click("button:text('Side by side')")
    assert "/baselines/diff?from=1&to=2" in carl.page.url
    assert accepted.key in carl.page.locator("table.diff").inner_text()
    carl.shot(shots, "3b-versions-side-by-side")
    carl.page.click("a:text('Dashboard')")
    assert carl.page.locator("figure.chart svg rect").count() > 0
    carl.shot(shots, "3c-dashboard")
    carl.page.click("a:text('Health')")
    assert carl.page.locator("dd.database").inner_text() == "ok"
    carl.shot(shots, "3d-health")
    carl.page.goto("/portals/demo/baselines")
    carl.page.click("a:text('Governance log')")
    actors = carl.page.locator("td.actor").all_inner_texts()
    assert "rita" in actors and "carl" in actors
    carl.shot(shots, "4-governance-log")
    # a HubSpot label holding a script is shown as text and never runs
    carl.page.goto(f"/portals/demo/defects/{script.id}")
    assert SCRIPT_LABEL in carl.page.locator("h1").inner_text()
    assert carl.page.locator("script").count() == 0
    carl.shot(shots, "5-script-label-is-text")
    # the run's report as the triage view, filtered by severity with the plain form
    carl.page.goto("/portals/demo/runs")
    carl.page.click("tbody a >> nth=0")
    carl.page.wait_for_url("**/runs/*")  # the run's page, loaded before it is read
    everything = carl.page.locator("tr.item-row").count()
    assert SCRIPT_LABEL in carl.page.locator("main").inner_text()  # text, never run
    carl.page.check("input[name=severity][value=critical]")
    carl.page.check("input[name=severity][value=high]")
    carl.page.click("button:text('Filter')")
    carl.page.wait_for_url("**severity=high**")  # the filtered page, loaded before it is read
    carl.page.wait_for_load_state()
    assert "severity=critical" in carl.page.url and "severity=high" in carl.page.url
    severities = set(carl.page.locator("tr.item-row td.sev").all_inner_texts())
    assert severities and {s.split()[0] for s in severities} <= {"critical", "high"}
    assert 0 < carl.page.locator("tr.item-row").count() < everything
    assert carl.page.locator("script").count() == 0
    carl.shot(shots, "5b-run-triage-filtered")
    assert carl.problems == []  # no script ran, no CSP violation, no dialog
    carl.close()

    vera = Person(browser, world, "vera", width=390)
    vera.page.goto("/portals/demo/defects")
    assert vera.page.locator("button[name=action], button[name=decision]").count() == 0
    vera.page.goto(f"/portals/demo/defects/{script.id}")
    assert vera.page.locator("button").count() == 1  # only "Sign out"
    vera.shot(shots, "6-viewer-390px")
    vera.page.goto("/portals/demo/runs")
    vera.page.click("tbody a >> nth=0")
    vera.page.wait_for_url("**/runs/*")
    vera.page.check("input[name=severity][value=high]")
    vera.page.click("button:text('Filter')")
    vera.page.wait_for_url("**severity=high**")
    vera.page.wait_for_load_state()
    assert vera.page.locator("tr.item-row").count() > 0
    assert vera.page.locator("button[name=action], input[name=ids]").count() == 0
    vera.shot(shots, "6b-run-triage-viewer-390px")
    forged = vera.forge("/portals/demo/defects", csrf=vera.csrf(), ids=str(script.id),
                        action="acknowledge")  # fmt: skip
    assert forged == 403
    statuses = {d.id: d.status for d in list_defects(world.store, "demo", DefectQuery())}
    assert statuses[script.id] is DefectStatus.OPEN
    assert statuses[waived.id] is DefectStatus.WAIVED
    assert statuses[accepted.id] is DefectStatus.ACCEPTED
    vera.close()

    # the rest of night 2 is the architecture now: revops proposes the latest snapshot as v3
    rita = Person(browser, world, "rita")
    rita.page.goto("/portals/demo/baselines")
    rita.page.fill("form.propose input[name=note]", "night 2 as it stands")
    rita.shot(shots, "7-propose-the-latest-snapshot")
    rita.page.click("button:text('Propose the latest snapshot as the next version')")
    assert rita.page.url.endswith("/portals/demo/baselines/3?done=proposed")
    assert rita.page.locator(".done").inner_text().startswith("Proposed")
    assert rita.page.locator("button[value=approve]").count() == 0
    rita.shot(shots, "8-proposed-v3")
    rita.page.goto("/portals/demo/baselines")
    assert "v3 is proposed" in rita.page.locator(".pending").inner_text()
    assert rita.page.locator("form.propose").count() == 0
    assert rita.problems == []
    rita.close()
    version = baseline_versions(world.store, "demo")[-1].baseline
    assert (version.version, version.status, version.proposed_by) == (
        3,
        BaselineStatus.PROPOSED,
        "rita",
    )
