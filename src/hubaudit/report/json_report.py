"""The JSON report: hubaudit's machine interface, versioned by ``schema_version``.

The schema is published beside this module (``report-v1.schema.json``). Additive changes keep
the major version; anything that removes or renames a field raises it.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from hubaudit import __version__
from hubaudit.model import (
    Attribution,
    AuditResult,
    Change,
    Classification,
    CoverageStatus,
    Dependency,
    Finding,
    FindingStatus,
    KindCoverage,
    SurfaceArea,
)

SCHEMA_VERSION = "1.3"


def render(result: AuditResult) -> str:
    return json.dumps(to_document(result), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def to_document(result: AuditResult) -> dict[str, Any]:
    unplanned = result.unplanned
    fresh = set(result.finding_update.opened) | set(result.finding_update.reopened)
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"hubaudit {__version__}",
        "portal": result.portal,
        "snapshot": {
            "id": result.snapshot.id,
            "taken_at": result.snapshot.taken_at.isoformat(),
            "item_count": result.snapshot.item_count,
            "coverage": _coverage(result.snapshot.coverage),
        },
        "baseline": {
            "version": result.baseline.version,
            "approved_by": result.baseline.approved_by,
            "approved_at": result.baseline.moment.isoformat(),
            "note": result.baseline.note,
        },
        "summary": {
            "changes": len(result.changes),
            "unplanned": len(unplanned),
            "by_severity": dict(Counter(c.severity.value for c in unplanned)),
            "defects_opened": len(result.defects.opened),
            "defects_seen_again": len(result.defects.seen_again),
            "defects_reopened": len(result.defects.reopened),
            "defects_resolved": len(result.defects.resolved),
            "planned": _count(result, Classification.PLANNED),
            "ignored": _count(result, Classification.IGNORED),
            "waived": _count(result, Classification.WAIVED),
            "waivers_expired": len(result.expired_waivers),
            "findings": len(result.findings),
            "findings_opened": len(result.finding_update.opened),
            "findings_reopened": len(result.finding_update.reopened),
            "findings_resolved": len(result.finding_update.resolved),
            "findings_waived": sum(1 for f in result.findings if f.status is FindingStatus.WAIVED),
        },
        "changes": [change_document(c) for c in result.changes],
        "not_verified": [
            {"kind": p.kind.value, "scope": p.scope, "status": p.status.value, "reason": p.reason}
            for p in result.not_verified
        ],
        "notes": list(result.notes),
        "resolved_defects": [
            {
                "id": d.id,
                "key": d.key,
                "field": d.field,
                "status": d.status.value,
                "resolution": d.resolution,
            }
            for d in result.resolved_defects
        ],
        "expired_waivers": [
            {
                "id": d.id,
                "key": d.key,
                "field": d.field,
                "status": d.status.value,
                "waiver": None
                if d.waiver is None
                else {
                    "by": d.waiver.waived_by,
                    "reason": d.waiver.reason,
                    "until": d.waiver.until.isoformat(),
                },
            }
            for d in result.expired_waivers
        ],
        "findings": [finding_document(f, new=f.id in fresh) for f in result.findings],
        "resolved_findings": [finding_document(f) for f in result.resolved_findings],
        "surface": [surface_document(a) for a in result.surface],
    }


def finding_document(f: Finding, *, new: bool = False) -> dict[str, Any]:
    """One policy finding, as reports and ``findings list --json`` write it."""
    return {
        "id": f.id,
        "policy": f.policy,
        "subject": f.subject,
        "key": f.key,
        "label": f.label,
        "severity": f.severity.value,
        "status": f.status.value,
        "new": new,
        "message": f.message,
        "reason": f.reason,
        "detail": dict(f.detail),
        "scopes": list(f.scopes),
        "first_seen_at": f.first_seen_at.isoformat(),
        "last_seen_at": f.last_seen_at.isoformat(),
        "occurrences": f.occurrences,
        "resolution": f.resolution,
        "resolved_at": f.resolved_at.isoformat() if f.resolved_at else None,
        "waiver": None
        if f.waiver is None
        else {
            "by": f.waiver.by,
            "at": f.waiver.at.isoformat(),
            "reason": f.waiver.reason,
            "until": f.waiver.until.isoformat(),
        },
    }


def surface_document(a: SurfaceArea) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "governed": a.governed,
        "status": a.status,
        "detail": a.detail,
        "signed_off_by": a.signed_off_by,
        "signed_off_on": a.signed_off_on.date().isoformat() if a.signed_off_on else None,
        "due": a.due.date().isoformat() if a.due else None,
    }


def dependency_document(d: Dependency) -> dict[str, Any]:
    return {
        "source": d.source,
        "target": d.target,
        "relation": d.relation,
        "detail": d.detail,
        "label": d.label,
        "part": d.part,
    }


def _count(result: AuditResult, classification: Classification) -> int:
    return sum(1 for c in result.changes if c.classification is classification)


def change_document(c: Change) -> dict[str, Any]:
    """One change as every JSON output writes it (audit reports, diffs, histories)."""
    return {
        "kind": c.kind.value,
        "key": c.key,
        "label": c.label,
        "op": c.op.value,
        "field": c.field,
        "before": c.before,
        "after": c.after,
        "classification": c.classification.value,
        "severity": c.severity.value,
        "defect_id": c.defect_id,
        "note": c.note,
        "change_request": c.change_request,
        "attribution": attribution_document(c.attribution),
        "dependents": [dependency_document(d) for d in c.dependents],
        "severity_raised_by": c.raised_by_impact,
    }


def attribution_document(attribution: Attribution) -> dict[str, Any]:
    return {
        "user_id": attribution.user_id,
        "user_email": attribution.user_email,
        "at": attribution.at.isoformat() if attribution.at else None,
        "source": attribution.source,
        "confidence": attribution.confidence,
    }


def _coverage(parts: tuple[KindCoverage, ...]) -> dict[str, Any]:
    kinds: dict[str, dict[str, Any]] = {}
    for part in parts:
        entry = kinds.setdefault(
            part.kind.value,
            {"status": CoverageStatus.COMPLETE.value, "items": 0, "reason": None, "parts": {}},
        )
        entry["items"] += part.items
        entry["parts"][part.scope] = {
            "status": part.status.value,
            "items": part.items,
            "reason": part.reason,
        }
        if part.status is not CoverageStatus.COMPLETE:
            entry["status"] = (
                part.status.value
                if entry["status"] == CoverageStatus.COMPLETE.value
                else CoverageStatus.FAILED.value
            )
            reasons = [r for r in (entry["reason"], f"{part.scope}: {part.reason}") if r]
            entry["reason"] = "; ".join(reasons)
    return kinds
