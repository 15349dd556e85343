"""The JSON report: hubaudit's machine interface, versioned by ``schema_version``.

The schema is published beside this module (``report-v1.schema.json``). Additive changes keep
the major version; anything that removes or renames a field raises it.

The document holds the whole result: :func:`from_document` reads it back into the same
:class:`~hubaudit.model.AuditResult` (a run's report is stored so, and ``hubaudit report``
renders it again in any format), so nothing any renderer shows is missing from the JSON.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from hubaudit import __version__
from hubaudit.errors import UsageError
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.baselines import BaselineInfo, BaselineStatus
from hubaudit.model.changes import (
    Attribution,
    Change,
    ChangeNames,
    ChangeOp,
    Classification,
    Dependency,
    Severity,
)
from hubaudit.model.defects import (
    Defect,
    DefectStatus,
    DefectUpdate,
    Waiver,
    field_change_document,
    field_change_from,
)
from hubaudit.model.findings import Finding, FindingStatus, FindingUpdate, FindingWaiver
from hubaudit.model.items import CoverageStatus, Kind, KindCoverage, SnapshotInfo
from hubaudit.model.kpis import Kpis, WeekCount
from hubaudit.model.surface import HubInfo, SurfaceArea, SurfaceGovernance, SurfaceStatus

SCHEMA_VERSION = "1.5"
MAX_DEPENDENTS = 50
"""Dependents kept per change in the document (their count is kept whole)."""


def render(result: AuditResult) -> str:
    return json.dumps(to_document(result), indent=2, ensure_ascii=False, sort_keys=False) + "\n"


def to_document(result: AuditResult) -> dict[str, Any]:
    unplanned = result.unplanned
    fresh = set(result.finding_update.opened) | set(result.finding_update.reopened)
    return {
        "schema_version": SCHEMA_VERSION,
        "generator": f"hubaudit {__version__}",
        "portal": result.portal,
        "run_id": result.run_id,
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
            "id": result.baseline.id,
            "item_count": result.baseline.item_count,
            "scopes": list(result.baseline.scopes),
            "source_snapshot_id": result.baseline.source_snapshot_id,
        },
        "summary": {
            "changes": len(result.changes),
            "unplanned": len(unplanned),
            "by_severity": dict(Counter(c.severity.value for c in unplanned)),
            "defects_opened": len(result.defects.opened),
            "defects_seen_again": len(result.defects.seen_again),
            "defects_reopened": len(result.defects.reopened),
            "defects_resolved": len(result.defects.resolved),
            "defects": len(result.present_defects),
            "planned": _count(result, Classification.PLANNED),
            "ignored": _count(result, Classification.IGNORED),
            "waived": _count(result, Classification.WAIVED),
            "vendor": _count(result, Classification.VENDOR),
            "waivers_expired": len(result.expired_waivers),
            "findings": len(result.findings),
            "findings_opened": len(result.finding_update.opened),
            "findings_reopened": len(result.finding_update.reopened),
            "findings_resolved": len(result.finding_update.resolved),
            "findings_waived": sum(1 for f in result.findings if f.status is FindingStatus.WAIVED),
        },
        "changes": [change_document(c) for c in result.changes],
        "not_verified": [
            {
                "kind": p.kind.value,
                "scope": p.scope,
                "status": p.status.value,
                "reason": p.reason,
                "scopes": list(p.scopes),
            }
            for p in result.not_verified
        ],
        "notes": list(result.notes),
        "defects": [defect_document(d) for d in result.present_defects],
        "resolved_defects": [defect_document(d) for d in result.resolved_defects],
        "expired_waivers": [defect_document(d) for d in result.expired_waivers],
        "expiring_days": result.expiring_days,
        "defect_ids": _ids(result.defects),
        "findings": [finding_document(f, new=f.id in fresh) for f in result.findings],
        "resolved_findings": [finding_document(f) for f in result.resolved_findings],
        "finding_ids": _ids(result.finding_update),
        "surface": [surface_document(a) for a in result.surface],
        "hub": None
        if result.hub is None
        else {
            "portal_id": result.hub.portal_id,
            "ui_domain": result.hub.ui_domain,
            "object_type_ids": dict(result.hub.object_type_ids),
        },
        "kpis": None if result.kpis is None else kpis_document(result.kpis),
    }


def _count(result: AuditResult, classification: Classification) -> int:
    return sum(1 for c in result.changes if c.classification is classification)


def _ids(update: DefectUpdate | FindingUpdate) -> dict[str, list[int]]:
    return {
        "opened": list(update.opened),
        "seen_again": list(update.seen_again),
        "reopened": list(update.reopened),
        "resolved": list(update.resolved),
        "expired_waivers": list(update.expired_waivers),
    }


def change_document(c: Change) -> dict[str, Any]:
    """One change as every JSON output writes it (audit reports, diffs, histories)."""
    return {
        "kind": c.kind.value,
        "key": c.key,
        "label": c.label,
        "op": c.op.value,
        "field": c.field,
        "path": list(c.path),
        "before": c.before,
        "after": c.after,
        "classification": c.classification.value,
        "severity": c.severity.value,
        "defect_id": c.defect_id,
        "fingerprint": c.fingerprint,
        "note": c.note,
        "change_request": c.change_request,
        "attribution": attribution_document(c.attribution),
        "dependents": [dependency_document(d) for d in c.dependents[:MAX_DEPENDENTS]],
        "dependents_count": dependents_count(c),
        "severity_raised_by": c.raised_by_impact,
        **names_document(c.names),
    }


def names_document(names: ChangeNames | None) -> dict[str, Any]:
    """A change in people's words, beside its raw key, field and values (since 1.5)."""
    n = names or ChangeNames()
    return {
        "name": n.item,
        "field_label": n.field,
        "before_text": n.before,
        "after_text": n.after,
        "revert": n.revert,
        "summary": [{"field": field, "value": value} for field, value in n.summary],
    }


