"""The triage order: new critical and high first (newest first), then other new defects, then
carried-over ones (oldest first, with their age), then handled, then closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubaudit.governance.triage import TriageGroup, defects_in_triage_order
from hubaudit.model.changes import ChangeOp, Severity
from hubaudit.model.defects import Defect, DefectStatus
from hubaudit.model.items import Kind

NOW = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)
AUDIT = NOW - timedelta(hours=2)


def defect(
    ident: int,
    severity: Severity,
    status: DefectStatus = DefectStatus.OPEN,
    first_seen: datetime = AUDIT,
    resolved_at: datetime | None = None,
) -> Defect:
    return Defect(
        id=ident,
        portal="acme",
        fingerprint=f"f{ident}",
        kind=Kind.PROPERTY,
        key=f"property:deals:p{ident}",
        field=None,
        status=status,
        severity=severity,
        before=None,
        after={},
        first_seen_at=first_seen,
        last_seen_at=AUDIT,
        occurrences=1,
        baseline_version=1,
        op=ChangeOp.ADDED,
        resolved_at=resolved_at,
    )


def test_the_groups_come_in_order_and_sort_inside_each() -> None:
    earlier = AUDIT - timedelta(days=3)
    defects = [
        defect(1, Severity.LOW, DefectStatus.RESOLVED, earlier, resolved_at=AUDIT - timedelta(1)),
        defect(2, Severity.CRITICAL, DefectStatus.ACKNOWLEDGED, earlier),
        defect(3, Severity.MEDIUM, first_seen=earlier),
        defect(4, Severity.HIGH, first_seen=earlier - timedelta(days=1)),
        defect(5, Severity.LOW),
        defect(6, Severity.HIGH),
        defect(7, Severity.CRITICAL),
        defect(8, Severity.CRITICAL, first_seen=AUDIT + timedelta(minutes=1)),
        defect(9, Severity.LOW, DefectStatus.WAIVED),
        defect(10, Severity.INFO, DefectStatus.ACCEPTED, earlier, resolved_at=AUDIT),
        defect(11, Severity.MEDIUM),
    ]
    triaged = defects_in_triage_order(reversed(defects), NOW, new_since=AUDIT)
    assert [(t.defect.id, t.group) for t in triaged] == [
        (8, TriageGroup.ACT_NOW),  # critical, newest first
        (7, TriageGroup.ACT_NOW),
        (6, TriageGroup.ACT_NOW),
        (11, TriageGroup.NEW),
        (5, TriageGroup.NEW),
        (4, TriageGroup.CARRIED_OVER),  # high before medium although younger
        (3, TriageGroup.CARRIED_OVER),
        (2, TriageGroup.HANDLED),  # acknowledged before waived
        (9, TriageGroup.HANDLED),
        (1, TriageGroup.CLOSED),  # resolved before accepted
        (10, TriageGroup.CLOSED),
    ]
    ages = {t.defect.id: t.age for t in triaged}
    assert ages[4] == NOW - (earlier - timedelta(days=1))
    assert ages[7] == timedelta(hours=2)


def test_new_means_first_seen_by_the_latest_audit_by_default() -> None:
    old = defect(1, Severity.CRITICAL, first_seen=AUDIT - timedelta(days=1))
    fresh = defect(2, Severity.LOW)
    triaged = defects_in_triage_order([old, fresh], NOW)
    assert [(t.defect.id, t.group) for t in triaged] == [
        (2, TriageGroup.NEW),
        (1, TriageGroup.CARRIED_OVER),
    ]
    assert defects_in_triage_order([], NOW) == []
