"""One fixed audit result with everything a report can hold, and hostile strings throughout:
the input of the golden-file, schema, browser and notification tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hubaudit.model.audit_result import AuditResult
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import (
    Attribution,
    Change,
    ChangeOp,
    Classification,
    Dependency,
    Severity,
)
from hubaudit.model.defects import Defect, DefectStatus, DefectUpdate, Waiver
from hubaudit.model.findings import Finding, FindingStatus, FindingUpdate, FindingWaiver
from hubaudit.model.items import CoverageStatus, Kind, KindCoverage, SnapshotInfo
from hubaudit.model.kpis import Kpis, WeekCount
from hubaudit.model.surface import HubInfo, SurfaceArea

NOW = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


def tracked(
    ident: int,
    key: str,
    field: str | None,
    status: DefectStatus,
    days: int,
    waiver: Waiver | None = None,
) -> Defect:
    """A defect behind a report's change, first seen ``days`` before the audit."""
    return Defect(
        id=ident,
        portal="acme",
        fingerprint=f"{ident:064d}",
        kind=Kind(key.split(":", 1)[0]),
        key=key,
        field=field,
        status=status,
        severity=Severity.LOW,
        before=None,
        after=None,
        first_seen_at=NOW - timedelta(days=days),
        last_seen_at=NOW,
        occurrences=days + 1,
        baseline_version=3,
        op=ChangeOp.MODIFIED if field else ChangeOp.ADDED,
        waiver=waiver,
    )


def hostile(beacon: str = "http://127.0.0.1:9/beacon") -> str:
    """A label a portal user could write: markup, script, terminal escapes, a bidi override,
    Markdown, a spreadsheet formula, Slack mentions; ``beacon`` is where a fetch would go."""
    return (
        f'Deal <script>document.title="PWNED"</script><img src="{beacon}/img" '
        "onerror=\"document.body.setAttribute('data-pwned','1')\">"
        f'<link rel="stylesheet" href="{beacon}/css"> *bold* [x]({beacon}/md) | cell '
        "\x1b[31mRED\x1b[0m \u202eevil <!channel> &amp;"
    )


