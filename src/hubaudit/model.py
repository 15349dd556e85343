"""The shared vocabulary: plain frozen values that every layer passes around.

Nothing here does I/O, and nothing here imports another hubaudit module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

JSONValue = Any
"""A value as it comes out of ``json.loads``: dict, list, str, int, float, bool or None."""


STANDARD_OBJECT_TYPE_IDS: Mapping[str, str] = {
    "0-1": "contacts",
    "0-2": "companies",
    "0-3": "deals",
    "0-5": "tickets",
    "0-7": "products",
    "0-8": "line_items",
    "0-14": "quotes",
    "0-27": "tasks",
    "0-46": "notes",
    "0-47": "meetings",
    "0-48": "calls",
    "0-49": "emails",
    "0-136": "leads",
    "0-123": "orders",
    "0-162": "services",
    "0-410": "courses",
    "0-420": "listings",
    "0-421": "appointments",
}
"""HubSpot's objectTypeIds of the standard objects (API-NOTES §8); custom objects are ``2-…``."""


def schema_object_type_id(schema: Mapping[str, Any]) -> str | None:
    """A custom object schema's objectTypeId: as given, else derived from its ``id``.

    The spec makes ``objectTypeId`` optional (HubSpot's own example has none) and describes
    ``id`` as ``{meta-type}-{unique ID}``; in that example the id is the bare number and the
    associations say ``2-{id}``, so a bare number gets the custom objects' meta-type ``2``.
    ``None`` when neither says it: never the text ``None`` in a path or a key.
    """
    given = schema.get("objectTypeId")
    if isinstance(given, str) and _TYPE_ID.match(given):
        return given
    ident = schema.get("id")
    if isinstance(ident, int) and not isinstance(ident, bool):
        ident = str(ident)
    if isinstance(ident, str):
        if _TYPE_ID.match(ident):
            return ident
        if ident.isascii() and ident.isdigit():
            return f"2-{ident}"
    return None


_TYPE_ID = re.compile(r"^[0-9]+-[0-9]+$")


class Kind(StrEnum):
    PROPERTY = "property"
    PROPERTY_GROUP = "property_group"
    PIPELINE = "pipeline"
    WORKFLOW = "workflow"
    LIFECYCLE_STAGE = "lifecycle_stage"
    OBJECT_SCHEMA = "object_schema"
    ASSOCIATION_LABEL = "association_label"
    USER = "user"
    TEAM = "team"
    ROLE = "role"


@dataclass(frozen=True)
class ItemKey:
    """An item key (or a part's scope) parsed once into its kind and the rest:
    ``property:deals:amount`` is ``ItemKey(Kind.PROPERTY, "deals:amount")``; ``workflow`` (a
    part) has no rest. Its text is the key, unchanged."""

    kind: Kind
    rest: str = ""

    @classmethod
    def parse(cls, key: str) -> ItemKey:
        """Raises ``ValueError`` when the key starts with no known kind."""
        kind, _, rest = key.partition(":")
        return cls(Kind(kind), rest)

    @property
    def segments(self) -> tuple[str, ...]:
        """What follows the kind, segment by segment (``("deals", "amount")``)."""
        return tuple(self.rest.split(":")) if self.rest else ()

    @property
    def object_type(self) -> str:
        """The first segment: the object type of a property, group, pipeline or stage."""
        return self.rest.split(":", 1)[0]

    @property
    def name(self) -> str:
        """The rest after the object type (``amount`` of ``property:deals:amount``)."""
        return self.rest.split(":", 1)[-1]

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.rest}" if self.rest else self.kind.value


def kind_of(key: str) -> Kind:
    """The kind an item key or a scope starts with."""
    return ItemKey.parse(key).kind


class CoverageStatus(StrEnum):
    COMPLETE = "complete"
    FAILED = "failed"
    UNSUPPORTED = "unsupported"


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


class DefectStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"
    WAIVED = "waived"
    ACCEPTED = "accepted"


@dataclass(frozen=True)
class ConfigItem:
    """One thing of one kind: its stable key, canonical payload (compared) and raw JSON (kept)."""

    kind: Kind
    key: str
    canonical: Mapping[str, JSONValue]
    raw: Mapping[str, JSONValue]
    canonical_hash: str
    raw_hash: str
    label: str | None = None


