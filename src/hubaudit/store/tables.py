"""The ORM classes of the writers, each mapped over its Core table in
:mod:`hubaudit.store.schema` (the schema itself: names, columns, types, constraints and
indexes are declared there, once). The annotations only type the attributes for mypy.

A command that only reads queries the Core tables through a connection and never imports this
module (nor ``sqlalchemy.orm``)."""

from datetime import date, datetime

from sqlalchemy.orm import DeclarativeBase, Mapped

from hubaudit.store import schema

schema.add_partial_indexes()


class Base(DeclarativeBase):
    metadata = schema.metadata


class PortalRow(Base):
    __table__ = schema.portals

    id: Mapped[int]
    name: Mapped[str]
    created_at: Mapped[datetime]


class PayloadRow(Base):
    """Content-addressed JSON: a canonical payload or a raw response item, stored once by hash,
    compressed (``hubaudit.store.payloads`` reads and writes the body)."""

    __table__ = schema.payloads

    hash: Mapped[str]
    body: Mapped[bytes]
    base: Mapped[str | None]


class SnapshotRow(Base):
    """Usable only once ``completed_at`` is set, in the same transaction as its items."""

    __table__ = schema.snapshots

    id: Mapped[int]
    portal_id: Mapped[int]
    taken_at: Mapped[datetime]
    completed_at: Mapped[datetime | None]
    item_count: Mapped[int]
    api_calls: Mapped[int]


class SnapshotCoverageRow(Base):
    __table__ = schema.snapshot_coverage

    snapshot_id: Mapped[int]
    scope: Mapped[str]
    kind: Mapped[str]
    status: Mapped[str]
    items: Mapped[int]
    reason: Mapped[str | None]
    unverified: Mapped[str | None]


class ItemVersionRow(Base):
    """One version of one item over a run of a portal's snapshots.

    A snapshot is the set of (key, hash) pairs it holds; stored as intervals, so that a night
    with no change adds a snapshot row and nothing else. A version holds for snapshot ``S`` of its
    portal when ``valid_from <= S.id`` and (``valid_until`` is null or ``S.id < valid_until``).
    Snapshot ids grow with each portal's writes (they are taken under the portal's lock), and the
    bounds are plain numbers, not foreign keys: a version outlives the pruning of the snapshot
    that first held it.
    """

    __table__ = schema.item_versions

    id: Mapped[int]
    portal_id: Mapped[int]
    key: Mapped[str]
    kind: Mapped[str]
    canonical_hash: Mapped[str]
    raw_hash: Mapped[str]
    valid_from: Mapped[int]
    valid_until: Mapped[int | None]
    first_seen_at: Mapped[datetime]


class BaselineRow(Base):
    """A version of a portal's architecture: proposed (a draft that accepted defects and released
    change requests may still amend), then approved (immutable from then on) or rejected. At most
    one version per portal is proposed at a time, so every version's predecessor is the approved
    version before it."""

    __table__ = schema.baselines

    id: Mapped[int]
    portal_id: Mapped[int]
    version: Mapped[int]
    status: Mapped[str]
    source: Mapped[str]
    proposed_by: Mapped[str]
    proposed_at: Mapped[datetime]
    proposal_note: Mapped[str]
    approved_by: Mapped[str | None]
    approved_at: Mapped[datetime | None]
    note: Mapped[str | None]
    rejected_by: Mapped[str | None]
    rejected_at: Mapped[datetime | None]
    rejection_note: Mapped[str | None]
    source_snapshot_id: Mapped[int | None]
    scopes: Mapped[str]
    item_count: Mapped[int]


class BaselineItemRow(Base):
    __table__ = schema.baseline_items

    baseline_id: Mapped[int]
    key: Mapped[str]
    kind: Mapped[str]
    canonical_hash: Mapped[str]
    raw_hash: Mapped[str]


