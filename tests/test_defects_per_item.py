"""One defect per item and drift, its owner and due date, and the defects commands in triage
order: the lifecycle rules as pure functions, then the whole story over the emulator on SQLite
and Postgres."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from hubaudit.emulator import PortalEmulator
from hubaudit.errors import UsageError
from hubaudit.governance.defects import (
    DefectPlan,
    Drift,
    decide_assignment,
    defect_name,
    drift_fingerprint,
    group_drift,
    plan_defects,
    summary,
)
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change, ChangeOp, Severity
from hubaudit.model.defects import Defect, DefectEventName, DefectStatus
from hubaudit.model.items import Kind

from .test_cli import baseline_then_drift, config_path, run  # noqa: F401  (fixture by name)
from .test_report_formats import report_schema

NOW = datetime(2026, 12, 5, 3, tzinfo=UTC)
KEY = "property:deals:deal_source"


def modified(field: str, after: str, severity: Severity = Severity.LOW, key: str = KEY) -> Change:
    return Change(
        Kind.PROPERTY, key, ChangeOp.MODIFIED, field, (field,), "old", after, severity=severity
    )


def drift_of(*changes: Change) -> Drift:
    (drift,) = group_drift("acme", changes)
    return drift


def known(ident: int, drift: Drift, status: DefectStatus = DefectStatus.OPEN) -> Defect:
    field, path, before, after = summary(drift.changes)
    return Defect(
        id=ident,
        portal="acme",
        fingerprint=drift.fingerprint,
        kind=drift.kind,
        key=drift.key,
        field=field,
        status=status,
        severity=drift.severity,
        before=before,
        after=after,
        first_seen_at=NOW,
        last_seen_at=NOW,
        occurrences=1,
        baseline_version=1,
        op=drift.op,
        path=path,
        changes=drift.changes,
    )


BASELINE = BaselineInfo(1, "acme", 1, "Council", NOW, "v1", None, 0, ())


def plan(
    existing: list[Defect], *drifts: Drift, explained: dict[str, str] | None = None
) -> DefectPlan:
    return plan_defects(
        {d.fingerprint: d for d in existing}, drifts, lambda _k: True, BASELINE, explained=explained
    )


def test_an_items_changes_are_one_drift_as_bad_as_the_worst_fingerprinted_by_content() -> None:
    drift = drift_of(
        modified("type", "string", Severity.CRITICAL),
        modified("label", "Source"),
        modified("fieldType", "text", Severity.MEDIUM),
    )
    assert [c.field for c in drift.changes] == ["fieldType", "label", "type"]
    assert drift.severity is Severity.CRITICAL
    assert drift.fingerprint == drift_fingerprint("acme", KEY, ChangeOp.MODIFIED, drift.changes)
    # the same drift in another order is the same fingerprint; another value is another
    again = drift_of(
        modified("label", "Source"), modified("type", "string"), modified("fieldType", "text")
    )
    assert again.fingerprint == drift.fingerprint
    assert (
        drift_of(modified("label", "Other")).fingerprint
        != drift_of(modified("label", "Source")).fingerprint
    )
    assert summary(drift.changes)[0] is None
    assert summary(drift.changes)[3] == {"fieldType": "text", "label": "Source", "type": "string"}
    two = group_drift(
        "acme", [modified("label", "x"), modified("label", "y", key="property:deals:b")]
    )
    assert [d.key for d in two] == [KEY, "property:deals:b"]


def test_the_same_drift_is_seen_again_and_a_drift_that_moved_on_stays_one_defect() -> None:
    first = drift_of(modified("label", "Source"))
    defect = known(1, first)
    assert [d.id for d, _ in plan([defect], first).seen_again] == [1]
    moved = drift_of(modified("label", "Source"), modified("type", "string", Severity.HIGH))
    result = plan([defect], moved)
    assert [(d.id, x.fingerprint) for d, x in result.seen_again] == [(1, moved.fingerprint)]
    assert result.new == [] and result.resolved == []


def test_a_waiver_covers_the_drift_as_it_was_and_no_further() -> None:
    first = drift_of(modified("label", "Source"))
    waived = known(1, first, DefectStatus.WAIVED)
    assert [d.id for d, _ in plan([waived], first).waived] == [1]
    moved = drift_of(modified("label", "Source"), modified("description", "new"))
    assert [d.id for d, _ in plan([waived], moved).reopened] == [1]


def test_after_closing_the_same_drift_reopens_and_a_different_one_is_new() -> None:
    first = drift_of(modified("label", "Source"))
    closed = known(1, first, DefectStatus.RESOLVED)
    assert [d.id for d, _ in plan([closed], first).reopened] == [1]
    other = drift_of(modified("label", "Origin"))
    result = plan([closed], other)
    assert result.new == [other] and result.reopened == []


def test_a_removal_supersedes_the_items_modification_and_a_planned_drift_resolves() -> None:
    first = drift_of(modified("label", "Source"))
    defect = known(1, first)
    removal = drift_of(Change(Kind.PROPERTY, KEY, ChangeOp.REMOVED, None, (), {"label": "x"}, None))
    result = plan([defect], removal)
    assert result.new == [removal]
    assert [(r.defect.id, r.reason) for r in result.resolved] == [
        (1, "superseded: the whole item was removed")
    ]
    result = plan([defect], explained={KEY: "planned by CR-3"})
    assert [(r.defect.id, r.status, r.reason) for r in result.resolved] == [
        (1, DefectStatus.RESOLVED, "planned by CR-3")
    ]


def test_a_defect_without_a_richer_name_is_named_by_label_name_or_key() -> None:
    assert defect_name(KEY, {"label": "Deal source", "name": "deal_source"}) == "Deal source"
    assert defect_name("workflow:1", {"name": "Nurture", "label": " "}) == "Nurture"
    assert defect_name("user:1", {"email": "a@b.example"}) == "a@b.example"
    assert defect_name(KEY, None) == KEY


def test_an_assignment_names_an_email_and_says_what_changes() -> None:
    decision = decide_assignment([2, 1], "Rita", {"owner": " ana@northwind.example ", "due": None})
    assert dict(decision.values) == {"owner": "ana@northwind.example", "due": None}
    assert decision.entry.name is DefectEventName.ASSIGNED
    assert (decision.log.action, decision.log.subject, decision.log.note) == (
        "defects.assigned",
        "defects #1, #2",
        "owner ana@northwind.example, no due",
    )
    with pytest.raises(UsageError, match="must be an email address"):
        decide_assignment([1], "Rita", {"owner": "ana"})
    with pytest.raises(UsageError, match="must be a day"):
        decide_assignment([1], "Rita", {"due": NOW})
    with pytest.raises(UsageError, match="say whom"):
        decide_assignment([1], "Rita", {})


def test_the_demo_night_is_one_defect_per_item_assigned_listed_and_shown_in_triage_order(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    baseline_then_drift(config, emulator, portal_dirs["night2"])
    code, out = run("--config", config, "audit", "--portal", "demo", "--format", "json")
    assert code == 2
    report = json.loads(out)
    assert report["schema_version"] == "1.5"
    jsonschema.validate(report, report_schema(), format_checker=jsonschema.FormatChecker())
    defects = {d["key"]: d for d in report["defects"]}
    assert report["summary"]["defects"] == len(defects) == 18
    assert len(report["changes"]) == 27  # the changes stay listed one by one
    retype = defects[KEY]
    assert (retype["name"], retype["severity"], len(retype["changes"])) == (
        "Deal source",
        "critical",
        7,
    )
    assert {c["defect_id"] for c in report["changes"] if c["key"] == KEY} == {retype["id"]}
    # a defect is named as people know its item: a user by email, a workflow by its name
    assert defects["user:2305118"]["name"].startswith("sam.okafor@northwind.example")
    assert defects["workflow:1201001"]["name"] == "Lead nurture - EMEA"
    code, out = run("--config", config, "report", "--portal", "demo", "--format", "sarif")
    results = [r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"].startswith("drift/")]
    assert len(results) == 18
    (sarif_retype,) = [r for r in results if r["properties"]["defect_id"] == retype["id"]]
    assert sarif_retype["partialFingerprints"]["hubaudit/v1"] == retype["fingerprint"]
    assert sarif_retype["level"] == "error" and "type:" in sarif_retype["message"]["text"]

    def listed(*args: str) -> list[dict[str, object]]:
        code, out = run("--config", config, "defects", "list", "--portal", "demo",
                        "--format", "json", *args)  # fmt: skip
        assert code == 0
        return list(json.loads(out))

    everything = listed()
    groups = [d["triage"] for d in everything]
    assert groups == sorted(groups, key=["act now", "new"].index)
    urgent = [d for d in everything if d["triage"] == "act now"]
    assert {d["severity"] for d in urgent} == {"critical", "high"}
    assert urgent[0]["severity"] == "critical"
    assert all(d["severity"] not in ("critical", "high") for d in everything[len(urgent) :])

    tier = defects["property:contacts:customer_tier"]["id"]
    code, out = run("--config", config, "defects", "assign", str(retype["id"]), str(tier),
                    "--portal", "demo", "--owner", "sam@northwind.example",
                    "--due", "2026-01-31", "--by", "Rita")  # fmt: skip
    assert code == 0 and "sam@northwind.example, due 2026-01-31" in out
    # a bad owner: a clear error and nothing written
    code, _ = run("--config", config, "defects", "assign", str(tier), "--portal", "demo",
                  "--owner", "not-an-email", "--by", "Rita")  # fmt: skip
    assert code == 1 and "must be an email address" in capsys.readouterr().err
    code, _ = run("--config", config, "defects", "assign", "999", "--portal", "demo",
                  "--owner", "sam@northwind.example", "--by", "Rita")  # fmt: skip
    assert code == 1 and "no defect 999" in capsys.readouterr().err
    mine = listed("--owner", "sam@northwind.example")
    assert [(d["id"], d["due"]) for d in mine] == [
        (retype["id"], "2026-01-31"),
        (tier, "2026-01-31"),
    ]
    assert [d["id"] for d in listed("--overdue")] == [retype["id"], tier]
    code, out = run("--config", config, "log", "--portal", "demo", "--format", "json")
    assigned = [e for e in json.loads(out) if e["action"] == "defects.assigned"]
    assert [(e["actor"], e["note"]) for e in assigned] == [
        ("Rita", "owner sam@northwind.example, due 2026-01-31")
    ]
    code, out = run("--config", config, "defects", "assign", str(tier), "--portal", "demo",
                    "--clear", "--by", "Rita")  # fmt: skip
    assert code == 0 and "no owner, no due date" in out
    assert [d["id"] for d in listed("--owner", "sam@northwind.example")] == [retype["id"]]

    code, out = run("--config", config, "defects", "list", "--portal", "demo")
    lines = out.splitlines()
    assert lines[0] == "Act now (8)"
    assert "Deal source (property:deals:deal_source): 7 field changes" in out
    # a field path with names inside, never the stage's bare index
    assert 'Support Pipeline (pipeline:tickets:0) stages["Waiting on us"]' in out
    assert "stages.3" not in out
    assert "sam@northwind.example" in out and "2026-01-31" in out

    code, out = run("--config", config, "defects", "show", str(tier), "--portal", "demo")
    assert code == 0
    assert "2 field changes:" in out
    assert "by: it.admin@northwind.example" in out and "confidence low" in out
    assert "to put it back:" in out
    stage = str(defects["property:contacts:lifecyclestage"]["id"])
    code, out = run("--config", config, "defects", "show", stage, "--portal", "demo",
                    "--format", "json")  # fmt: skip
    shown = json.loads(out)
    assert {d["source"] for d in shown["dependents"]} >= {"workflow:1201002"}
    assert [e["event"] for e in shown["timeline"]] == ["opened"]
