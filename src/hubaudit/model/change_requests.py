"""Change requests: planned changes the council approved before they happen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from hubaudit.model.changes import ChangeOp
from hubaudit.model.items import JSONValue


class CRStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"
    RELEASED = "released"


class PlannedChangeState(StrEnum):
    """How far the portal is with one change a CR plans."""

    DONE = "done"
    NOT_STARTED = "not started"
    NOT_VERIFIED = "not verified"
    """the part holding the item was not read completely"""
    DIFFERS = "differs"
    """made, but not as approved (the state says how)"""


class CRProgress(StrEnum):
    """How far the portal is with a whole CR."""

    IMPLEMENTED = "implemented"
    PARTIALLY_IMPLEMENTED = "partially implemented"
    NOT_STARTED = "not started"
    NOT_VERIFIED = "not verified"


@dataclass(frozen=True)
class PlannedChange:
    """One change a CR plans: an item key, the operation and, where the council cares, the
    values the item must have afterwards (dotted canonical field path → value)."""

    op: ChangeOp
    key: str
    expect: Mapping[str, JSONValue] = field(default_factory=dict)


@dataclass(frozen=True)
class ChangeRequest:
    id: int
    portal: str
    title: str
    status: CRStatus
    requested_by: str
    requested_at: datetime
    valid_from: datetime
    valid_until: datetime
    changes: tuple[PlannedChange, ...]
    decided_by: str | None = None
    decided_at: datetime | None = None
    decision_note: str | None = None
    released_version: int | None = None

    def in_force(self, moment: datetime) -> bool:
        """Does it make changes seen at ``moment`` planned? Once released, its work is in an
        approved baseline, so a later change to its items is new and unapproved."""
        return self.status is CRStatus.APPROVED and self.valid_from <= moment < self.valid_until