def _names(c: Mapping[str, Any]) -> ChangeNames | None:
    """A stored change's names; ``None`` for a report stored before they existed."""
    if "name" not in c:
        return None
    return ChangeNames(
        item=c["name"],
        field=c["field_label"],
        before=c["before_text"],
        after=c["after_text"],
        revert=c["revert"],
        summary=tuple((str(s["field"]), str(s["value"])) for s in c["summary"]),
    )


def dependents_count(change: Change) -> int:
    if change.dependents_total is not None:
        return change.dependents_total
    return len(change.dependents)


def attribution_document(attribution: Attribution) -> dict[str, Any]:
    return {
        "user_id": attribution.user_id,
        "user_email": attribution.user_email,
        "at": _moment(attribution.at),
        "source": attribution.source,
        "confidence": attribution.confidence,
    }


def defect_document(d: Defect) -> dict[str, Any]:
    """A defect as reports and ``defects list --format json`` write it: one item's drift, its
    field changes listed in ``changes`` (``field``/``before``/``after`` sum them up)."""
    return {
        "id": d.id,
        "kind": d.kind.value,
        "key": d.key,
        "field": d.field,
        "path": list(d.path),
        "label": d.label,
        "op": d.op.value,
        "status": d.status.value,
        "severity": d.severity.value,
        "resolution": d.resolution,
        "resolved_at": _moment(d.resolved_at),
        "before": d.before,
        "after": d.after,
        "first_seen_at": d.first_seen_at.isoformat(),
        "last_seen_at": d.last_seen_at.isoformat(),
        "occurrences": d.occurrences,
        "baseline_version": d.baseline_version,
        "fingerprint": d.fingerprint,
        "note": d.note,
        "accepted_into_version": d.accepted_version,
        "name": d.display_name,
        "changes": [field_change_document(c) for c in d.changes],
        "owner": d.owner,
        "due": d.due.isoformat() if d.due is not None else None,
        "waiver": None
        if d.waiver is None
        else {
            "id": d.waiver.id,
            "by": d.waiver.waived_by,
            "at": d.waiver.waived_at.isoformat(),
            "reason": d.waiver.reason,
            "until": d.waiver.until.isoformat(),
            "ended_at": _moment(d.waiver.ended_at),
            "end_reason": d.waiver.end_reason,
        },
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
        "resolved_at": _moment(f.resolved_at),
        "fingerprint": f.fingerprint,
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
        "signed_off_on": _moment(a.signed_off_on),
        "due": _moment(a.due),
    }


def dependency_document(d: Dependency) -> dict[str, Any]:
    return {
        "source": d.source,
        "target": d.target,
        "relation": d.relation,
        "detail": d.detail,
        "label": d.label,
        "part": d.part,
        "active": d.active,
    }


