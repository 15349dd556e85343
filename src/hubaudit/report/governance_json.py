"""The JSON documents of the council's records: baseline versions, change requests with their
progress, the governance log and a defect's timeline. One builder per document, from the
services' results, so the CLI and any other edge print the same fields."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hubaudit.governance.change_requests import Progress
    from hubaudit.model.governance_log import LogEntry
    from hubaudit.services.baselines import VersionRecord
    from hubaudit.services.triage import DefectTimeline


def version_document(record: VersionRecord) -> dict[str, Any]:
    b = record.baseline
    return {
        "version": b.version,
        "status": b.status.value,
        "source": b.source,
        "proposed_by": b.proposed_by,
        "proposed_at": b.proposed_at.isoformat() if b.proposed_at else None,
        "proposal_note": b.proposal_note,
        "approved_by": b.approved_by,
        "approved_at": b.approved_at.isoformat() if b.approved_at else None,
        "note": b.note,
        "rejected_by": b.rejected_by,
        "rejected_at": b.rejected_at.isoformat() if b.rejected_at else None,
        "rejection_note": b.rejection_note,
        "source_snapshot_id": b.source_snapshot_id,
        "items": b.item_count,
        "scopes": list(b.scopes),
        "accepted_defects": list(record.defects),
        "released_change_requests": list(record.requests),
    }


def request_document(progress: Progress) -> dict[str, Any]:
    r = progress.request
    return {
        "id": r.id,
        "title": r.title,
        "status": r.status.value,
        "progress": progress.summary,
        "requested_by": r.requested_by,
        "requested_at": r.requested_at.isoformat(),
        "valid_from": r.valid_from.isoformat(),
        "valid_until": r.valid_until.isoformat(),
        "decided_by": r.decided_by,
        "decided_at": r.decided_at.isoformat() if r.decided_at else None,
        "decision_note": r.decision_note,
        "released_version": r.released_version,
        "changes": [
            {
                "op": s.planned.op.value,
                "key": s.planned.key,
                "expect": dict(s.planned.expect),
                "state": s.state,
            }
            for s in progress.states
        ],
    }


def log_entry_document(e: LogEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "actor": e.actor,
        "action": e.action,
        "subject": e.subject,
        "note": e.note,
        "detail": e.detail,
    }


def defect_timeline_document(timeline: DefectTimeline) -> dict[str, Any]:
    from hubaudit.report.json_report import defect_document, dependency_document, names_document

    document = defect_document(timeline.defect) | names_document(timeline.names)
    return document | {
        "dependents": [dependency_document(d) for d in timeline.dependents],
        "field_names": [names_document(n) for n in timeline.field_names],
        "timeline": [
            {
                "at": e.at.isoformat(),
                "event": e.event,
                "detail": e.detail,
                "snapshot_id": e.snapshot_id,
            }
            for e in timeline.events
        ],
    }