class DefectRow(Base):
    """One item's unplanned drift, found again night after night under the same fingerprint
    (portal, key and the drift's content). ``changes_json`` lists its field changes; ``field``,
    ``path_json``, ``before_json`` and ``after_json`` sum them up (the one change's, or no field
    and the values by field)."""

    __table__ = schema.defects

    id: Mapped[int]
    portal_id: Mapped[int]
    fingerprint: Mapped[str]
    kind: Mapped[str]
    key: Mapped[str]
    field: Mapped[str | None]
    path_json: Mapped[str]
    label: Mapped[str | None]
    op: Mapped[str]
    status: Mapped[str]
    severity: Mapped[str]
    before_json: Mapped[str]
    after_json: Mapped[str]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    occurrences: Mapped[int]
    baseline_id: Mapped[int]
    first_snapshot_id: Mapped[int]
    last_snapshot_id: Mapped[int]
    resolution: Mapped[str | None]
    resolved_at: Mapped[datetime | None]
    note: Mapped[str | None]
    accepted_baseline_id: Mapped[int | None]
    changes_json: Mapped[str]
    name: Mapped[str | None]
    owner: Mapped[str | None]
    due: Mapped[date | None]


class DefectEventRow(Base):
    """The timeline of a defect: opened, changed value, resolved, reopened."""

    __table__ = schema.defect_events

    id: Mapped[int]
    defect_id: Mapped[int]
    snapshot_id: Mapped[int | None]
    at: Mapped[datetime]
    event: Mapped[str]
    detail_json: Mapped[str]


class FindingRow(Base):
    """A breach of an architecture policy, tracked night after night by its fingerprint.

    The snapshot ids are plain numbers, not foreign keys: a finding's history does not hold
    snapshots back from retention. At most one waiver is in force (``waived_*``); the governance
    log keeps every waiver and its end."""

    __table__ = schema.findings

    id: Mapped[int]
    portal_id: Mapped[int]
    fingerprint: Mapped[str]
    policy: Mapped[str]
    subject: Mapped[str]
    key: Mapped[str]
    label: Mapped[str | None]
    status: Mapped[str]
    severity: Mapped[str]
    message: Mapped[str]
    reason: Mapped[str]
    detail_json: Mapped[str]
    scopes_json: Mapped[str]
    first_seen_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    occurrences: Mapped[int]
    first_snapshot_id: Mapped[int]
    last_snapshot_id: Mapped[int]
    resolution: Mapped[str | None]
    resolved_at: Mapped[datetime | None]
    waived_by: Mapped[str | None]
    waived_at: Mapped[datetime | None]
    waiver_reason: Mapped[str | None]
    waived_until: Mapped[datetime | None]
    waived_detail_json: Mapped[str | None]


class ChangeRequestRow(Base):
    """A planned change the council approves before it happens: the items it adds, removes or
    modifies (with the values the council cares about) and the window it may happen in."""

    __table__ = schema.change_requests

    id: Mapped[int]
    portal_id: Mapped[int]
    title: Mapped[str]
    status: Mapped[str]
    requested_by: Mapped[str]
    requested_at: Mapped[datetime]
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime]
    changes_json: Mapped[str]
    decided_by: Mapped[str | None]
    decided_at: Mapped[datetime | None]
    decision_note: Mapped[str | None]
    released_baseline_id: Mapped[int | None]


class WaiverRow(Base):
    """A decision to tolerate a defect until a moment; the one with no ``ended_at`` is in force."""

    __table__ = schema.waivers

    id: Mapped[int]
    defect_id: Mapped[int]
    waived_by: Mapped[str]
    waived_at: Mapped[datetime]
    reason: Mapped[str]
    until: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None]


class GovernanceLogRow(Base):
    """The council's record: every proposal, approval, rejection, waiver, acceptance and import.
    Append-only: triggers (migration 0005) refuse UPDATE and DELETE on both databases."""

    __table__ = schema.governance_log

    id: Mapped[int]
    portal_id: Mapped[int]
    at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str]
    subject: Mapped[str]
    note: Mapped[str]
    detail_json: Mapped[str]


