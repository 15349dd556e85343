"""The database schema. Every change here comes with an Alembic migration in ``migrations/``.

No ``from __future__ import annotations`` here: SQLAlchemy reads each ``Mapped[...]`` annotation
when the class is created, and annotations Python has already evaluated cost it less than
strings it must resolve (every command that opens the database pays for this module)."""

import json
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from hubaudit.secrets import scrub

# Named constraints, so that SQLite and Postgres agree and migrations can refer to them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both databases (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# A stored text that starts with this is an escaped form (see StoredText). U+FDD0 is a Unicode
# noncharacter, set aside for a program's internal use: no label, key or note ever starts with it.
ESCAPED_TEXT_MARK = "\ufdd0"


def stored_text(value: str) -> str:
    """The form of ``value`` a text column of either database takes, unchanged unless needed.

    Postgres refuses U+0000 in ``text`` (HubSpot accepts it in a label), so such a text, and one
    that happens to start with the mark, is stored as the mark and the body of its JSON string
    (ASCII, ``\\u0000`` escaped): lossless, the same on both databases, readable in a dump."""
    if "\x00" in value or value.startswith(ESCAPED_TEXT_MARK):
        return ESCAPED_TEXT_MARK + json.dumps(value)[1:-1]
    return value


def read_stored_text(stored: str) -> str:
    """The text :func:`stored_text` stored."""
    if not stored.startswith(ESCAPED_TEXT_MARK):
        return stored
    try:
        text = json.loads('"' + stored[len(ESCAPED_TEXT_MARK) :] + '"')
    except ValueError:  # not ours: kept as it was stored
        return stored
    return text if isinstance(text, str) else stored


