"""Reports RevOps acts on at 8am: every human format (text, Markdown, HTML) lays drift out in
triage order — new critical and high first, then other new drift, then what is carried over
with its age, then what is handled (acknowledged, waived with until/reason/by, planned,
ignored, HubSpot's own) — with each item's status, the value that puts it back, a summary
line first and last, and words in the singular where there is one.

Two portals: one built here with one change of each kind and standing, and the demo portal
audited twice over real HTTP with defects acknowledged, waived and ignored in between."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hubaudit.config import PortalConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.governance.ignore import IgnoreRule
from hubaudit.governance.triage import Standing, TriageFacts, standing_of, triage_order
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Attribution, Change, ChangeOp, Classification, Severity
from hubaudit.model.defects import DefectStatus, DefectUpdate, Waiver
from hubaudit.model.items import CoverageStatus, Kind, KindCoverage, SnapshotInfo
from hubaudit.model.kpis import Kpis, WeekCount
from hubaudit.notify.base import build_digest
from hubaudit.notify.email import digest_lines, email_message
from hubaudit.report import render
from hubaudit.report.html import chart_of
from hubaudit.report.sections import percent, plural, times
from hubaudit.services.actor import Actor
from hubaudit.services.audit_run import run_audit
from hubaudit.services.triage import acknowledge_defects, waive_defects
from hubaudit.store.repository import Store

from .conftest import baseline_from_night1
from .report_fixture import NOW, tracked

HUMAN = ("text", "md", "html")

# The portal with one change of each kind, in the order triage must show them.
EXPECTED_ORDER = (
    "user:2305118",  # new critical (older edit)
    "workflow:1201001",  # new high, the newest edit
    "property:deals:competitor",  # new high, an older edit
    "property:contacts:tiktok_handle",  # new medium: other new drift
    "pipeline:deals:default",  # carried over, open 12 days
    "property:companies:industry",  # acknowledged
    "property:deals:amount",  # waived
    "property:deals:renewal_date",  # planned
    "association_label:0-2:0-3:USER_DEFINED:106",  # ignored
    "property:deals:hs_new_default",  # HubSpot's own
)


def _change(
    key: str, op: ChangeOp, field: str | None, before: object, after: object, **kw: object
) -> Change:
    kind = Kind(key.split(":", 1)[0])
    path = tuple(field.split(".")) if field else ()
    return Change(kind, key, op, field, path, before, after, **kw)  # type: ignore[arg-type]


def each_kind() -> AuditResult:
    """One change of each op and of each standing, in an order triage must undo."""
    admin = Attribution("7", "it.admin@example.com", NOW - timedelta(hours=2), "x", "low")
    earlier = Attribution("7", "it.admin@example.com", NOW - timedelta(hours=9), "x", "medium")
    changes = (
        _change(
            "association_label:0-2:0-3:USER_DEFINED:106",
            ChangeOp.ADDED,
            None,
            None,
            {"label": "Reseller", "category": "USER_DEFINED"},
            classification=Classification.IGNORED,
            severity=Severity.LOW,
            note="ignored by rule 1: labels come and go",
        ),
        _change(
            "pipeline:deals:default",
            ChangeOp.MODIFIED,
            "stages.closedlost.label",
            "Closed Lost",
            "Closed Lost - no decision",
            label="Sales Pipeline",
            severity=Severity.LOW,
            defect_id=5,
        ),
        _change(
            "property:companies:industry",
            ChangeOp.MODIFIED,
            "description",
            "The type of business",
            "Industry, ICP aligned",
            label="Industry",
            severity=Severity.HIGH,
            defect_id=6,
        ),
        _change(
            "property:contacts:tiktok_handle",
            ChangeOp.ADDED,
            None,
            None,
            {"label": "TikTok handle", "type": "string", "groupName": "socialmedia", "options": []},
            label="TikTok handle",
            severity=Severity.MEDIUM,
            defect_id=3,
            attribution=admin,
        ),
        _change(
            "property:deals:amount",
            ChangeOp.MODIFIED,
            "label",
            "Amount",
            "Amt",
            label="Amount",
            classification=Classification.WAIVED,
            severity=Severity.CRITICAL,
            defect_id=7,
        ),
        _change(
            "property:deals:competitor",
            ChangeOp.REMOVED,
            None,
            {"label": "Main competitor", "type": "string", "groupName": "dealinformation"},
            None,
            label="Main competitor",
            severity=Severity.HIGH,
            defect_id=2,
            attribution=earlier,
        ),
        _change(
            "property:deals:hs_new_default",
            ChangeOp.ADDED,
            None,
            None,
            {"label": "New default", "hubspotDefined": True},
            label="New default",
            classification=Classification.VENDOR,
            severity=Severity.MEDIUM,
        ),
        _change(
            "property:deals:renewal_date",
            ChangeOp.ADDED,
            None,
            None,
            {"label": "Renewal date", "type": "date"},
            label="Renewal date",
            classification=Classification.PLANNED,
            severity=Severity.MEDIUM,
            change_request=1,
            note="planned by CR-1: renewals",
        ),
        _change(
            "user:2305118",
            ChangeOp.MODIFIED,
            "superAdmin",
            False,
            True,
            label="sam.okafor@example.com",
            severity=Severity.CRITICAL,
            defect_id=1,
        ),
        _change(
            "workflow:1201001",
            ChangeOp.MODIFIED,
            "isEnabled",
            True,
            False,
            label="Lead nurture",
            severity=Severity.HIGH,
            defect_id=4,
            attribution=admin,
        ),
    )
    waiver = Waiver(
        1, 7, "Rita Council", NOW - timedelta(days=9), "label migration", NOW + timedelta(days=3)
    )
    return AuditResult(
        portal="acme",
        snapshot=SnapshotInfo(
            9,
            "acme",
            NOW,
            (KindCoverage(Kind.PROPERTY, "property:deals", CoverageStatus.COMPLETE, 478),),
            478,
        ),
        baseline=BaselineInfo(
            1,
            "acme",
            3,
            "Council",
            NOW - timedelta(days=30),
            "Q4",
            478,
            4,
            ("property:deals",),
            proposed_at=NOW - timedelta(days=30),
        ),
        changes=changes,
        not_verified=(),
        defects=DefectUpdate(opened=(1, 2, 3, 4), seen_again=(5, 6, 7)),
        present_defects=(
            tracked(1, "user:2305118", None, DefectStatus.OPEN, 0),
            tracked(2, "property:deals:competitor", None, DefectStatus.OPEN, 0),
            tracked(3, "property:contacts:tiktok_handle", None, DefectStatus.OPEN, 0),
            tracked(4, "workflow:1201001", None, DefectStatus.OPEN, 0),
            tracked(5, "pipeline:deals:default", None, DefectStatus.OPEN, 12),
            tracked(6, "property:companies:industry", None, DefectStatus.ACKNOWLEDGED, 1),
            tracked(7, "property:deals:amount", None, DefectStatus.WAIVED, 9, waiver),
        ),
        kpis=Kpis(
            since=NOW - timedelta(weeks=2),
            until=NOW,
            weeks=(
                WeekCount("2026-W47", 0, 0),
                WeekCount("2026-W48", 0, 0),
                WeekCount("2026-W49", 9, 1),
            ),
            unplanned=9,
            planned=1,
            mean_days_to_resolve=None,
            resolved=0,
            open_by_age={"0-7 days": 1},
            top_changers=(("it.admin@example.com", 2),),
            documented=1,
            custom_properties=1,
            under_baseline=476,
            items=478,
        ),
    )


def positions(text: str, keys: tuple[str, ...]) -> list[int]:
    """Where each key first appears in a report (Markdown escapes its underscores)."""
    plain = text.replace("\\_", "_")
    return [plain.index(key) for key in keys]


# the rule itself -------------------------------------------------------------------------------


def test_triage_order_puts_new_critical_first_and_the_handled_last() -> None:
    def facts(row: tuple[str, Standing, Severity, int]) -> TriageFacts:
        key, standing, severity, hours = row
        return TriageFacts(standing, severity, NOW - timedelta(hours=hours), key)

    rows = [
        ("waived-critical", Standing.WAIVED, Severity.CRITICAL, 1),
        ("old-low", Standing.CARRIED_OVER, Severity.CRITICAL, 1),
        ("new-low", Standing.NEW, Severity.LOW, 0),
        ("new-high-older", Standing.NEW, Severity.HIGH, 5),
        ("new-high-newer", Standing.NEW, Severity.HIGH, 1),
        ("new-critical", Standing.NEW, Severity.CRITICAL, 9),
        ("vendor", Standing.VENDOR, Severity.HIGH, 0),
        ("ack", Standing.ACKNOWLEDGED, Severity.LOW, 0),
    ]
    assert [r[0] for r in triage_order(rows, facts)] == [
        "new-critical",
        "new-high-newer",
        "new-high-older",
        "new-low",
        "old-low",
        "ack",
        "waived-critical",
        "vendor",
    ]
    assert (
        standing_of(Classification.DEFECT, DefectStatus.ACKNOWLEDGED, False)
        is Standing.ACKNOWLEDGED
    )
    assert standing_of(Classification.DEFECT, DefectStatus.OPEN, True) is Standing.NEW
    assert standing_of(Classification.DEFECT, DefectStatus.OPEN, False) is Standing.CARRIED_OVER
    assert standing_of(Classification.WAIVED, None, False) is Standing.WAIVED


def test_plurals_and_percentages_say_what_is_true() -> None:
    assert (plural(1, "item"), plural(2, "item"), plural(1, "depends", "depend")) == (
        "1 item",
        "2 items",
        "1 depends",
    )
    assert (times(1), times(2), times(5)) == ("once", "twice", "5 times")
    assert percent(476 / 478) == "99.6%"
    assert (percent(1.0), percent(0.0), percent(0.5), percent(1 / 3000)) == (
        "100%",
        "0%",
        "50%",
        "0.03%",
    )


def test_the_chart_names_its_last_week() -> None:
    result = each_kind()
    assert result.kpis is not None
    for count in (3, 12, 13):
        weeks = tuple(WeekCount(f"2026-W{n:02d}", n % 3, 0) for n in range(1, count + 1))
        chart = chart_of(replace(result.kpis, weeks=weeks))
        assert chart.bars[-1].tick == weeks[-1].week[5:], count


# one change of each kind, in every human format ----------------------------------------------


@pytest.mark.parametrize("fmt", HUMAN)
def test_every_format_shows_drift_in_triage_order(fmt: str) -> None:
    text = render(each_kind(), fmt)
    found = positions(text, EXPECTED_ORDER)
    assert found == sorted(found), [k for _p, k in sorted(zip(found, EXPECTED_ORDER, strict=True))]
    for title in (
        "Act now",
        "Other new drift",
        "Carried over",
        "Acknowledged",
        "Waived",
        "Planned",
        "Ignored",
    ):
        assert title in text, title
    assert text.index("Act now") < text.index("Other new drift") < text.index("Carried over")


@pytest.mark.parametrize("fmt", HUMAN)
def test_every_format_shows_each_items_status_and_the_waivers_terms(fmt: str) -> None:
    text = render(each_kind(), fmt).replace("\\_", "_").replace("\\-", "-")
    for status in (
        "carried over, open 12 days, seen 13 times",
        "acknowledged, open 1 day, seen twice",
        "waived until 2026-11-26 by Rita Council: label migration",
        "planned by CR-1",
        "ignored",
        "HubSpot's own",
    ):
        assert status in text, status
    # new ones say so, and the waiver ending in three days is listed as expiring soon
    assert re.search(r"\bnew\b", text)
    assert "Waivers expiring within 7 days" in text
    assert "ends in 3 days" in text


@pytest.mark.parametrize("fmt", HUMAN)
def test_every_format_says_how_to_put_each_change_back(fmt: str) -> None:
    text = render(each_kind(), fmt)
    plain = text.replace("\\_", "_").replace("&quot;", '"').replace("&#34;", '"')
    assert "delete TikTok handle" in plain  # an added item
    assert "recreate Main competitor" in plain  # a removed item
    assert 'set stages.closedlost.label back to "Closed Lost"' in plain
    if fmt == "text":
        assert "↩ put back: set superAdmin back to false" in text
    else:
        assert "To put it back" in text
        assert '"Closed Lost"' in plain
    # an added or removed item is summarised, not dumped
    assert (
        "groupName: socialmedia" in plain or '<span class="k">groupName</span> socialmedia' in plain
    )


@pytest.mark.parametrize("fmt", HUMAN)
def test_every_format_begins_with_the_summary_line_and_text_ends_with_it(fmt: str) -> None:
    text = render(each_kind(), fmt)
    line = "Drift: 4 added, 5 changed, 1 removed — 1 new critical, 2 new high, 1 other new."
    assert line in text
    head = text[: text.index("Act now")]
    assert line in head
    if fmt == "text":
        assert text.rstrip("\n").splitlines()[-1] == line
        assert text.splitlines()[1] == line


@pytest.mark.parametrize("fmt", HUMAN)
def test_every_format_speaks_in_the_singular_where_there_is_one(fmt: str) -> None:
    text = render(each_kind(), fmt)
    for wrong in ("1 items", "1 changes", "seen 1 times", "1 days", " 1 kinds"):
        assert wrong not in text, wrong
    assert "1 item, 1 change" in text
    assert "476 of 478 items (99.6%)" in text


@pytest.mark.parametrize("fmt", HUMAN)
def test_every_format_says_who_made_the_changes_and_how_sure_that_is(fmt: str) -> None:
    text = render(each_kind(), fmt).replace("&#64;", "@")
    assert "By person" in text
    if fmt == "text":
        assert (
            "it.admin@example.com made 3 changes to 3 items (confidence: 2 low, 1 medium)" in text
        )
    else:
        assert "it.admin@example.com" in text and "2 low, 1 medium" in text
    assert "low confidence" in text


def test_html_collapses_what_is_handled_and_keeps_it_self_contained() -> None:
    html = render(each_kind(), "html")
    handled = html.index('<details class="handled">')
    assert html.index("user:2305118") < handled < html.index("property:deals:renewal_date")
    assert "<summary>Handled: 1 acknowledged, 1 waived, 1 planned, 1 ignored, 1 HubSpot" in html
    # the removed item's whole payload is behind a disclosure, its summary in view
    assert '<details class="payload"><summary>full payload</summary>' in html
    assert "<script" not in html and "overflow-wrap:anywhere" in html
    assert '<span class="none">(none)</span>' in html  # never broken mid-word
    assert "@media (max-width:700px)" in html


def test_the_digest_lists_new_defects_worst_first_and_waivers_expiring_soon() -> None:
    digest = build_digest(each_kind(), "https://reports.example/1")
    assert [c.key for c in digest.new_defects] == list(EXPECTED_ORDER[:4])
    lines = digest_lines(digest)
    assert (
        lines[1]
        == "Drift: 4 added, 5 changed, 1 removed — 1 new critical, 2 new high, 1 other new."
    )
    assert "Waivers expiring within 7 days:" in lines
    assert any(
        "defect #7 property:deals:amount: waived by Rita Council until 2026-11-26" in x
        for x in lines
    )
    html = email_message(digest, "a@example.com", ("b@example.com",)).get_body(("html",))
    assert html is not None
    assert "<h3" in html.get_content() and "<li" in html.get_content()
    # an expiring waiver alone sends nothing: the nightly digest would repeat it every night
    quiet = replace(each_kind(), defects=DefectUpdate(seen_again=(1, 2, 3, 4, 5, 6, 7)))
    assert build_digest(quiet, None).empty and build_digest(quiet, None).expiring


def test_a_stored_report_keeps_the_statuses() -> None:
    import json

    from hubaudit.report.json_report import from_document, to_document

    result = each_kind()
    again = from_document(json.loads(json.dumps(to_document(result))))
    for fmt in HUMAN:
        assert render(again, fmt) == render(result, fmt), fmt


# the demo portal, audited twice over real HTTP ------------------------------------------------


def test_the_demo_on_its_second_night_shows_what_is_handled_apart(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    baseline_from_night1(store, portal, client)
    emulator.load(portal_dirs["night2"])
    first = run_audit(store, portal, client)
    ids = {(c.key, c.field): c.defect_id for c in first.changes}

    text = render(first, "text")
    summary = text.splitlines()[1]
    # counted per defect (one per item's drift), not per field: deal_source's two critical
    # field changes are one critical defect
    assert summary.startswith("Drift: 3 added, 14 changed, 1 removed — 3 new critical")
    counted = sum(int(n) for n in re.findall(r"(\d+) (?:new \w+|other new)", summary))
    assert counted == len(first.defects.opened) == 18
    keys = [line.split()[1] for line in text.splitlines() if re.match(r"^[+~-] \S+:", line)]
    critical = {"user:2305118", "pipeline:tickets:0", "property:deals:deal_source"}
    assert set(keys[: len(critical)]) == critical  # the new critical ones first
    assert keys.index("association_label:0-2:0-3:USER_DEFINED:106") > keys.index("workflow:1201001")

    rita = Actor("Rita")
    workflow = ids[("workflow:1201001", "isEnabled")]
    industry = ids[("property:companies:industry", "description")]
    assert workflow is not None and industry is not None
    acknowledge_defects(store, portal.name, [workflow], rita, "turning it back on")
    until = datetime.now(UTC) + timedelta(days=4)
    waive_defects(store, portal.name, [industry], rita, "ICP rewrite in review", until)
    later: Callable[[], datetime] = lambda: datetime.now(UTC) + timedelta(days=2)  # noqa: E731
    rule = IgnoreRule(1, "labels come and go", Kind.ASSOCIATION_LABEL, "association_label:0-2:*")
    second = run_audit(store, portal, client, clock=later, ignore_rules=[rule])

    for fmt in HUMAN:
        shown = render(second, fmt).replace("\\_", "_").replace("\\-", "-")
        assert "Drift: 3 added, 14 changed, 1 removed — nothing new." in shown, fmt
        assert "Act now" not in shown, fmt
        assert "carried over, open 2 days, seen twice" in shown, fmt
        assert "acknowledged, open 2 days, seen twice" in shown, fmt
        assert f"waived until {until:%Y-%m-%d} by Rita: ICP rewrite in review" in shown, fmt
        assert "ignored" in shown and "Waivers expiring within 7 days" in shown, fmt
        order = positions(
            shown,
            (
                "user:2305118",  # carried over, critical
                "workflow:1201001",  # acknowledged
                "property:companies:industry",  # waived
                "association_label:0-2:0-3:USER_DEFINED:106",  # ignored
            ),
        )
        assert order == sorted(order), fmt
    html = render(second, "html")
    assert html.index('<details class="handled">') < html.index("workflow:1201001")
