"""Defects (unplanned changes tracked over time), their waivers and events."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from hubaudit.model.changes import Attribution, ChangeOp, Severity
from hubaudit.model.items import JSONValue, Kind


class DefectStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    WAIVED = "waived"
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class FieldChange:
    """One field change a defect lists: the path in the item's canonical payload (``field``
    None, path empty: the whole item, added or removed), the baseline value (the one to put
    back) and the portal's, its severity and who made it, as far as HubSpot says."""

    field: str | None
    path: tuple[str | int, ...]
    before: JSONValue
    after: JSONValue
    severity: Severity
    attribution: Attribution = dataclasses.field(default_factory=Attribution)
    field_label: str | None = None
    """The field path with names inside (``stages["Waiting on us"]``), where names give one
    other than ``field``; kept from the audit that saw it, so lists need no snapshot."""

    @property
    def shown_field(self) -> str | None:
        return self.field_label or self.field


@dataclass(frozen=True)
class Defect:
    """One item's unplanned drift, tracked over time by its fingerprint (portal, key and the
    drift's content). ``changes`` lists its field changes; ``severity`` is the worst of them.
    ``field``/``path``/``before``/``after`` sum them up: the one field change's, or, for
    several, no field and the values by field (``{"type": "string"}``)."""

    id: int
    portal: str
    fingerprint: str
    kind: Kind
    key: str
    field: str | None
    status: DefectStatus
    severity: Severity
    before: JSONValue
    after: JSONValue
    first_seen_at: datetime
    last_seen_at: datetime
    occurrences: int
    baseline_version: int
    op: ChangeOp
    path: tuple[str | int, ...] = ()
    resolution: str | None = None
    resolved_at: datetime | None = None
    label: str | None = None
    note: str | None = None
    waiver: Waiver | None = None
    """The latest waiver: in force while the status is ``waived``, else ended (``ended_at``)."""
    accepted_version: int | None = None
    """The baseline version proposed (or approved) to take this defect's change in."""
    changes: tuple[FieldChange, ...] = ()
    name: str | None = None
    """The item's display name when the audit saw it (its label, or name, or key)."""
    owner: str | None = None
    """Who is to handle it (an email), assigned by ``defects assign``."""
    due: date | None = None
    """When it should be handled by."""

    @property
    def display_name(self) -> str:
        return self.name or self.label or self.key


@dataclass(frozen=True)
class Waiver:
    id: int
    defect_id: int
    waived_by: str
    waived_at: datetime
    reason: str
    until: datetime
    ended_at: datetime | None = None
    end_reason: str | None = None


class DefectEventName(StrEnum):
    """What happened to a defect, as its timeline names it (the stored ``event`` values)."""

    OPENED = "opened"
    CHANGED = "changed"
    REOPENED = "reopened"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    ACCEPTED = "accepted"
    WAIVED = "waived"
    WAIVER_EXPIRED = "waiver-expired"
    ACCEPT_PROPOSED = "accept-proposed"
    ACCEPT_REJECTED = "accept-rejected"
    ASSIGNED = "assigned"
    MERGED = "merged"
    """Migration 0010 merged the per-field defects of one item into this one."""


@dataclass(frozen=True)
class DefectEvent:
    """One entry of a defect's timeline: opened, changed, reopened, acknowledged, resolved…"""

    at: datetime
    event: DefectEventName
    detail: Mapping[str, JSONValue]
    snapshot_id: int | None = None


@dataclass(frozen=True)
class DefectUpdate:
    """What one audit did to the defect table: which defects are new, still open or resolved."""

    opened: tuple[int, ...] = ()
    seen_again: tuple[int, ...] = ()
    reopened: tuple[int, ...] = ()
    resolved: tuple[int, ...] = ()
    expired_waivers: tuple[int, ...] = ()
    """Waived defects whose waiver ran out: open again (before this audit's plan)."""


def field_change_document(change: FieldChange) -> dict[str, JSONValue]:
    """A field change as stored (``changes_json``) and as the JSON report writes it."""
    who = change.attribution
    return {
        "field": change.field,
        "path": list(change.path),
        "before": change.before,
        "after": change.after,
        "severity": change.severity.value,
        "field_label": change.field_label,
        "attribution": {
            "user_id": who.user_id,
            "user_email": who.user_email,
            "at": who.at.isoformat() if who.at is not None else None,
            "source": who.source,
            "confidence": who.confidence,
        },
    }


def field_change_from(document: Mapping[str, Any]) -> FieldChange:
    """The field change :func:`field_change_document` wrote."""
    who = document.get("attribution") or {}
    at = who.get("at")
    return FieldChange(
        document["field"],
        tuple(document["path"]),
        document["before"],
        document["after"],
        Severity(document["severity"]),
        Attribution(
            who.get("user_id"),
            who.get("user_email"),
            datetime.fromisoformat(at) if at else None,
            who.get("source", "unknown"),
            who.get("confidence", "unknown"),
        ),
        document.get("field_label"),
    )
