"""The SARIF 2.1.0 report: defects and findings as code-scanning results.

A baseline repository (``hubaudit baseline export`` into git) can upload it so that unplanned
changes show as alerts on the file of the part they belong to (``property/deals.yaml``…). Rule
ids name the change: one result per defect (an item's unplanned field changes in one message,
at the worst one's level), ``drift/{kind}/{op}`` for a defect (``drift/property/removed``) and
``policy/{id}`` for a finding. Waived defects and findings are reported as suppressed, with the
waiver's reason. Each result's ``partialFingerprints`` holds hubaudit's own fingerprint, so an
alert is the same alert from one night to the next."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from hubaudit import __version__
from hubaudit.analysis.compare import scope_of
from hubaudit.governance.files import MANIFEST, scope_path
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.changes import Change, Classification, Severity
from hubaudit.model.defects import Defect
from hubaudit.model.findings import Finding, FindingStatus
from hubaudit.policies.builtin import BUILTIN_POLICIES
from hubaudit.report.json_report import dependents_count
from hubaudit.report.links import record_url

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
INFORMATION_URI = "https://hubaudit.dev"
LEVELS = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_OPS = {
    "added": "added without a plan",
    "removed": "removed without a plan",
    "modified": "changed without a plan",
}
_POLICIES = {p.id: p for p in BUILTIN_POLICIES}


def render(result: AuditResult) -> str:
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    # one result per defect: the unplanned (or waived) changes of one item
    by_item: dict[str, list[Change]] = {}
    for change in result.changes:
        if change.classification in (Classification.DEFECT, Classification.WAIVED):
            by_item.setdefault(change.key, []).append(change)
    defects = {d.id: d for d in result.present_defects}
    for changes in by_item.values():
        change = changes[0]
        rule_id = f"drift/{change.kind.value}/{change.op.value}"
        if rule_id not in rules:
            what = change.kind.value.replace("_", " ")
            rules[rule_id] = {
                "id": rule_id,
                "name": "".join(
                    p.title() for p in (change.kind.value + "_" + change.op.value).split("_")
                ),
                "shortDescription": {"text": f"A {what} was {_OPS[change.op.value]}"},
                "fullDescription": {
                    "text": f"A {what} differs from the approved baseline and no approved change "
                    "request planned it: an architecture defect."
                },
                "defaultConfiguration": {"level": "warning"},
                "helpUri": INFORMATION_URI,
            }
        results.append(_defect_result(result, changes, rule_id, defects))
    for finding in result.findings:
        rule_id = f"policy/{finding.policy}"
        if rule_id not in rules:
            policy = _POLICIES.get(finding.policy)
            rules[rule_id] = {
                "id": rule_id,
                "name": "".join(part.title() for part in finding.policy.split("-")),
                "shortDescription": {"text": policy.checks if policy else finding.policy},
                "fullDescription": {"text": finding.reason or finding.policy},
                "defaultConfiguration": {"level": LEVELS[finding.severity]},
                "helpUri": INFORMATION_URI,
            }
        results.append(_finding_result(result, finding, rule_id))
    document = sarif_document(
        rules,
        results,
        automation_id=f"hubaudit/{result.portal}/",
        properties={
            "portal": result.portal,
            "snapshot": result.snapshot.id,
            "baseline_version": result.baseline.version,
            "not_verified": [p.scope for p in result.not_verified],
            # HubSpot's own changes are no alerts: listed apart, for the record
            "vendor_changes": [
                {"key": c.key, "field": c.field, "op": c.op.value, "note": c.note}
                for c in result.changes
                if c.classification is Classification.VENDOR
            ],
        },
    )
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def sarif_document(
    rules: dict[str, dict[str, Any]],
    results: list[dict[str, Any]],
    *,
    automation_id: str,
    properties: dict[str, Any],
) -> dict[str, Any]:
    """One run of hubaudit: its rules sorted by id, each result pointing at its rule's index."""
    order = sorted(rules)
    index = {rule_id: i for i, rule_id in enumerate(order)}
    for entry in results:
        entry["ruleIndex"] = index[entry["ruleId"]]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "hubaudit",
                        "version": __version__,
                        "informationUri": INFORMATION_URI,
                        "rules": [rules[r] for r in order],
                    }
                },
                "automationDetails": {"id": automation_id},
                "results": results,
                "properties": properties,
            }
        ],
    }


def _location(result: AuditResult, key: str) -> dict[str, Any]:
    scope = scope_of(key, result.baseline.scopes) or scope_of(
        key, [c.scope for c in result.snapshot.coverage]
    )
    uri = str(scope_path(scope)) if scope else MANIFEST
    return {
        "physicalLocation": {"artifactLocation": {"uri": uri}, "region": {"startLine": 1}},
        "logicalLocations": [{"fullyQualifiedName": key, "kind": "member"}],
    }


def _defect_result(
    result: AuditResult, changes: list[Change], rule_id: str, defects: Mapping[int, Defect]
) -> dict[str, Any]:
    """One defect: the item's field changes in one message, at the worst one's level."""
    change = max(changes, key=lambda c: c.severity.rank)
    defect = defects.get(change.defect_id) if change.defect_id is not None else None
    parts = [
        (f"{c.field}: " if c.field else "") + f"{_value(c.before)} → {_value(c.after)}"
        for c in changes
    ]
    text = f"{change.key}: " + "; ".join(parts)
    notes = list(dict.fromkeys(c.note for c in changes if c.note))
    if notes:
        text += f" ({'; '.join(notes)})"
    where = change.key + (f" {change.field}" if change.field else "")
    print_ = defect.fingerprint if defect is not None else change.fingerprint or where
    people = list(
        dict.fromkeys(
            who for c in changes if (who := c.attribution.user_email or c.attribution.user_id)
        )
    )
    entry: dict[str, Any] = {
        "ruleId": rule_id,
        "level": LEVELS[change.severity],
        "message": {"text": text},
        "locations": [_location(result, change.key)],
        "partialFingerprints": {"hubaudit/v1": print_},
        "properties": {
            "severity": change.severity.value,
            "defect_id": change.defect_id,
            "field": change.field if len(changes) == 1 else None,
            "fields": [c.field for c in changes],
            "label": change.label,
            "changed_by": people[0] if people else None,
            "dependents": max(dependents_count(c) for c in changes),
            "url": record_url(result, change.key),
        },
    }
    if change.classification is Classification.WAIVED:
        entry["suppressions"] = [{"kind": "external", "justification": change.note or "waived"}]
    return entry


def _finding_result(result: AuditResult, finding: Finding, rule_id: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "ruleId": rule_id,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.key}: {finding.message}"},
        "locations": [_location(result, finding.key)],
        "partialFingerprints": {"hubaudit/v1": finding.fingerprint or finding.subject},
        "properties": {
            "severity": finding.severity.value,
            "finding_id": finding.id,
            "subject": finding.subject,
            "url": record_url(result, finding.key),
        },
    }
    if finding.status is FindingStatus.WAIVED and finding.waiver is not None:
        entry["suppressions"] = [{"kind": "external", "justification": finding.waiver.reason}]
    return entry


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= 200 else text[:199] + "…"
