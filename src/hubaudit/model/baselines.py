"""Baseline versions: the architecture as the council approved it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class BaselineStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class BaselineInfo:
    """A baseline version. Audits compare only with approved ones: for those, ``approved_by``,
    ``approved_at`` and ``note`` are set. A proposed version is a draft still open to amendment."""

    id: int
    portal: str
    version: int
    approved_by: str | None
    approved_at: datetime | None
    note: str | None
    source_snapshot_id: int | None
    item_count: int
    scopes: tuple[str, ...]
    status: BaselineStatus = BaselineStatus.APPROVED
    source: str = "snapshot"
    proposed_by: str = ""
    proposed_at: datetime | None = None
    proposal_note: str = ""
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    rejection_note: str | None = None

    @property
    def moment(self) -> datetime:
        """When it was approved, or else proposed: where it stands in time."""
        moment = self.approved_at or self.proposed_at
        assert moment is not None
        return moment
