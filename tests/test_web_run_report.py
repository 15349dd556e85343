"""A run's report as the web app's triage view (``/portals/{portal}/runs/{id}``), over loopback
on SQLite and Postgres: the stored report through the HTML report's view model (its summary
line first), every change of the run a row, each filter — severity, kind, defect status,
person, text — and their combination narrowing the rows to what the stored report's changes
say they should be; HubSpot's strings stay text; a viewer gets no action; a run that stored
no report shows its status and error; an unknown run is a 404."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest

from hubaudit.model.changes import Change, Classification, Severity
from hubaudit.model.defects import DefectStatus
from hubaudit.model.items import Kind, kind_of
from hubaudit.model.runs import RunStats, RunStatus, RunTrigger
from hubaudit.report.sections import who
from hubaudit.report.view import build
from hubaudit.services import triage
from hubaudit.services.actor import Actor
from hubaudit.services.reports import run_report
from hubaudit.services.runs import recent_runs
from hubaudit.store.runs import RunStore

from .web_support import SCRIPT_LABEL, World, csrf_of


@pytest.fixture
def world(web_world: World) -> World:
    return web_world


class Rows(HTMLParser):
    """The change rows of a triage page: (item key, severity, who, defect id) each."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[dict[str, str]] = []
        self.cell: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and "item-row" in (found.get("class") or ""):
            self.rows.append({"key": found.get("data-key") or ""})
        elif tag == "td" and self.rows and found.get("data-label"):
            self.cell = found["data-label"]
            self.rows[-1][self.cell] = ""
        elif tag == "br" and self.cell is not None:
            self.rows[-1][self.cell] += "\n"

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.rows[-1][self.cell] += data


def rows_of(page: str) -> list[tuple[str, str, str, str]]:
    parser = Rows()
    parser.feed(page)
    return sorted(
        (
            row["key"],
            row["Severity"].split()[0],
            row["Who"].split("\n")[0].removesuffix(" (unknown confidence)").split(" (")[0],
            row["Defect"].split()[0] if row["Defect"].strip() else "",
        )
        for row in parser.rows
    )


def expected(changes: list[Change], keep: Callable[[Change], bool]) -> list[tuple[str, ...]]:
    return sorted(
        (
            c.key,
            c.severity.value,
            who(c) or "unknown",
            f"#{c.defect_id}" if c.defect_id is not None else "",
        )
        for c in changes
        if keep(c)
    )


def latest_run(world: World) -> int:
    return next(r.id for r in recent_runs(world.store, "demo") if r.status is RunStatus.SUCCEEDED)


def test_a_runs_report_is_the_triage_view_linked_from_the_lists(world: World) -> None:
    vera = world.sign_in("vera")  # a viewer reads it, and is offered no action
    run = latest_run(world)
    link = f'href="/portals/demo/runs/{run}"'
    assert link in vera.get("/portals/demo/runs").text
    assert link in vera.get("/").text  # the portfolio's last run
    assert link in vera.get("/portals/demo/dashboard").text
    page = vera.get(f"/portals/demo/runs/{run}")
    assert page.status_code == 200
    result = run_report(world.store, "demo", run)
    view = build(result)
    text = html.unescape(page.text)
    # the report's summary line first, then every change of the run a row
    assert text.index(view.summary_line) < text.index('<form method="get" class="filters">')
    assert rows_of(page.text) == expected(list(result.changes), lambda c: True)
    total = len(result.changes)
    assert f"({total} of {total} changes)" in text
    # the tiers of the HTML report, in its order
    titles = [s.title for s in view.triage]
    assert titles and [text.index(f"<h2>{t} ") for t in titles] == sorted(
        text.index(f"<h2>{t} ") for t in titles
    )
    # each defect links to its page, each item to its history
    for defect in {c.defect_id for c in result.changes if c.defect_id is not None}:
        assert f'href="/portals/demo/defects/{defect}"' in page.text
    assert "/portals/demo/history?key=property%3Adeals%3Arenewal_type" in page.text
    # a HubSpot label holding a script stays text
    assert SCRIPT_LABEL not in page.text and html.escape(SCRIPT_LABEL) in page.text
    assert "<script" not in page.text
    # a viewer: no checkbox, no action, not even the bulk form
    assert 'name="ids"' not in page.text and 'name="action"' not in page.text
    assert 'method="post" action="/portals/demo/defects"' not in page.text