@dataclass(frozen=True)
class KindCoverage:
    """How completely one part of a portal was read.

    ``scope`` is a key prefix (``property:deals``): every item whose key starts with
    ``scope + ":"`` was read by this part (``compare.scope_of`` finds a key's part). A part
    that is not ``complete`` is *not verified*: its baseline items are never reported removed.
    """

    kind: Kind
    scope: str
    status: CoverageStatus
    items: int = 0
    reason: str | None = None
    unverified: tuple[str, ...] = ()
    """``field=value`` filters: items of this part matching one were not read (e.g.
    ``dataSensitivity=sensitive`` when the token lacks the sensitive-data scope) and must not
    be reported as removed."""
    scopes: tuple[str, ...] = ()
    """The private-app scopes HubSpot said would make a failed part readable."""


@dataclass(frozen=True)
class SnapshotInfo:
    id: int
    portal: str
    taken_at: datetime
    coverage: tuple[KindCoverage, ...]
    item_count: int


@dataclass(frozen=True)
class StoredItem:
    """An item as a snapshot or baseline holds it: key and content hashes, payloads on demand."""

    kind: Kind
    key: str
    canonical_hash: str
    raw_hash: str


@dataclass(frozen=True)
class ItemVersion:
    """One version of an item, held by the portal's snapshots from ``valid_from`` (a snapshot
    id) up to, not including, ``valid_until`` (``None``: still held by the latest snapshot)."""

    kind: Kind
    key: str
    canonical_hash: str
    raw_hash: str
    valid_from: int
    valid_until: int | None
    first_seen_at: datetime

    def holds(self, snapshot_id: int) -> bool:
        """Is this the version the portal's snapshot ``snapshot_id`` holds?"""
        return self.valid_from <= snapshot_id and (
            self.valid_until is None or snapshot_id < self.valid_until
        )


@dataclass(frozen=True)
class SnapshotStamp:
    """A snapshot's id and time, without its coverage: for listing years of them cheaply."""

    id: int
    taken_at: datetime


@dataclass(frozen=True)
class PruneResult:
    """What retention deleted from one portal's history (or would delete, in a dry run)."""

    portal: str
    kept: int
    deleted: tuple[SnapshotStamp, ...]
    versions_deleted: int
    payloads_deleted: int
    bytes_freed: int
    dry_run: bool


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


@dataclass(frozen=True)
class LogEntry:
    """One record of the governance log: who did what to which subject, when, and why."""

    id: int
    portal: str
    at: datetime
    actor: str
    action: str
    subject: str
    note: str
    detail: Mapping[str, JSONValue] = field(default_factory=dict)


@dataclass(frozen=True)
class LogRecord:
    """A governance log entry the rules decided to write (the store adds the portal and time)."""

    actor: str
    action: str
    subject: str
    note: str
    detail: Mapping[str, JSONValue] = field(default_factory=dict)


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


class FindingStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    WAIVED = "waived"


@dataclass(frozen=True)
class Breach:
    """What one policy found in one snapshot, before it is tracked as a finding.

    ``subject`` is what the breach is about, stable from night to night (an item key, or
    ``property:contacts:leadsource`` for a set of likely duplicates); with the policy it makes
    the fingerprint. ``scopes`` are the parts it was judged from: while one of them is not read
    completely, its finding is neither seen again nor resolved."""

    policy: str
    subject: str
    key: str
    message: str
    severity: Severity
    scopes: tuple[str, ...]
    detail: Mapping[str, JSONValue] = field(default_factory=dict)
    label: str | None = None
    reason: str = ""


@dataclass(frozen=True)
class FindingWaiver:
    by: str
    at: datetime
    reason: str
    until: datetime


@dataclass(frozen=True)
class Finding:
    """A policy breach tracked over time by its fingerprint (portal, policy, subject)."""

    id: int
    portal: str
    fingerprint: str
    policy: str
    subject: str
    key: str
    status: FindingStatus
    severity: Severity
    message: str
    detail: Mapping[str, JSONValue]
    scopes: tuple[str, ...]
    first_seen_at: datetime
    last_seen_at: datetime
    occurrences: int
    label: str | None = None
    reason: str = ""
    resolution: str | None = None
    resolved_at: datetime | None = None
    waiver: FindingWaiver | None = None


