"""Reports: the JSON machine interface validates against its schema; HubSpot strings are inert."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import jsonschema

from hubaudit.model.audit_result import AuditResult
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.defects import DefectUpdate
from hubaudit.model.items import CoverageStatus, Kind, KindCoverage, SnapshotInfo
from hubaudit.report import render
from hubaudit.report.escape import terminal_safe

HOSTILE = "Deal <script>alert(1)</script> \x1b[31mRED\x1b[0m \x1b]8;;http://evil\x07link\u202e"
NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def result(label: str = HOSTILE) -> AuditResult:
    coverage = (
        KindCoverage(Kind.PROPERTY, "property:deals", CoverageStatus.COMPLETE, 2),
        KindCoverage(
            Kind.PROPERTY,
            "property:tickets",
            CoverageStatus.FAILED,
            0,
            "MISSING_SCOPES: scopes \x1b[2J",
        ),
    )
    return AuditResult(
        portal="acme",
        snapshot=SnapshotInfo(7, "acme", NOW, coverage, 2),
        baseline=BaselineInfo(
            1, "acme", 3, "Council", NOW, "ok", 6, 2, ("property:deals", "property:tickets")
        ),
        changes=(
            Change(
                Kind.PROPERTY,
                "property:deals:x",
                ChangeOp.MODIFIED,
                "label",
                ("label",),
                "Deal",
                label,
                label=label,
                severity=Severity.LOW,
                defect_id=4,
            ),
            Change(
                Kind.PROPERTY,
                "property:deals:y",
                ChangeOp.ADDED,
                None,
                (),
                None,
                {"label": label},
                label=label,
                severity=Severity.MEDIUM,
                defect_id=5,
            ),
        ),
        not_verified=(coverage[1],),
        defects=DefectUpdate(opened=(4, 5)),
    )


def schema() -> dict[str, Any]:
    text = resources.files("hubaudit.report").joinpath("report-v1.schema.json").read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def test_the_json_report_validates_against_its_published_schema() -> None:
    document = json.loads(render(result(), "json"))
    jsonschema.Draft202012Validator.check_schema(schema())
    jsonschema.validate(document, schema(), format_checker=jsonschema.FormatChecker())
    assert document["schema_version"] == "1.5"
    assert document["snapshot"]["coverage"]["property"]["status"] == "failed"
    assert document["snapshot"]["coverage"]["property"]["parts"]["property:deals"]["items"] == 2
    assert [c["key"] for c in document["changes"]] == ["property:deals:x", "property:deals:y"]
    assert document["changes"][0]["field"] == "label"
    assert document["changes"][1]["field"] is None
    assert document["not_verified"][0]["scope"] == "property:tickets"


def test_the_json_report_keeps_strings_exact_but_escapes_control_bytes() -> None:
    text = render(result(), "json")
    assert "\x1b" not in text and "\x07" not in text
    assert json.loads(text)["changes"][0]["after"] == HOSTILE


def test_the_text_report_shows_hostile_labels_inert() -> None:
    text = render(result(), "text")
    for byte in ("\x1b", "\x07", "\u202e"):
        assert byte not in text
    assert "\\x1b[31mRED" in text and "\\u202e" in text
    assert "[2J" in text and "\x1b[2J" not in text


def test_terminal_safe_leaves_ordinary_text_alone() -> None:
    assert terminal_safe("Décision — 50% «ok» 日本") == "Décision — 50% «ok» 日本"
    assert terminal_safe("a\nb\tc") == "a\\nb\\tc"


def test_history_show_and_diff_text_make_hubspot_strings_inert() -> None:
    from hubaudit.model.changes import Attribution, ChangeOp
    from hubaudit.model.history import Diff, HistoryEntry, ItemAtPoint, Point
    from hubaudit.model.items import SnapshotInfo
    from hubaudit.report.history import diff_text, history_text, show_text

    evil = "x\x1b[2J\u202eevil"
    at = datetime(2026, 3, 1, tzinfo=UTC)
    change = Change(
        Kind.PROPERTY,
        f"property:deals:{evil}",
        ChangeOp.MODIFIED,
        "label",
        ("label",),
        evil,
        evil + "2",
        label=evil,
        attribution=Attribution("1", evil, at, "updatedUserId", "medium"),
    )
    point = Point(snapshot=SnapshotInfo(1, "acme", at, (), 1))
    entries = [
        HistoryEntry("added", 1, at, attribution=change.attribution),
        HistoryEntry("changed", 2, at, (change,), change.attribution),
    ]
    outputs = [
        history_text("acme", change.key, entries),
        show_text(ItemAtPoint(change.key, point, {"label": evil}, {"label": evil})),
        diff_text(Diff("acme", point, point, (change,), (evil,))),
    ]
    for output in outputs:
        assert "\x1b" not in output and "\u202e" not in output
        assert "\\x1b" in output or "\\u001b" in output