def test_each_filter_narrows_the_rows_and_they_combine(world: World) -> None:
    rita = world.sign_in("rita")
    run = latest_run(world)
    changes = list(run_report(world.store, "demo", run).changes)
    url = f"/portals/demo/runs/{run}"

    def shown(**params: str | list[str]) -> list[tuple[str, str, str, str]]:
        page = rita.get(url, params=params)
        assert page.status_code == 200, page.text
        return rows_of(page.text)

    severities = {c.severity for c in changes}
    assert len(severities) >= 3  # the filters below leave some rows out
    chosen = [Severity.CRITICAL.value, Severity.HIGH.value]
    assert shown(severity=chosen) == expected(changes, lambda c: c.severity.value in chosen)
    kinds = [Kind.PROPERTY.value, Kind.WORKFLOW.value]
    by_kind = expected(changes, lambda c: kind_of(c.key).value in kinds)
    assert shown(kind=kinds) == by_kind and 0 < len(by_kind) < len(changes)
    # a person HubSpot names, and those it does not
    people = {who(c) for c in changes if c.classification is not Classification.VENDOR}
    person = sorted(p for p in people if p)[0]
    assert shown(person=person) == expected(changes, lambda c: who(c) == person)
    assert "" in people
    assert shown(person="(unknown)") == expected(changes, lambda c: not who(c))
    nobody = rita.get(url, params={"person": "mallory@example.com"})
    assert nobody.status_code == 400 and "mallory@example.com" in html.unescape(nobody.text)
    # text: a piece of the item's key, in another case
    assert shown(q="RENEWAL_TYPE") == expected(changes, lambda c: "renewal_type" in c.key)
    # defect status as it stands now: acknowledge one, it leaves "open" and is "acknowledged"
    defects = sorted({c.defect_id for c in changes if c.defect_id is not None})
    triage.acknowledge_defects(world.store, "demo", defects[:1], Actor("rita"))
    assert shown(status="acknowledged") == expected(changes, lambda c: c.defect_id == defects[0])
    open_rows = shown(status="open")
    assert open_rows == expected(
        changes, lambda c: c.defect_id is not None and c.defect_id != defects[0]
    )
    # combined: high or critical properties only
    both = expected(
        changes,
        lambda c: c.severity.value in chosen and kind_of(c.key) is Kind.PROPERTY,
    )
    assert shown(severity=chosen, kind="property") == both
    assert len(both) < len(expected(changes, lambda c: c.severity.value in chosen))
    # nothing matches: said so, with the counts
    page = rita.get(url, params={"q": "no-such-thing-anywhere"})
    assert rows_of(page.text) == []
    assert "Nothing in this report matches the filter." in page.text
    assert "Showing 0 of " in page.text and f"(0 of {len(changes)} changes)" in page.text
    # a value no filter offers is refused
    assert rita.get(url, params={"severity": "urgent"}).status_code == 400
    assert rita.get(url, params={"kind": "deal"}).status_code == 400


def test_revops_acts_on_a_runs_defects_from_its_page(world: World) -> None:
    rita = world.sign_in("rita")
    run = latest_run(world)
    page = rita.get(f"/portals/demo/runs/{run}", params={"severity": "high"})
    assert 'name="ids"' in page.text and 'value="acknowledge"' in page.text
    defect = next(
        c.defect_id
        for c in run_report(world.store, "demo", run).changes
        if c.defect_id is not None and c.severity is Severity.HIGH
    )
    done = rita.post(
        "/portals/demo/defects",
        data={
            "csrf": csrf_of(page.text),
            "ids": str(defect),
            "action": "acknowledge",
            "back": "run",
            "run": str(run),
        },
    )
    assert done.status_code == 303
    assert done.headers["location"] == f"/portals/demo/runs/{run}?done=acknowledged"
    after = rita.get(done.headers["location"]).text
    assert "Acknowledged." in after
    assert f"#{defect}</a> acknowledged" in after
    statuses = triage.defect_statuses(world.store, "demo", [defect])
    assert statuses == {defect: DefectStatus.ACKNOWLEDGED}


def test_a_run_without_a_report_and_an_unknown_run(world: World) -> None:
    vera = world.sign_in("vera")
    runs = RunStore(world.store)
    now = datetime.now(UTC)
    record = runs.start_now("demo", RunTrigger.CLI, "w", now, timedelta(minutes=5))
    error = "the portal was unreachable: <connection refused>"
    runs.finish(record.id, "w", RunStatus.FAILED, RunStats(), now, error)
    page = vera.get(f"/portals/demo/runs/{record.id}")
    assert page.status_code == 200
    text = html.unescape(page.text)
    assert "This run stored no report: it did not succeed (status failed)." in text
    assert error in text and "<connection refused>" not in page.text
    assert f'href="/portals/demo/runs/{record.id}"' in vera.get("/portals/demo/runs").text
    # no such run, another portal's name, a run id that is not a number
    missing = vera.get(f"/portals/demo/runs/{record.id + 100}")
    assert missing.status_code == 404 and "has no run" in missing.text
    assert vera.get(f"/portals/nope/runs/{record.id}").status_code == 404
    assert vera.get("/portals/demo/runs/abc").status_code == 404
    anonymous = world.client().get(f"/portals/demo/runs/{record.id}")
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_a_runs_drift_is_decoded_once_and_without_its_findings(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The triage page's reports: the stored report's drift exactly, none of its policy
    findings (most of a large portal's document), read from the database once."""
    from hubaudit.services.reports import StoredDrift

    run = latest_run(world)
    whole = run_report(world.store, "demo", run)
    assert whole.findings  # the stored report has findings to leave out
    reads: list[int | None] = []
    document = world.store.report_document

    def counted(portal: str, run_id: int | None = None) -> dict[str, object]:
        reads.append(run_id)
        return document(portal, run_id)

    monkeypatch.setattr(world.store, "report_document", counted)
    held = StoredDrift(size=1)
    first = held.of(world.store, "demo", run)
    assert first is not None and held.of(world.store, "demo", run) is first
    assert reads == [run]
    assert first.changes == whole.changes and first.present_defects == whole.present_defects
    assert first.findings == () and first.resolved_findings == ()