@dataclass(frozen=True)
class FindingUpdate:
    """What one evaluation did to the findings table."""

    opened: tuple[int, ...] = ()
    seen_again: tuple[int, ...] = ()
    reopened: tuple[int, ...] = ()
    resolved: tuple[int, ...] = ()
    expired_waivers: tuple[int, ...] = ()


class SurfaceGovernance(StrEnum):
    """How a part of a portal's architecture is governed."""

    READ = "read"
    """hubaudit reads it from HubSpot."""
    MANUAL = "manual"
    """HubSpot exposes no API for it: a periodic sign-off in the config governs it."""


class SurfaceStatus(StrEnum):
    """How a part of the governed surface stands (the first four for read parts)."""

    READ = "read"
    PARTLY_READ = "partly read"
    NOT_VERIFIED = "not verified"
    NOT_READ = "not read"
    SIGNED_OFF = "signed off"
    OVERDUE = "overdue"
    NEVER_SIGNED_OFF = "never signed off"


@dataclass(frozen=True)
class SurfaceArea:
    """One part of a portal's architecture and how it is governed.

    ``read`` areas are what hubaudit reads (their ``status`` from the snapshot's coverage);
    ``manual`` areas are those HubSpot exposes no API for, governed by a periodic sign-off in
    the config: ``signed off``, ``overdue`` or ``never signed off``."""

    id: str
    name: str
    governed: SurfaceGovernance
    status: SurfaceStatus
    detail: str = ""
    signed_off_by: str | None = None
    signed_off_on: datetime | None = None
    due: datetime | None = None


@dataclass(frozen=True)
class HubInfo:
    """The HubSpot account behind a portal, from ``/account-info/v3/details``: enough to link
    to its records in HubSpot's UI."""

    portal_id: int
    ui_domain: str
    object_type_ids: Mapping[str, str] = field(default_factory=dict)
    """objectTypeId by object type name, for the portal's custom objects."""


@dataclass(frozen=True)
class WeekCount:
    week: str  # ISO week, "2026-W48"
    unplanned: int
    planned: int


@dataclass(frozen=True)
class Kpis:
    """Governance KPIs of one portal over a period: are we getting more governed or less?"""

    since: datetime
    until: datetime
    weeks: tuple[WeekCount, ...]
    unplanned: int
    planned: int
    mean_days_to_resolve: float | None
    resolved: int
    open_by_age: Mapping[str, int]
    """Open defects by age: ``0-7 days``, ``8-30 days``, ``31-90 days``, ``over 90 days``."""
    top_changers: tuple[tuple[str, int], ...]
    """Who made the most changes in the period (HubSpot's attribution), most first."""
    documented: int
    custom_properties: int
    under_baseline: int
    items: int
    vendor: int = 0
    """Changes HubSpot made to its own definitions (``vendor``), each once, in the period."""

    @property
    def planned_share(self) -> float | None:
        total = self.planned + self.unplanned
        return self.planned / total if total else None

    @property
    def documentation_coverage(self) -> float | None:
        return self.documented / self.custom_properties if self.custom_properties else None

    @property
    def baseline_share(self) -> float | None:
        return self.under_baseline / self.items if self.items else None


@dataclass(frozen=True)
class AuditResult:
    """Everything one audit found; renderers are pure functions of this value."""

    portal: str
    snapshot: SnapshotInfo
    baseline: BaselineInfo
    changes: tuple[Change, ...]
    not_verified: tuple[KindCoverage, ...]
    defects: DefectUpdate = field(default_factory=DefectUpdate)
    resolved_defects: tuple[Defect, ...] = ()
    notes: tuple[str, ...] = ()
    """What the audit could not do but did not need to fail for (an audit trail not readable)."""
    expired_waivers: tuple[Defect, ...] = ()
    """Defects whose waiver ran out before this audit: reopened, and said so in the report."""
    findings: tuple[Finding, ...] = ()
    """Policy breaches present in this snapshot (open or waived), tracked by fingerprint."""
    finding_update: FindingUpdate = field(default_factory=FindingUpdate)
    resolved_findings: tuple[Finding, ...] = ()
    surface: tuple[SurfaceArea, ...] = ()
    """The governed surface: what hubaudit read, and the areas governed by manual sign-off."""
    hub: HubInfo | None = None
    kpis: Kpis | None = None
    run_id: int | None = None
    """The run that produced it, when it was recorded as one."""

    @property
    def unplanned(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.classification is Classification.DEFECT)


