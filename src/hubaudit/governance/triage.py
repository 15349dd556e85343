"""Triage order: what RevOps should look at first, as one pure function that every list and
report uses (``defects list``, the text, Markdown and HTML reports, the web app).

The groups, in order:

1. ``act now``: new open defects of severity critical or high, worst first, newest first;
2. ``new``: the other new open defects, worst first, newest first;
3. ``carried over``: open defects seen before the latest audit, worst first, oldest first
   (each with its age);
4. ``handled``: acknowledged, then waived defects, worst first, oldest first;
5. ``closed``: resolved, then accepted defects, most recently closed first.

"New" means first seen at or after ``new_since``; by default, the moment of the latest audit
that saw any of the given defects (the latest ``last_seen_at``), so that "new" in ``defects
list`` means what the last audit opened (or reopened as fresh drift).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from hubaudit.model.changes import Severity
from hubaudit.model.defects import Defect, DefectStatus


class TriageGroup(StrEnum):
    ACT_NOW = "act now"
    NEW = "new"
    CARRIED_OVER = "carried over"
    HANDLED = "handled"
    CLOSED = "closed"

    @property
    def rank(self) -> int:
        return list(TriageGroup).index(self)


URGENT = frozenset({Severity.CRITICAL, Severity.HIGH})
_HANDLED_ORDER = {DefectStatus.ACKNOWLEDGED: 0, DefectStatus.WAIVED: 1}
_CLOSED_ORDER = {DefectStatus.RESOLVED: 0, DefectStatus.ACCEPTED: 1}


@dataclass(frozen=True)
class Triaged:
    """A defect in triage order: its group and its age (since first seen) at ``now``."""

    defect: Defect
    group: TriageGroup
    age: timedelta


def triage_group(defect: Defect, new_since: datetime | None) -> TriageGroup:
    """Which group a defect belongs to; ``new_since`` None: nothing is new."""
    status = defect.status
    if status in _CLOSED_ORDER:
        return TriageGroup.CLOSED
    if status is not DefectStatus.OPEN:
        return TriageGroup.HANDLED
    if new_since is None or defect.first_seen_at < new_since:
        return TriageGroup.CARRIED_OVER
    return TriageGroup.ACT_NOW if defect.severity in URGENT else TriageGroup.NEW


def latest_audit(defects: Iterable[Defect]) -> datetime | None:
    """The moment of the latest audit that saw one of the defects."""
    return max((d.last_seen_at for d in defects), default=None)


def triage_order(
    defects: Iterable[Defect], now: datetime, new_since: datetime | None = None
) -> list[Triaged]:
    """The defects in triage order (see the module's docstring), each with its group and age."""
    found = list(defects)
    since = new_since if new_since is not None else latest_audit(found)

    def order(item: Triaged) -> tuple[object, ...]:
        d, group = item.defect, item.group
        worst = -d.severity.rank
        if group in (TriageGroup.ACT_NOW, TriageGroup.NEW):
            return (group.rank, worst, -d.first_seen_at.timestamp(), -d.id)
        if group is TriageGroup.CARRIED_OVER:
            return (group.rank, worst, d.first_seen_at.timestamp(), d.id)
        if group is TriageGroup.HANDLED:
            return (group.rank, _HANDLED_ORDER[d.status], worst, d.first_seen_at.timestamp(), d.id)
        closed = (d.resolved_at or d.last_seen_at).timestamp()
        return (group.rank, _CLOSED_ORDER[d.status], -closed, -d.id)

    triaged = [
        Triaged(d, triage_group(d, since), max(now - d.first_seen_at, timedelta())) for d in found
    ]
    return sorted(triaged, key=order)
