"""Changes between two points: their operations, classifications, severities, who made them and
what depends on them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from hubaudit.model.items import JSONValue, Kind


class ChangeOp(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    MODIFIED = "modified"


class Classification(StrEnum):
    PLANNED = "planned"
    IGNORED = "ignored"
    WAIVED = "waived"
    VENDOR = "vendor"
    """HubSpot changed its own definitions (DESIGN.md rule 10): reported apart, not a defect."""
    DEFECT = "defect"


class Severity(StrEnum):
    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {
    Severity.INFO: 0,
    Severity.LOW: 1,
    Severity.MEDIUM: 2,
    Severity.HIGH: 3,
    Severity.CRITICAL: 4,
}


@dataclass(frozen=True)
class Attribution:
    """Who made a change, as far as HubSpot says: ``unknown`` when it does not."""

    user_id: str | None = None
    user_email: str | None = None
    at: datetime | None = None
    source: str = "unknown"
    confidence: str = "unknown"


@dataclass(frozen=True)
class Dependency:
    """One item relying on another: ``source`` (a workflow, a property…) ``relation`` ``target``.

    ``relation`` is ``reads`` (a workflow's enrollment, goal or branch criteria test it),
    ``writes`` (a workflow sets it), ``uses`` (a workflow tests or sets a pipeline stage, a
    lifecycle stage or a pipeline), ``in group``, ``of object`` (a property of a custom object),
    ``has role`` or ``in team``; ``detail`` says where (``enrollment criteria``, ``action 2``)
    and with which values."""

    source: str
    target: str
    relation: str
    detail: str = ""
    label: str | None = None
    """The dependent's own label (a workflow's name)."""
    part: str | None = None
    """The part of the target it relies on, where narrower than the item (a stage id)."""
    active: bool = True
    """False for a workflow that is off: listed, but it does not raise a change's severity."""


@dataclass(frozen=True)
class ChangeNames:
    """A change in people's words (``analysis/names.py``), beside its raw key, path and values:
    ``None`` where there is no name to give (show the raw one)."""

    item: str | None = None
    """The item's human name: ``sam.okafor@acme.com (Sam Okafor)``, a workflow's name…"""
    field: str | None = None
    """The field path with names inside: ``stages["Waiting on us"].label``."""
    before: str | None = None
    """The value before, with names (team members by email, stage ids by label)."""
    after: str | None = None
    revert: str | None = None
    """How to put it back: the baseline value to restore, with names."""
    summary: tuple[tuple[str, str], ...] = ()
    """An added or removed item by the fields that matter for its kind."""


@dataclass(frozen=True)
class Change:
    """One difference between baseline and snapshot.

    ``field`` is the dotted path inside the canonical payload (``None`` when a whole item was
    added or removed); ``path`` is the same path as a tuple, unambiguous when a key has a dot.
    """

    kind: Kind
    key: str
    op: ChangeOp
    field: str | None
    path: tuple[str | int, ...]
    before: JSONValue
    after: JSONValue
    label: str | None = None
    classification: Classification = Classification.DEFECT
    severity: Severity = Severity.MEDIUM
    defect_id: int | None = None
    fingerprint: str = ""
    attribution: Attribution = Attribution()  # frozen, so one shared default is safe
    note: str | None = None
    """Why it is classified so: the CR that planned it, the rule that ignores it, or how it
    differs from what a CR approved."""
    change_request: int | None = None
    dependents: tuple[Dependency, ...] = ()
    """What relies on the changed item, in the snapshot: workflows that read or set it…"""
    raised_by_impact: int = 0
    """Severity steps added because of how many workflows depend on the item."""
    dependents_total: int | None = None
    """How many depend on it, when ``dependents`` holds only the first of them (a report read
    back from storage keeps a bounded list); ``None``: ``dependents`` is all of them."""
    names: ChangeNames | None = None
    """The change in people's words, where the audit (or the read command) could name it."""