@dataclass(frozen=True)
class StandIn:
    """A part a snapshot could not read, and the earlier snapshot whose complete read of it
    stands in for it: a partial snapshot never stands in for what it did not read."""

    scope: str
    failed: KindCoverage
    """The snapshot's read of the part (failed, with the reason)."""
    snapshot: SnapshotStamp | None
    """The last earlier snapshot that read the part completely; ``None`` when none did."""

    def note(self, latest: int) -> str:
        failed = f"its read in snapshot #{latest} failed" + (
            f": {self.failed.reason}" if self.failed.reason else ""
        )
        if self.snapshot is None:
            return f"{self.scope}: never read completely; {failed}"
        return (
            f"{self.scope}: from snapshot #{self.snapshot.id} of "
            f"{self.snapshot.taken_at:%Y-%m-%d %H:%M} UTC; {failed}"
        )


@dataclass(frozen=True)
class Point:
    """One side of a diff: a stored snapshot or an approved baseline version.

    ``latest`` is the latest snapshot with ``stand_ins``: for each part it failed to read, the
    last snapshot that read it (its coverage then holds that complete read)."""

    snapshot: SnapshotInfo | None = None
    baseline: BaselineInfo | None = None
    stand_ins: tuple[StandIn, ...] = ()

    def stand_in_for(self, key: str) -> StandIn | None:
        """The stand-in for the part holding ``key``, if the snapshot did not read that part."""
        if not self.stand_ins or self.snapshot is None:
            return None
        scopes = {c.scope for c in self.snapshot.coverage}
        end = key.rfind(":")
        while end > 0 and key[:end] not in scopes:  # the longest part that holds the key
            end = key.rfind(":", 0, end)
        return next((s for s in self.stand_ins if end > 0 and s.scope == key[:end]), None)

    def notes(self) -> list[str]:
        """One line per part taken from an earlier snapshot."""
        if self.snapshot is None:
            return []
        return [s.note(self.snapshot.id) for s in self.stand_ins]

    @property
    def moment(self) -> datetime:
        if self.snapshot is not None:
            return self.snapshot.taken_at
        assert self.baseline is not None
        return self.baseline.moment

    @property
    def name(self) -> str:
        if self.snapshot is not None:
            return f"snapshot #{self.snapshot.id} ({self.snapshot.taken_at:%Y-%m-%d %H:%M} UTC)"
        assert self.baseline is not None
        state = "" if self.baseline.status is BaselineStatus.APPROVED else "proposed "
        return f"baseline v{self.baseline.version} ({state}{self.baseline.moment:%Y-%m-%d} UTC)"

    @property
    def scopes(self) -> dict[str, tuple[str, ...]]:
        """The parts this point read completely, each with its filters of items not read."""
        if self.snapshot is not None:
            return {
                c.scope: c.unverified
                for c in self.snapshot.coverage
                if c.status is CoverageStatus.COMPLETE
            }
        assert self.baseline is not None
        return dict.fromkeys(self.baseline.scopes, ())


@dataclass(frozen=True)
class Diff:
    """Every change from one point to another, in the change format of ``audit``."""

    portal: str
    before: Point
    after: Point
    changes: tuple[Change, ...]
    not_compared: tuple[str, ...]
    """Parts read completely on one side only: nothing in them is reported."""