def rich_result(label: str | None = None) -> AuditResult:
    label = hostile() if label is None else label
    coverage = (
        KindCoverage(Kind.PROPERTY, "property:deals", CoverageStatus.COMPLETE, 3),
        KindCoverage(
            Kind.PROPERTY,
            "property:tickets",
            CoverageStatus.FAILED,
            0,
            "MISSING_SCOPES: scopes \x1b[2J",
            scopes=("tickets",),
        ),
        KindCoverage(Kind.WORKFLOW, "workflow", CoverageStatus.COMPLETE, 2),
        KindCoverage(Kind.PROPERTY, "property:leads", CoverageStatus.UNSUPPORTED, 0, "no leads"),
    )
    reader = Dependency(
        "workflow:777", "property:deals:x", "reads", "enrollment criteria = gold", label
    )
    writer = Dependency("workflow:778", "property:deals:x", "writes", "action 2 = =1+2", "Setter")
    who = Attribution("42", "ana@example.com", NOW - timedelta(hours=3), "updatedUserId", "medium")
    defect = Defect(
        id=9,
        portal="acme",
        fingerprint="f" * 64,
        kind=Kind.PROPERTY,
        key="property:deals:old",
        field="label",
        status=DefectStatus.RESOLVED,
        severity=Severity.LOW,
        before="Old",
        after=label,
        first_seen_at=NOW - timedelta(days=3),
        last_seen_at=NOW - timedelta(days=1),
        occurrences=2,
        baseline_version=3,
        op=ChangeOp.MODIFIED,
        path=("label",),
        resolution="reverted",
        resolved_at=NOW,
        label=label,
    )
    expired = Defect(
        id=11,
        portal="acme",
        fingerprint="e" * 64,
        kind=Kind.PROPERTY,
        key="property:deals:amount",
        field="label",
        status=DefectStatus.OPEN,
        severity=Severity.LOW,
        before="Amount",
        after="Amt",
        first_seen_at=NOW - timedelta(days=20),
        last_seen_at=NOW,
        occurrences=20,
        baseline_version=3,
        op=ChangeOp.MODIFIED,
        path=("label",),
        waiver=Waiver(3, 11, "Rita", NOW - timedelta(days=10), label, NOW - timedelta(hours=1)),
    )

    present_defects = (
        tracked(4, "property:deals:x", "label", DefectStatus.OPEN, 0),
        tracked(5, "property:deals:x", "options.gold.label", DefectStatus.OPEN, 12),
        tracked(6, "property:deals:y", None, DefectStatus.OPEN, 0),
        tracked(7, "workflow:777", "isEnabled", DefectStatus.ACKNOWLEDGED, 3),
        tracked(
            8,
            "property:deals:amount",
            "description",
            DefectStatus.WAIVED,
            30,
            Waiver(4, 8, "Rita", NOW - timedelta(days=20), label, NOW + timedelta(days=3)),
        ),
    )
    finding_new = Finding(
        id=21,
        portal="acme",
        fingerprint="a" * 64,
        policy="property-description",
        subject="property:deals:x",
        key="property:deals:x",
        status=FindingStatus.OPEN,
        severity=Severity.LOW,
        message=f"custom property {label} has no description",
        detail={},
        scopes=("property:deals",),
        first_seen_at=NOW,
        last_seen_at=NOW,
        occurrences=1,
        label=label,
        reason="documented fields",
    )
    finding_waived = Finding(
        id=22,
        portal="acme",
        fingerprint="b" * 64,
        policy="super-admins",
        subject="user:super-admins",
        key="user",
        status=FindingStatus.WAIVED,
        severity=Severity.HIGH,
        message="4 super admins, 3 allowed",
        detail={"allowed": 3},
        scopes=("user",),
        first_seen_at=NOW - timedelta(days=9),
        last_seen_at=NOW,
        occurrences=9,
        reason="few super admins",
        waiver=FindingWaiver("Rita", NOW - timedelta(days=2), "migration", NOW + timedelta(days=5)),
    )
    finding_resolved = Finding(
        id=20,
        portal="acme",
        fingerprint="c" * 64,
        policy="group-empty",
        subject="property_group:deals:legacy",
        key="property_group:deals:legacy",
        status=FindingStatus.RESOLVED,
        severity=Severity.LOW,
        message="property group holds no live property",
        detail={},
        scopes=("property:deals", "property_group:deals"),
        first_seen_at=NOW - timedelta(days=4),
        last_seen_at=NOW,
        occurrences=4,
        resolution="fixed: no longer breached",
        resolved_at=NOW,
    )
    return AuditResult(
        portal="acme",
        snapshot=SnapshotInfo(7, "acme", NOW, coverage, 5),
        baseline=BaselineInfo(
            1,
            "acme",
            3,
            "Council",
            NOW - timedelta(days=30),
            "Q4",
            6,
            4,
            ("property:deals", "property:tickets", "workflow"),
            proposed_at=NOW - timedelta(days=30),
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
                severity=Severity.MEDIUM,
                defect_id=4,
                fingerprint="1" * 64,
                attribution=who,
                dependents=(reader, writer),
                raised_by_impact=1,
            ),
            Change(
                Kind.PROPERTY,
                "property:deals:x",
                ChangeOp.MODIFIED,
                "options.gold.label",
                ("options", "gold", "label"),
                "Gold",
                "=HYPERLINK(1)",
                label=label,
                severity=Severity.LOW,
                defect_id=5,
                fingerprint="2" * 64,
                dependents=(reader, writer),
            ),
            Change(
                Kind.PROPERTY,
                "property:deals:y",
                ChangeOp.ADDED,
                None,
                (),
                None,
                {"label": label, "type": "string"},
                label=label,
                severity=Severity.MEDIUM,
                defect_id=6,
                fingerprint="3" * 64,
            ),
            Change(
                Kind.WORKFLOW,
                "workflow:777",
                ChangeOp.MODIFIED,
                "isEnabled",
                ("isEnabled",),
                True,
                False,
                label="=2+3 then disabled",  # a formula, for a spreadsheet
                severity=Severity.HIGH,
                defect_id=7,
                fingerprint="4" * 64,
                note="implemented differently than approved (CR-2: isEnabled is false)",
                change_request=2,
            ),
            Change(
                Kind.PROPERTY,
                "property:deals:planned",
                ChangeOp.ADDED,
                None,
                (),
                None,
                {"label": "Renewal date"},
                label="Renewal date",
                classification=Classification.PLANNED,
                severity=Severity.MEDIUM,
                fingerprint="5" * 64,
                note="planned by CR-1: renewal tracking",
                change_request=1,
            ),
            Change(
                Kind.PROPERTY,
                "property:deals:amount",
                ChangeOp.MODIFIED,
                "description",
                ("description",),
                "",
                "Deal value",
                label="Amount",
                classification=Classification.WAIVED,
                severity=Severity.LOW,
                defect_id=8,
                fingerprint="6" * 64,
                note="waived until 2026-12-31",
            ),
            Change(
                Kind.PROPERTY,
                "property:deals:amount",
                ChangeOp.MODIFIED,
                "options.a.displayOrder",
                ("options", "a", "displayOrder"),
                1,
                2,
                label="Amount",
                classification=Classification.IGNORED,
                severity=Severity.LOW,
                fingerprint="7" * 64,
                note=f"ignored by rule 1: {label}",
            ),
            Change(
                Kind.PROPERTY,
                "property:deals:hs_vendor_rollout",
                ChangeOp.ADDED,
                None,
                (),
                None,
                {"label": label, "hubspotDefined": True, "type": "string"},
                label=label,
                classification=Classification.VENDOR,
                severity=Severity.MEDIUM,
                fingerprint="8" * 64,
                note="HubSpot added this default property (HubSpot-defined)",
            ),
        ),
        not_verified=(coverage[1],),
        defects=DefectUpdate(
            opened=(4, 6), seen_again=(5, 7), resolved=(9,), expired_waivers=(11,)
        ),
        resolved_defects=(defect,),
        notes=(f"the account audit log was not read: {label}",),
        expired_waivers=(expired,),
        findings=(finding_waived, finding_new),
        finding_update=FindingUpdate(opened=(21,), seen_again=(22,), resolved=(20,)),
        resolved_findings=(finding_resolved,),
        surface=(
            SurfaceArea("property", "Properties", "read", "read", "3 items in 2 parts"),
            SurfaceArea(
                "dedupe-rules",
                "Duplicate management rules",
                "manual",
                "signed off",
                "no API",
                "Ada",
                NOW - timedelta(days=10),
                NOW + timedelta(days=80),
            ),
            SurfaceArea("lead-scoring", "Lead scoring criteria", "manual", "never signed off", "x"),
        ),
        hub=HubInfo(48151623, "app-eu1.hubspot.com", {"p1_thing": "2-99"}),
        kpis=Kpis(
            since=NOW - timedelta(weeks=3),
            until=NOW,
            weeks=(
                WeekCount("2026-W45", 2, 1),
                WeekCount("2026-W46", 0, 3),
                WeekCount("2026-W47", 5, 0),
                WeekCount("2026-W48", 4, 1),
            ),
            unplanned=11,
            planned=5,
            mean_days_to_resolve=2.5,
            resolved=3,
            open_by_age={"0-7 days": 2, "8-30 days": 1, "31-90 days": 0, "over 90 days": 0},
            top_changers=((label, 4), ("ana@example.com", 2)),
            documented=30,
            custom_properties=40,
            under_baseline=4,
            items=5,
            vendor=2,
        ),
        run_id=31,
        present_defects=present_defects,
    )