class RunRow(Base):
    """One audit of one portal: queued for a round, claimed by a worker, finished.

    ``scheduled_for`` is the round (the cron time it was due); one row per portal and round, so
    a round is audited once however many workers see it come due. At most one run per portal is
    open (queued or running) at a time: the partial unique index below holds that across
    processes and machines. A running run's claim lasts until ``claim_expires_at``; its worker
    renews it while it works, and another worker takes over a claim left to expire."""

    __table__ = schema.runs

    id: Mapped[int]
    portal_id: Mapped[int]
    scheduled_for: Mapped[datetime]
    trigger: Mapped[str]
    status: Mapped[str]
    worker: Mapped[str | None]
    attempts: Mapped[int]
    queued_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    claim_expires_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    snapshot_id: Mapped[int | None]
    api_calls: Mapped[int]
    rate_limited: Mapped[int]
    rate_limit_capped: Mapped[int]
    items: Mapped[int]
    changes: Mapped[int]
    defects_opened: Mapped[int]
    defects_resolved: Mapped[int]
    not_verified: Mapped[int]
    error: Mapped[str | None]
    worker_host: Mapped[str | None]
    worker_namespace: Mapped[str | None]
    worker_pid: Mapped[int | None]
    worker_started: Mapped[int | None]


class WorkerRow(Base):
    """A scheduler or worker process, with its heartbeat: what ``health`` and ``runs`` show."""

    __table__ = schema.workers

    id: Mapped[str]
    host: Mapped[str]
    pid: Mapped[int]
    role: Mapped[str]
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    stopped_at: Mapped[datetime | None]


class RunReportRow(Base):
    """The result of one succeeded run, as its JSON report document (the versioned schema):
    what ``hubaudit report --run ID`` renders in any format, long after the run."""

    __table__ = schema.run_reports

    run_id: Mapped[int]
    portal_id: Mapped[int]
    created_at: Mapped[datetime]
    schema_version: Mapped[str]
    document: Mapped[str]


class ChangeSightingRow(Base):
    """The first time an audit saw a change (by fingerprint) with a classification: the
    governance KPIs' record of planned and unplanned changes and of who made them."""

    __table__ = schema.change_sightings

    id: Mapped[int]
    portal_id: Mapped[int]
    fingerprint: Mapped[str]
    classification: Mapped[str]
    kind: Mapped[str]
    key: Mapped[str]
    field: Mapped[str | None]
    severity: Mapped[str]
    changed_by: Mapped[str | None]
    first_seen_at: Mapped[datetime]
    snapshot_id: Mapped[int]


class NotificationRow(Base):
    """One notification of one run to one target: sent once, or failed with the reason."""

    __table__ = schema.notifications

    id: Mapped[int]
    run_id: Mapped[int]
    target: Mapped[str]
    channel: Mapped[str]
    status: Mapped[str]
    attempts: Mapped[int]
    error: Mapped[str | None]
    at: Mapped[datetime]


class RunOutcomeRow(Base):
    """What one run did to the defects and findings (their ids by what happened to them),
    written in the same transaction as the defects and findings themselves: a run that dies
    before it publishes loses nothing. The run that takes it over (or, if that fails, the
    portal's next run) includes it in its own outcome, and publishes it; ``carried_into``
    names that run, ``published_at`` says when the run's own publication was done."""

    __table__ = schema.run_outcomes

    run_id: Mapped[int]
    portal_id: Mapped[int]
    recorded_at: Mapped[datetime]
    defects_json: Mapped[str | None]
    findings_json: Mapped[str | None]
    published_at: Mapped[datetime | None]
    carried_into: Mapped[int | None]


class UserRow(Base):
    """A person of the web app. ``password_hash`` is an argon2 hash (``None``: the person signs
    in only through the identity-aware proxy). Accounts are disabled, never deleted: the
    governance log names them."""

    __table__ = schema.users

    id: Mapped[int]
    username: Mapped[str]
    display_name: Mapped[str]
    role: Mapped[str]
    password_hash: Mapped[str | None]
    disabled: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class WebSessionRow(Base):
    """A signed-in session, by the SHA-256 of its token (the token itself is only in the
    person's cookie). Revoked or idle too long, it signs no one in."""

    __table__ = schema.web_sessions

    token_hash: Mapped[str]
    user_id: Mapped[int]
    csrf_token: Mapped[str]
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginAttemptRow(Base):
    """One sign-in attempt, for throttling: failures per account and per address."""

    __table__ = schema.login_attempts

    id: Mapped[int]
    username: Mapped[str]
    address: Mapped[str]
    at: Mapped[datetime]
    succeeded: Mapped[bool]