@dataclass(frozen=True)
class HistoryEntry:
    """One event in an item's life: it appeared, changed, was removed, or could not be read.

    ``at`` is the snapshot where hubaudit first saw it; ``attribution`` is HubSpot's own record
    of the edit (its time is usually earlier than ``at``)."""

    event: str  # "added" | "changed" | "removed" | "not read"
    snapshot_id: int
    at: datetime
    changes: tuple[Change, ...] = ()
    attribution: Attribution = field(default_factory=Attribution)
    canonical_hash: str | None = None
    last_seen: SnapshotStamp | None = None


@dataclass(frozen=True)
class ItemAtPoint:
    """One item as a point holds it, with the version's first appearance for snapshots."""

    key: str
    point: Point
    canonical: Mapping[str, object]
    raw: Mapping[str, object]
    first_seen: SnapshotStamp | None = None


class RunStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    ABANDONED = "abandoned"


@dataclass(frozen=True)
class RunStats:
    """What one audit run did, for its record."""

    snapshot_id: int | None = None
    api_calls: int = 0
    rate_limited: int = 0
    rate_limit_capped: int = 0
    """Rate-limit headers held back by the transport's caps (a wait or pace beyond bounds)."""
    items: int = 0
    changes: int = 0
    defects_opened: int = 0
    defects_resolved: int = 0
    not_verified: int = 0


class RunTrigger(StrEnum):
    """Who asked for a run (the stored ``trigger`` values)."""

    SCHEDULE = "schedule"
    """the nightly schedule fired"""
    CLI = "cli"
    """a person ran ``audit`` for one portal"""
    ALL = "all"
    """a person queued every portal at once"""


@dataclass(frozen=True)
class RunRecord:
    """One audit of one portal for one round (``scheduled_for``), as the database holds it."""

    id: int
    portal: str
    scheduled_for: datetime
    trigger: RunTrigger
    status: RunStatus
    worker: str | None
    attempts: int
    queued_at: datetime
    started_at: datetime | None
    claim_expires_at: datetime | None
    finished_at: datetime | None
    stats: RunStats
    error: str | None


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    host: str
    pid: int
    role: str
    started_at: datetime
    heartbeat_at: datetime
    stopped_at: datetime | None


@dataclass(frozen=True)
class ViewItem:
    """One item of a snapshot with its canonical payload (and raw JSON where a policy reads it)."""

    kind: Kind
    key: str
    canonical: Mapping[str, JSONValue]
    raw: Mapping[str, JSONValue] | None = None

    @property
    def label(self) -> str | None:
        for name in ("label", "name", "email"):
            value = self.canonical.get(name)
            if isinstance(value, str) and value:
                return value
        labels = self.canonical.get("labels")
        if isinstance(labels, Mapping) and isinstance(labels.get("singular"), str):
            return str(labels["singular"])
        return None


@dataclass(frozen=True)
class PastVersion:
    """One stored version of an item: when hubaudit first saw it, and what it held."""

    first_seen_at: datetime
    canonical: Mapping[str, JSONValue]
    raw: Mapping[str, JSONValue]


def _no_past(_key: str) -> list[PastVersion]:
    return []


@dataclass(frozen=True)
class PortalView:
    """A snapshot's items with their payloads: what policies and the dependency graph read.

    ``complete`` maps each part read completely to its filters of items not read
    (``dataSensitivity=sensitive`` without the scope): a policy judges only such parts."""

    portal: str
    snapshot_id: int
    taken_at: datetime
    items: Mapping[str, ViewItem]
    complete: Mapping[str, tuple[str, ...]]
    past: Callable[[str], list[PastVersion]] = _no_past
    """An item's stored versions up to this snapshot, oldest first (read on demand)."""

    def of_kind(self, kind: Kind) -> list[ViewItem]:
        return [item for item in self.items.values() if item.kind is kind]

    def read(self, scope: str) -> bool:
        """Was this part read completely (perhaps without some sensitive items)?"""
        return scope in self.complete

    def fully_read(self, scope: str) -> bool:
        """Was every item of this part read?"""
        return scope in self.complete and not self.complete[scope]

    def scopes_of(self, kind: Kind) -> list[str]:
        """The parts of one kind this snapshot read completely."""
        prefix = f"{kind.value}:"
        return sorted(s for s in self.complete if s == kind.value or s.startswith(prefix))
