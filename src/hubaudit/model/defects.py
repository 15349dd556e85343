"""Defects (unplanned changes tracked over time), their waivers and events."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hubaudit.model.changes import ChangeOp, Severity
from hubaudit.model.items import JSONValue, Kind


class DefectStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    WAIVED = "waived"
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class Defect:
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