class StoredText(TypeDecorator[str]):
    """A text column that takes every string, NUL included, on SQLite and Postgres alike."""

    impl: type[String] = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else stored_text(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else read_stored_text(value)


class StoredString(StoredText):
    """:class:`StoredText` for a ``VARCHAR(n)`` column."""

    impl = String
    cache_ok = True


class ScrubbedText(StoredText):
    """:class:`StoredText` for a column that holds what the world outside said (a run's
    error, a notification's, a part's coverage reason, a stored report): every secret the
    process has read is taken out on the way in. The edges scrub first; this is the last line."""

    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else stored_text(scrub(value))


def digest_bytes(hex_digest: str) -> bytes:
    """The 32 bytes of a SHA-256 digest written in hex; ``ValueError`` if it is not one."""
    try:
        digest = bytes.fromhex(hex_digest)
    except (ValueError, TypeError):
        digest = b""
    if len(digest) != 32 or len(hex_digest) != 64:
        raise ValueError(f"not a SHA-256 digest in hex: {hex_digest!r:.80}")
    return digest


class Digest(TypeDecorator[str]):
    """A SHA-256 content hash: 64 hex digits in Python, as the model has it; its 32 bytes in
    the database (half the room, in the table and in every index on it)."""

    impl = LargeBinary(32)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        return None if value is None else digest_bytes(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else bytes(value).hex()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class PortalRow(Base):
    __tablename__ = "portals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(63), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class PayloadRow(Base):
    """Content-addressed JSON: a canonical payload or a raw response item, stored once by hash,
    compressed (``hubaudit.store.payloads`` reads and writes the body)."""

    __tablename__ = "payloads"
    __table_args__ = (
        # the sweep of ``prune`` finds the payloads another is written against
        Index(
            "ix_payloads_base",
            "base",
            postgresql_where=text("base IS NOT NULL"),
            sqlite_where=text("base IS NOT NULL"),
        ),
    )

    hash: Mapped[str] = mapped_column(Digest(), primary_key=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # the payload whose text the body was compressed against (a raw payload's canonical one)
    base: Mapped[str | None] = mapped_column(Digest(), nullable=True)


class SnapshotRow(Base):
    """Usable only once ``completed_at`` is set, in the same transaction as its items."""

    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"), index=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)


class SnapshotCoverageRow(Base):
    __tablename__ = "snapshot_coverage"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True
    )
    scope: Mapped[str] = mapped_column(String(255), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    items: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    # JSON list of "field=value" filters: items of this part that were not read
    unverified: Mapped[str | None] = mapped_column(Text, nullable=True)


class ItemVersionRow(Base):
    """One version of one item over a run of a portal's snapshots.

    A snapshot is the set of (key, hash) pairs it holds; stored as intervals, so that a night
    with no change adds a snapshot row and nothing else. A version holds for snapshot ``S`` of its
    portal when ``valid_from <= S.id`` and (``valid_until`` is null or ``S.id < valid_until``).
    Snapshot ids grow with each portal's writes (they are taken under the portal's lock), and the
    bounds are plain numbers, not foreign keys: a version outlives the pruning of the snapshot
    that first held it.
    """

    __tablename__ = "item_versions"
    __table_args__ = (
        Index("ix_item_versions_portal_key", "portal_id", "key", "valid_from"),
        Index("ix_item_versions_portal_open", "portal_id", "valid_until"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"))
    key: Mapped[str] = mapped_column(String(512))
    kind: Mapped[str] = mapped_column(String(32))
    # indexed: deleting an unreferenced payload must find its references without a scan
    canonical_hash: Mapped[str] = mapped_column(Digest(), ForeignKey("payloads.hash"), index=True)
    raw_hash: Mapped[str] = mapped_column(Digest(), ForeignKey("payloads.hash"), index=True)
    valid_from: Mapped[int] = mapped_column(Integer)
    valid_until: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # when the snapshot ``valid_from`` was taken: kept here because that snapshot may be pruned
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BaselineRow(Base):
    """A version of a portal's architecture: proposed (a draft that accepted defects and released
    change requests may still amend), then approved (immutable from then on) or rejected. At most
    one version per portal is proposed at a time, so every version's predecessor is the approved
    version before it."""

    __tablename__ = "baselines"
    __table_args__ = (
        UniqueConstraint("portal_id", "version"),
        Index(
            "ix_baselines_one_proposed_per_portal",
            "portal_id",
            unique=True,
            postgresql_where=text("status = 'proposed'"),
            sqlite_where=text("status = 'proposed'"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), server_default="approved")
    # snapshot | files | accepted | release: how the version was first proposed
    source: Mapped[str] = mapped_column(String(16), server_default="snapshot")
    proposed_by: Mapped[str] = mapped_column(String(255))
    proposed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    proposal_note: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    rejected_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    rejected_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    rejection_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    source_snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("snapshots.id"), nullable=True
    )
    # JSON list of the scopes (``property:deals``) this baseline governs.
    scopes: Mapped[str] = mapped_column(Text)
    item_count: Mapped[int] = mapped_column(Integer)


class BaselineItemRow(Base):
    __tablename__ = "baseline_items"

    baseline_id: Mapped[int] = mapped_column(
        ForeignKey("baselines.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # indexed: deleting an unreferenced payload must find its references without a scan
    canonical_hash: Mapped[str] = mapped_column(Digest(), ForeignKey("payloads.hash"), index=True)
    raw_hash: Mapped[str] = mapped_column(Digest(), ForeignKey("payloads.hash"), index=True)


class DefectRow(Base):
    """One item's unplanned drift, found again night after night under the same fingerprint
    (portal, key and the drift's content). ``changes_json`` lists its field changes; ``field``,
    ``path_json``, ``before_json`` and ``after_json`` sum them up (the one change's, or no field
    and the values by field)."""

    __tablename__ = "defects"
    __table_args__ = (UniqueConstraint("portal_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(512))
    field: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the field as a JSON list of path segments: exact where a key itself has a dot
    path_json: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    op: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), index=True)
    severity: Mapped[str] = mapped_column(String(16))
    before_json: Mapped[str] = mapped_column(Text)
    after_json: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    occurrences: Mapped[int] = mapped_column(Integer)
    baseline_id: Mapped[int] = mapped_column(ForeignKey("baselines.id"))
    first_snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"))
    last_snapshot_id: Mapped[int] = mapped_column(ForeignKey("snapshots.id"))
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # why the change is a defect beyond "unplanned", e.g. implemented differently than a CR says
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the proposed (then approved) baseline version that takes this defect's change in
    accepted_baseline_id: Mapped[int | None] = mapped_column(
        ForeignKey("baselines.id"), nullable=True
    )
    # JSON list of {"field", "path", "before", "after", "severity", "attribution"}
    changes_json: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")
    # the item's display name when last seen (label, or name, or key)
    name: Mapped[str | None] = mapped_column(Text, nullable=True)
    owner: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    due: Mapped[date | None] = mapped_column(Date, nullable=True)


class DefectEventRow(Base):
    """The timeline of a defect: opened, changed value, resolved, reopened."""

    __tablename__ = "defect_events"
    __table_args__ = (Index("ix_defect_events_defect_id_at", "defect_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    defect_id: Mapped[int] = mapped_column(ForeignKey("defects.id", ondelete="CASCADE"))
    snapshot_id: Mapped[int | None] = mapped_column(ForeignKey("snapshots.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    event: Mapped[str] = mapped_column(String(16))
    detail_json: Mapped[str] = mapped_column(Text)


class FindingRow(Base):
    """A breach of an architecture policy, tracked night after night by its fingerprint.

    The snapshot ids are plain numbers, not foreign keys: a finding's history does not hold
    snapshots back from retention. At most one waiver is in force (``waived_*``); the governance
    log keeps every waiver and its end."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("portal_id", "fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"), index=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    policy: Mapped[str] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(Text)
    key: Mapped[str] = mapped_column(String(512))
    label: Mapped[str | None] = mapped_column(Text, nullable=True)
    status: Mapped[str] = mapped_column(String(16), index=True)  # open | resolved | waived
    severity: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(Text)
    detail_json: Mapped[str] = mapped_column(Text)
    # JSON list of the parts (``property:deals``) the breach was judged from
    scopes_json: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    occurrences: Mapped[int] = mapped_column(Integer)
    first_snapshot_id: Mapped[int] = mapped_column(Integer)
    last_snapshot_id: Mapped[int] = mapped_column(Integer)
    resolution: Mapped[str | None] = mapped_column(Text, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    waived_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    waived_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    waiver_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    waived_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # what the finding said when it was waived: the waiver covers that, not what comes next
    waived_detail_json: Mapped[str | None] = mapped_column(Text, nullable=True)


class ChangeRequestRow(Base):
    """A planned change the council approves before it happens: the items it adds, removes or
    modifies (with the values the council cares about) and the window it may happen in."""

    __tablename__ = "change_requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"), index=True)
    title: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16))  # proposed|approved|rejected|released
    requested_by: Mapped[str] = mapped_column(String(255))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_from: Mapped[datetime] = mapped_column(UTCDateTime())
    valid_until: Mapped[datetime] = mapped_column(UTCDateTime())
    # JSON list of {"op", "key", "expect": {dotted field: value}}
    changes_json: Mapped[str] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    released_baseline_id: Mapped[int | None] = mapped_column(
        ForeignKey("baselines.id"), nullable=True
    )


class WaiverRow(Base):
    """A decision to tolerate a defect until a moment; the one with no ``ended_at`` is in force."""

    __tablename__ = "waivers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    defect_id: Mapped[int] = mapped_column(ForeignKey("defects.id"), index=True)
    waived_by: Mapped[str] = mapped_column(String(255))
    waived_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    until: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    end_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)


class GovernanceLogRow(Base):
    """The council's record: every proposal, approval, rejection, waiver, acceptance and import.
    Append-only: triggers (migration 0005) refuse UPDATE and DELETE on both databases."""

    __tablename__ = "governance_log"
    __table_args__ = (Index("ix_governance_log_portal_id_at", "portal_id", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text)
    detail_json: Mapped[str] = mapped_column(Text)


class RunRow(Base):
    """One audit of one portal: queued for a round, claimed by a worker, finished.

    ``scheduled_for`` is the round (the cron time it was due); one row per portal and round, so
    a round is audited once however many workers see it come due. At most one run per portal is
    open (queued or running) at a time: the partial unique index below holds that across
    processes and machines. A running run's claim lasts until ``claim_expires_at``; its worker
    renews it while it works, and another worker takes over a claim left to expire."""

    __tablename__ = "runs"
    __table_args__ = (
        UniqueConstraint("portal_id", "scheduled_for"),
        Index(
            "ix_runs_one_open_per_portal",
            "portal_id",
            unique=True,
            postgresql_where=text("status IN ('queued', 'running')"),
            sqlite_where=text("status IN ('queued', 'running')"),
        ),
        Index("ix_runs_status_scheduled_for", "status", "scheduled_for"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"))
    scheduled_for: Mapped[datetime] = mapped_column(UTCDateTime())
    trigger: Mapped[str] = mapped_column(String(16))  # schedule | cli | all
    status: Mapped[str] = mapped_column(String(16))  # queued|running|succeeded|failed|abandoned
    worker: Mapped[str | None] = mapped_column(String(255), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    snapshot_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    api_calls: Mapped[int] = mapped_column(Integer, default=0)
    rate_limited: Mapped[int] = mapped_column(Integer, default=0)  # 429 answers seen
    # rate-limit headers that asked for a wait or pace beyond the caps (each held to the cap)
    rate_limit_capped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    items: Mapped[int] = mapped_column(Integer, default=0)
    changes: Mapped[int] = mapped_column(Integer, default=0)
    defects_opened: Mapped[int] = mapped_column(Integer, default=0)
    defects_resolved: Mapped[int] = mapped_column(Integer, default=0)
    not_verified: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    # the process that holds (or last held) the claim: a claim of a process gone from this host
    # is taken over at once, without waiting for its lease (hubaudit.processes)
    worker_host: Mapped[str | None] = mapped_column(String(255), nullable=True)
    worker_namespace: Mapped[str | None] = mapped_column(String(255), nullable=True)
    worker_pid: Mapped[int | None] = mapped_column(Integer, nullable=True)
    worker_started: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class WorkerRow(Base):
    """A scheduler or worker process, with its heartbeat: what ``health`` and ``runs`` show."""

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(16))  # scheduler | worker
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RunReportRow(Base):
    """The result of one succeeded run, as its JSON report document (the versioned schema):
    what ``hubaudit report --run ID`` renders in any format, long after the run."""

    __tablename__ = "run_reports"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    schema_version: Mapped[str] = mapped_column(String(16))
    document: Mapped[str] = mapped_column(Text)


class ChangeSightingRow(Base):
    """The first time an audit saw a change (by fingerprint) with a classification: the
    governance KPIs' record of planned and unplanned changes and of who made them."""

    __tablename__ = "change_sightings"
    __table_args__ = (
        UniqueConstraint("portal_id", "fingerprint", "classification"),
        Index("ix_change_sightings_portal_id_first_seen_at", "portal_id", "first_seen_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"))
    fingerprint: Mapped[str] = mapped_column(String(64))
    classification: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(512))
    field: Mapped[str | None] = mapped_column(Text, nullable=True)
    severity: Mapped[str] = mapped_column(String(16))
    changed_by: Mapped[str | None] = mapped_column(String(255), nullable=True)
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    snapshot_id: Mapped[int] = mapped_column(Integer)


class NotificationRow(Base):
    """One notification of one run to one target: sent once, or failed with the reason."""

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("run_id", "target"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(255))
    channel: Mapped[str] = mapped_column(String(16))  # slack | webhook | email
    status: Mapped[str] = mapped_column(String(16))  # sent | failed
    attempts: Mapped[int] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class RunOutcomeRow(Base):
    """What one run did to the defects and findings (their ids by what happened to them),
    written in the same transaction as the defects and findings themselves: a run that dies
    before it publishes loses nothing. The run that takes it over (or, if that fails, the
    portal's next run) includes it in its own outcome, and publishes it; ``carried_into``
    names that run, ``published_at`` says when the run's own publication was done."""

    __tablename__ = "run_outcomes"

    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    defects_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    findings_json: Mapped[str | None] = mapped_column(Text, nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    carried_into: Mapped[int | None] = mapped_column(Integer, nullable=True)


class UserRow(Base):
    """A person of the web app. ``password_hash`` is an argon2 hash (``None``: the person signs
    in only through the identity-aware proxy). Accounts are disabled, never deleted: the
    governance log names them."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255), unique=True)
    display_name: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str | None] = mapped_column(String(255), nullable=True)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebSessionRow(Base):
    """A signed-in session, by the SHA-256 of its token (the token itself is only in the
    person's cookie). Revoked or idle too long, it signs no one in."""

    __tablename__ = "web_sessions"
    __table_args__ = (Index("ix_web_sessions_user_id", "user_id"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LoginAttemptRow(Base):
    """One sign-in attempt, for throttling: failures per account and per address."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_username_at", "username", "at"),
        Index("ix_login_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(255))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    succeeded: Mapped[bool] = mapped_column(Boolean)


SCRUBBED_COLUMNS = frozenset(
    {
        ("runs", "error"),
        ("notifications", "error"),
        ("snapshot_coverage", "reason"),
        ("run_reports", "document"),
    }
)


def _every_text_column_takes_any_string() -> None:
    """Every text column of the schema is a :class:`StoredText`: the columns above are declared
    with SQLAlchemy's ``Text`` and ``String`` (as the migrations are), and take this form here,
    in one place, so that no column is forgotten (a label, a key, a note, an error text: any
    may hold a NUL from HubSpot). The migrations need no change: the column types are the same.
    The columns that quote the world outside are :class:`ScrubbedText`.
    """
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if (table.name, column.name) in SCRUBBED_COLUMNS:
                assert type(column.type) is Text
                column.type = ScrubbedText()
            elif type(column.type) is Text:
                column.type = StoredText()
            elif type(column.type) is String:
                column.type = StoredString(column.type.length)


_every_text_column_takes_any_string()
