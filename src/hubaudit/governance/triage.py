"""Triage order: what RevOps acts on first, as one pure rule that every list of drift follows.

The report's rows and ``defects list`` show drift in the same order, so the rule lives here
once: a row's :class:`Standing` (new, carried over, acknowledged, waived, planned, ignored,
HubSpot's own) and its severity put it in a :class:`Tier`, and inside a tier the worst comes
first, then the newest.

1. ``act now``: new (or reopened) critical and high drift;
2. ``new``: the other new drift;
3. ``carried over``: drift still open from an earlier audit (its age shown);
4. ``handled``: acknowledged, waived, planned, ignored and HubSpot's own changes, in that order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum, StrEnum
from functools import cache
from itertools import product
from types import MappingProxyType
from typing import TypeVar

from hubaudit.model.changes import Classification, Severity
from hubaudit.model.defects import Defect, DefectStatus


class Standing(StrEnum):
    """Where one piece of drift stands, as every report and ``defects list`` shows it."""

    NEW = "new"
    CARRIED_OVER = "carried over"
    ACKNOWLEDGED = "acknowledged"
    WAIVED = "waived"
    PLANNED = "planned"
    IGNORED = "ignored"
    VENDOR = "HubSpot's own"


HANDLED = (
    Standing.ACKNOWLEDGED,
    Standing.WAIVED,
    Standing.PLANNED,
    Standing.IGNORED,
    Standing.VENDOR,
)


class Tier(IntEnum):
    ACT_NOW = 0
    NEW = 1
    CARRIED_OVER = 2
    HANDLED = 3


URGENT = frozenset({Severity.CRITICAL, Severity.HIGH})


def standing_of(classification: Classification, status: DefectStatus | None, new: bool) -> Standing:
    """A change's standing from its classification, its defect's status (when it has one) and
    whether this audit opened or reopened that defect."""
    if classification is Classification.PLANNED:
        return Standing.PLANNED
    if classification is Classification.IGNORED:
        return Standing.IGNORED
    if classification is Classification.VENDOR:
        return Standing.VENDOR
    if classification is Classification.WAIVED or status is DefectStatus.WAIVED:
        return Standing.WAIVED
    if status is DefectStatus.ACKNOWLEDGED:
        return Standing.ACKNOWLEDGED
    return Standing.NEW if new else Standing.CARRIED_OVER


def tier_of(standing: Standing, severity: Severity) -> Tier:
    if standing is Standing.NEW:
        return Tier.ACT_NOW if severity in URGENT else Tier.NEW
    if standing is Standing.CARRIED_OVER:
        return Tier.CARRIED_OVER
    return Tier.HANDLED


@dataclass(frozen=True)
class TriageFacts:
    """What the order reads of one row (a report's item, a listed defect)."""

    standing: Standing
    severity: Severity
    seen_at: datetime | None
    """When the drift happened or was first seen: newest first within a tier and severity."""
    key: str
    """The last tie-break, so that equal rows keep one stable order."""


def triage_key(facts: TriageFacts) -> tuple[int, int, int, float, str]:
    """The sort key of one row: tier, then (among the handled) standing, then severity worst
    first, then newest first, then key."""
    tier = tier_of(facts.standing, facts.severity)
    handled = HANDLED.index(facts.standing) if tier is Tier.HANDLED else 0
    newest = -facts.seen_at.timestamp() if facts.seen_at is not None else 0.0
    return (tier, handled, -facts.severity.rank, newest, facts.key)


T = TypeVar("T")


def triage_order(rows: Iterable[T], facts: Callable[[T], TriageFacts]) -> list[T]:
    """``rows`` in triage order (a stable sort on :func:`triage_key`)."""
    return sorted(rows, key=lambda row: triage_key(facts(row)))


# defects (``defects list``, the web app): the same order, closed ones last ------------------


class TriageGroup(StrEnum):
    ACT_NOW = "act now"
    NEW = "new"
    CARRIED_OVER = "carried over"
    HANDLED = "handled"
    CLOSED = "closed"


_GROUPS = {
    Tier.ACT_NOW: TriageGroup.ACT_NOW,
    Tier.NEW: TriageGroup.NEW,
    Tier.CARRIED_OVER: TriageGroup.CARRIED_OVER,
    Tier.HANDLED: TriageGroup.HANDLED,
}
_CLOSED = {DefectStatus.RESOLVED: 0, DefectStatus.ACCEPTED: 1}
CLOSED_STATUSES = tuple(_CLOSED)
"""Defects out of play, listed after the others (resolved, then accepted)."""


@dataclass(frozen=True)
class Triaged:
    """A defect in triage order: its group and its age (since first seen) at ``now``."""

    defect: Defect
    group: TriageGroup
    age: timedelta


def latest_audit(defects: Iterable[Defect]) -> datetime | None:
    """The moment of the latest audit that saw one of the defects."""
    return max((d.last_seen_at for d in defects), default=None)


def defect_facts(defect: Defect, new_since: datetime | None) -> TriageFacts:
    """A defect still in play as the order reads it: new when first seen at or after
    ``new_since`` (``None``: nothing is new)."""
    new = is_new(defect.first_seen_at, new_since)
    return defect_facts_of(defect.status, defect.severity, new, defect.first_seen_at, defect.key)


def is_new(first_seen_at: datetime, new_since: datetime | None) -> bool:
    """A defect is new when first seen at or after ``new_since`` (``None``: nothing is)."""
    return new_since is not None and first_seen_at >= new_since


@cache
def defect_ranks() -> Mapping[tuple[DefectStatus, Severity, bool], int]:
    """A defect's place in triage order before its moment and key break ties, for every
    (status, severity, new) there is, as one number (lower first): its tier, its standing
    among the handled, its severity worst first; the closed ones after every defect in play,
    resolved before accepted. The ordinal of the leading part of :func:`triage_key`, so that
    a database orders by it (a ``CASE``, ``store/lists.py``) as this module orders in
    Python."""

    def leading(status: DefectStatus, severity: Severity, new: bool) -> tuple[int, ...]:
        if status in _CLOSED:
            return (len(Tier), _CLOSED[status])
        return triage_key(defect_facts_of(status, severity, new, None, ""))[:3]

    combos = list(product(DefectStatus, Severity, (False, True)))
    places = sorted({leading(*combo) for combo in combos})
    return MappingProxyType({combo: places.index(leading(*combo)) for combo in combos})


def defect_facts_of(
    status: DefectStatus, severity: Severity, new: bool, seen_at: datetime | None, key: str
) -> TriageFacts:
    """A defect in play as the order reads it: its standing from its status and whether it
    is new."""
    standing = standing_of(Classification.DEFECT, status, new)
    return TriageFacts(standing, severity, seen_at, key)


def defects_in_triage_order(
    defects: Iterable[Defect], now: datetime, new_since: datetime | None = None
) -> list[Triaged]:
    """Defects in triage order (see the module), then the closed ones (resolved, then
    accepted, the most recently closed first). "New" by default: first seen by the latest
    audit that saw any of them."""
    found = list(defects)
    since = new_since if new_since is not None else latest_audit(found)
    in_play = [d for d in found if d.status not in _CLOSED]
    closed = sorted(
        (d for d in found if d.status in _CLOSED),
        key=lambda d: (_CLOSED[d.status], -(d.resolved_at or d.last_seen_at).timestamp(), -d.id),
    )
    triaged = [
        Triaged(
            d, _GROUPS[tier_of(f.standing, f.severity)], max(now - d.first_seen_at, timedelta())
        )
        for d, f in (
            (d, defect_facts(d, since))
            for d in triage_order(in_play, lambda d: defect_facts(d, since))
        )
    ]
    triaged += [
        Triaged(d, TriageGroup.CLOSED, max(now - d.first_seen_at, timedelta())) for d in closed
    ]
    return triaged