def kpis_document(k: Kpis) -> dict[str, Any]:
    return {
        "since": k.since.isoformat(),
        "until": k.until.isoformat(),
        "weeks": [
            {"week": w.week, "unplanned": w.unplanned, "planned": w.planned} for w in k.weeks
        ],
        "unplanned": k.unplanned,
        "planned": k.planned,
        "planned_share": k.planned_share,
        "mean_days_to_resolve": k.mean_days_to_resolve,
        "resolved": k.resolved,
        "open_by_age": dict(k.open_by_age),
        "top_changers": [{"who": who, "changes": n} for who, n in k.top_changers],
        "documented": k.documented,
        "custom_properties": k.custom_properties,
        "documentation_coverage": k.documentation_coverage,
        "under_baseline": k.under_baseline,
        "items": k.items,
        "baseline_share": k.baseline_share,
        "vendor": k.vendor,
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
            "unverified": list(part.unverified),
            "scopes": list(part.scopes),
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


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# reading a document back ----------------------------------------------------------------------


def from_document(document: Mapping[str, Any], *, findings: bool = True) -> AuditResult:
    """The result a stored report document holds (schema 1.3 or later, major version 1);
    without its policy findings when ``findings`` is false (a drift view that shows none: on a
    large portal they are most of the document)."""
    version = str(document.get("schema_version", ""))
    try:
        major, minor = (int(part) for part in version.split("."))
    except ValueError:
        major, minor = 0, 0
    if major != 1 or minor < 3:
        raise UsageError(
            f"this report was stored with schema {version or 'unknown'}; hubaudit {__version__} "
            "re-renders reports of schema 1.3 and later (run the audit again)"
        )
    try:
        return _result(document, findings)
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"the stored report is not a valid report document ({exc!r})") from exc


def _result(d: Mapping[str, Any], findings: bool = True) -> AuditResult:
    portal = str(d["portal"])
    snapshot = d["snapshot"]
    coverage = tuple(
        KindCoverage(
            Kind(kind),
            scope,
            CoverageStatus(part["status"]),
            int(part["items"]),
            part["reason"],
            tuple(part.get("unverified", ())),
            tuple(part.get("scopes", ())),
        )
        for kind, entry in snapshot["coverage"].items()
        for scope, part in entry["parts"].items()
    )
    base = d["baseline"]
    approved_at = _time(base["approved_at"])
    hub = d.get("hub")
    return AuditResult(
        portal=portal,
        snapshot=SnapshotInfo(
            int(snapshot["id"]),
            portal,
            _time(snapshot["taken_at"]),
            coverage,
            snapshot["item_count"],
        ),
        baseline=BaselineInfo(
            id=int(base["id"]),
            portal=portal,
            version=int(base["version"]),
            approved_by=base["approved_by"],
            approved_at=approved_at,
            note=base["note"],
            source_snapshot_id=base["source_snapshot_id"],
            item_count=int(base["item_count"]),
            scopes=tuple(base["scopes"]),
            status=BaselineStatus.APPROVED,
            proposed_at=approved_at,
        ),
        changes=tuple(_change(c) for c in d["changes"]),
        not_verified=tuple(
            KindCoverage(
                Kind(p["kind"]),
                p["scope"],
                CoverageStatus(p["status"]),
                0,
                p["reason"],
                scopes=tuple(p.get("scopes", ())),
            )
            for p in d["not_verified"]
        ),
        defects=DefectUpdate(**{k: tuple(v) for k, v in d["defect_ids"].items()}),
        resolved_defects=tuple(_defect(x, portal) for x in d["resolved_defects"]),
        present_defects=tuple(_defect(x, portal) for x in d.get("defects", ())),
        notes=tuple(d["notes"]),
        expired_waivers=tuple(_defect(x, portal) for x in d["expired_waivers"]),
        findings=tuple(_finding(x, portal) for x in d["findings"]) if findings else (),
        finding_update=FindingUpdate(**{k: tuple(v) for k, v in d["finding_ids"].items()}),
        resolved_findings=tuple(_finding(x, portal) for x in d["resolved_findings"])
        if findings
        else (),
        surface=tuple(_area(a) for a in d["surface"]),
        hub=None
        if hub is None
        else HubInfo(int(hub["portal_id"]), str(hub["ui_domain"]), dict(hub["object_type_ids"])),
        kpis=None if d.get("kpis") is None else _kpis(d["kpis"]),
        run_id=d.get("run_id"),
        expiring_days=int(d.get("expiring_days", 7)),  # 1.5
    )


def _time(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise ValueError(f"a time without a zone: {text}")
    return moment


def _maybe_time(text: str | None) -> datetime | None:
    return None if text is None else _time(text)


def _change(c: Mapping[str, Any]) -> Change:
    a = c["attribution"]
    dependents = tuple(_dependency(x) for x in c["dependents"])
    count = int(c["dependents_count"])
    return Change(
        kind=Kind(c["kind"]),
        key=c["key"],
        op=ChangeOp(c["op"]),
        field=c["field"],
        path=tuple(c["path"]),
        before=c["before"],
        after=c["after"],
        label=c["label"],
        classification=Classification(c["classification"]),
        severity=Severity(c["severity"]),
        defect_id=c["defect_id"],
        fingerprint=c["fingerprint"],
        attribution=Attribution(
            a["user_id"], a["user_email"], _maybe_time(a["at"]), a["source"], a["confidence"]
        ),
        note=c["note"],
        change_request=c["change_request"],
        dependents=dependents,
        raised_by_impact=int(c["severity_raised_by"]),
        dependents_total=None if count == len(dependents) else count,
        names=_names(c),
    )


def _dependency(x: Mapping[str, Any]) -> Dependency:
    return Dependency(
        x["source"], x["target"], x["relation"], x["detail"], x["label"], x["part"], x["active"]
    )


def _defect(x: Mapping[str, Any], portal: str) -> Defect:
    w = x["waiver"]
    return Defect(
        id=int(x["id"]),
        portal=portal,
        fingerprint=x["fingerprint"],
        kind=Kind(x["kind"]),
        key=x["key"],
        field=x["field"],
        status=DefectStatus(x["status"]),
        severity=Severity(x["severity"]),
        before=x["before"],
        after=x["after"],
        first_seen_at=_time(x["first_seen_at"]),
        last_seen_at=_time(x["last_seen_at"]),
        occurrences=int(x["occurrences"]),
        baseline_version=int(x["baseline_version"]),
        op=ChangeOp(x["op"]),
        path=tuple(x["path"]),
        resolution=x["resolution"],
        resolved_at=_maybe_time(x["resolved_at"]),
        label=x["label"],
        note=x["note"],
        waiver=None
        if w is None
        else Waiver(
            id=int(w["id"]),
            defect_id=int(x["id"]),
            waived_by=w["by"],
            waived_at=_time(w["at"]),
            reason=w["reason"],
            until=_time(w["until"]),
            ended_at=_maybe_time(w["ended_at"]),
            end_reason=w["end_reason"],
        ),
        accepted_version=x["accepted_into_version"],
        changes=tuple(field_change_from(c) for c in x.get("changes", ())),
        name=x.get("name"),
        owner=x.get("owner"),
        due=date.fromisoformat(x["due"]) if x.get("due") else None,
    )


def _finding(x: Mapping[str, Any], portal: str) -> Finding:
    w = x["waiver"]
    return Finding(
        id=int(x["id"]),
        portal=portal,
        fingerprint=x["fingerprint"],
        policy=x["policy"],
        subject=x["subject"],
        key=x["key"],
        status=FindingStatus(x["status"]),
        severity=Severity(x["severity"]),
        message=x["message"],
        detail=dict(x["detail"]),
        scopes=tuple(x["scopes"]),
        first_seen_at=_time(x["first_seen_at"]),
        last_seen_at=_time(x["last_seen_at"]),
        occurrences=int(x["occurrences"]),
        label=x["label"],
        reason=x["reason"],
        resolution=x["resolution"],
        resolved_at=_maybe_time(x["resolved_at"]),
        waiver=None
        if w is None
        else FindingWaiver(w["by"], _time(w["at"]), w["reason"], _time(w["until"])),
    )


def _area(a: Mapping[str, Any]) -> SurfaceArea:
    return SurfaceArea(
        a["id"],
        a["name"],
        SurfaceGovernance(a["governed"]),
        SurfaceStatus(a["status"]),
        a["detail"],
        a["signed_off_by"],
        _maybe_time(a["signed_off_on"]),
        _maybe_time(a["due"]),
    )


def _kpis(k: Mapping[str, Any]) -> Kpis:
    return Kpis(
        since=_time(k["since"]),
        until=_time(k["until"]),
        weeks=tuple(
            WeekCount(w["week"], int(w["unplanned"]), int(w["planned"])) for w in k["weeks"]
        ),
        unplanned=int(k["unplanned"]),
        planned=int(k["planned"]),
        mean_days_to_resolve=k["mean_days_to_resolve"],
        resolved=int(k["resolved"]),
        open_by_age=dict(k["open_by_age"]),
        top_changers=tuple((t["who"], int(t["changes"])) for t in k["top_changers"]),
        documented=int(k["documented"]),
        custom_properties=int(k["custom_properties"]),
        under_baseline=int(k["under_baseline"]),
        items=int(k["items"]),
        vendor=int(k.get("vendor", 0)),  # schema 1.4
    )
