"""The database schema as SQLAlchemy Core tables. Every change here comes with an Alembic
migration in ``migrations/``.

Core only: no ``sqlalchemy.orm`` here, so that the read commands, which query these tables
through a connection, never load the ORM (the ORM classes of the writers, in
:mod:`hubaudit.store.tables`, are mapped over these same tables)."""

import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
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


metadata = MetaData(naming_convention=NAMING_CONVENTION)

portals = Table(
    "portals",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(63), unique=True, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

# Content-addressed JSON: a canonical payload or a raw response item, stored once by hash,
# compressed (``hubaudit.store.payloads`` reads and writes the body).
payloads = Table(
    "payloads",
    metadata,
    Column("hash", Digest(), primary_key=True),
    Column("body", LargeBinary, nullable=False),
    # the payload whose text the body was compressed against (a raw payload's canonical one)
    Column("base", Digest(), nullable=True),
)

# Usable only once ``completed_at`` is set, in the same transaction as its items.
snapshots = Table(
    "snapshots",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), index=True, nullable=False),
    Column("taken_at", UTCDateTime(), nullable=False),
    Column("completed_at", UTCDateTime(), nullable=True),
    Column("item_count", Integer, default=0, nullable=False),
    Column("api_calls", Integer, default=0, nullable=False),
)

snapshot_coverage = Table(
    "snapshot_coverage",
    metadata,
    Column("snapshot_id", ForeignKey("snapshots.id", ondelete="CASCADE"), primary_key=True),
    Column("scope", String(255), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("items", Integer, nullable=False),
    Column("reason", Text, nullable=True),
    # JSON list of "field=value" filters: items of this part that were not read
    Column("unverified", Text, nullable=True),
)

# One version of one item over a run of a portal's snapshots.
#
# A snapshot is the set of (key, hash) pairs it holds; stored as intervals, so that a night
# with no change adds a snapshot row and nothing else. A version holds for snapshot ``S`` of its
# portal when ``valid_from <= S.id`` and (``valid_until`` is null or ``S.id < valid_until``).
# Snapshot ids grow with each portal's writes (they are taken under the portal's lock), and the
# bounds are plain numbers, not foreign keys: a version outlives the pruning of the snapshot
# that first held it.
item_versions = Table(
    "item_versions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), nullable=False),
    Column("key", String(512), nullable=False),
    Column("kind", String(32), nullable=False),
    # indexed: deleting an unreferenced payload must find its references without a scan
    Column("canonical_hash", Digest(), ForeignKey("payloads.hash"), index=True, nullable=False),
    Column("raw_hash", Digest(), ForeignKey("payloads.hash"), index=True, nullable=False),
    Column("valid_from", Integer, nullable=False),
    Column("valid_until", Integer, nullable=True),
    # when the snapshot ``valid_from`` was taken: kept here because that snapshot may be pruned
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Index("ix_item_versions_portal_key", "portal_id", "key", "valid_from"),
    Index("ix_item_versions_portal_open", "portal_id", "valid_until"),
)

# A version of a portal's architecture: proposed (a draft that accepted defects and released
# change requests may still amend), then approved (immutable from then on) or rejected. At most
# one version per portal is proposed at a time, so every version's predecessor is the approved
# version before it.
baselines = Table(
    "baselines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), index=True, nullable=False),
    Column("version", Integer, nullable=False),
    Column("status", String(16), server_default="approved", nullable=False),
    # snapshot | files | accepted | release: how the version was first proposed
    Column("source", String(16), server_default="snapshot", nullable=False),
    Column("proposed_by", String(255), nullable=False),
    Column("proposed_at", UTCDateTime(), nullable=False),
    Column("proposal_note", Text, nullable=False),
    Column("approved_by", String(255), nullable=True),
    Column("approved_at", UTCDateTime(), nullable=True),
    Column("note", Text, nullable=True),
    Column("rejected_by", String(255), nullable=True),
    Column("rejected_at", UTCDateTime(), nullable=True),
    Column("rejection_note", Text, nullable=True),
    Column("source_snapshot_id", ForeignKey("snapshots.id"), nullable=True),
    # JSON list of the scopes (``property:deals``) this baseline governs.
    Column("scopes", Text, nullable=False),
    Column("item_count", Integer, nullable=False),
    UniqueConstraint("portal_id", "version"),
)

baseline_items = Table(
    "baseline_items",
    metadata,
    Column("baseline_id", ForeignKey("baselines.id", ondelete="CASCADE"), primary_key=True),
    Column("key", String(512), primary_key=True),
    Column("kind", String(32), nullable=False),
    # indexed: deleting an unreferenced payload must find its references without a scan
    Column("canonical_hash", Digest(), ForeignKey("payloads.hash"), index=True, nullable=False),
    Column("raw_hash", Digest(), ForeignKey("payloads.hash"), index=True, nullable=False),
)

# One item's unplanned drift, found again night after night under the same fingerprint
# (portal, key and the drift's content). ``changes_json`` lists its field changes; ``field``,
# ``path_json``, ``before_json`` and ``after_json`` sum them up (the one change's, or no field
# and the values by field).
defects = Table(
    "defects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), index=True, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(512), nullable=False),
    Column("field", Text, nullable=True),
    # the field as a JSON list of path segments: exact where a key itself has a dot
    Column("path_json", Text, default="[]", server_default="[]", nullable=False),
    Column("label", Text, nullable=True),
    Column("op", String(16), nullable=False),
    Column("status", String(16), index=True, nullable=False),
    Column("severity", String(16), nullable=False),
    Column("before_json", Text, nullable=False),
    Column("after_json", Text, nullable=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("baseline_id", ForeignKey("baselines.id"), nullable=False),
    Column("first_snapshot_id", ForeignKey("snapshots.id"), nullable=False),
    Column("last_snapshot_id", ForeignKey("snapshots.id"), nullable=False),
    Column("resolution", Text, nullable=True),
    Column("resolved_at", UTCDateTime(), nullable=True),
    # why the change is a defect beyond "unplanned", e.g. implemented differently than a CR says
    Column("note", Text, nullable=True),
    # the proposed (then approved) baseline version that takes this defect's change in
    Column("accepted_baseline_id", ForeignKey("baselines.id"), nullable=True),
    # JSON list of {"field", "path", "before", "after", "severity", "attribution"}
    Column("changes_json", Text, default="[]", server_default="[]", nullable=False),
    # the item's display name when last seen (label, or name, or key)
    Column("name", Text, nullable=True),
    Column("owner", String(255), nullable=True, index=True),
    Column("due", Date, nullable=True),
    UniqueConstraint("portal_id", "fingerprint"),
)

# The timeline of a defect: opened, changed value, resolved, reopened.
defect_events = Table(
    "defect_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("defect_id", ForeignKey("defects.id", ondelete="CASCADE"), nullable=False),
    Column("snapshot_id", ForeignKey("snapshots.id"), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    Column("event", String(16), nullable=False),
    Column("detail_json", Text, nullable=False),
    Index("ix_defect_events_defect_id_at", "defect_id", "at"),
)

# A breach of an architecture policy, tracked night after night by its fingerprint.
#
# The snapshot ids are plain numbers, not foreign keys: a finding's history does not hold
# snapshots back from retention. At most one waiver is in force (``waived_*``); the governance
# log keeps every waiver and its end.
findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), index=True, nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("policy", String(64), nullable=False),
    Column("subject", Text, nullable=False),
    Column("key", String(512), nullable=False),
    Column("label", Text, nullable=True),
    Column("status", String(16), index=True, nullable=False),  # open | resolved | waived
    Column("severity", String(16), nullable=False),
    Column("message", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("detail_json", Text, nullable=False),
    # JSON list of the parts (``property:deals``) the breach was judged from
    Column("scopes_json", Text, nullable=False),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("first_snapshot_id", Integer, nullable=False),
    Column("last_snapshot_id", Integer, nullable=False),
    Column("resolution", Text, nullable=True),
    Column("resolved_at", UTCDateTime(), nullable=True),
    Column("waived_by", String(255), nullable=True),
    Column("waived_at", UTCDateTime(), nullable=True),
    Column("waiver_reason", Text, nullable=True),
    Column("waived_until", UTCDateTime(), nullable=True),
    # what the finding said when it was waived: the waiver covers that, not what comes next
    Column("waived_detail_json", Text, nullable=True),
    UniqueConstraint("portal_id", "fingerprint"),
)

# A planned change the council approves before it happens: the items it adds, removes or
# modifies (with the values the council cares about) and the window it may happen in.
change_requests = Table(
    "change_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), index=True, nullable=False),
    Column("title", Text, nullable=False),
    Column("status", String(16), nullable=False),  # proposed|approved|rejected|released
    Column("requested_by", String(255), nullable=False),
    Column("requested_at", UTCDateTime(), nullable=False),
    Column("valid_from", UTCDateTime(), nullable=False),
    Column("valid_until", UTCDateTime(), nullable=False),
    # JSON list of {"op", "key", "expect": {dotted field: value}}
    Column("changes_json", Text, nullable=False),
    Column("decided_by", String(255), nullable=True),
    Column("decided_at", UTCDateTime(), nullable=True),
    Column("decision_note", Text, nullable=True),
    Column("released_baseline_id", ForeignKey("baselines.id"), nullable=True),
)

# A decision to tolerate a defect until a moment; the one with no ``ended_at`` is in force.
waivers = Table(
    "waivers",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("defect_id", ForeignKey("defects.id"), index=True, nullable=False),
    Column("waived_by", String(255), nullable=False),
    Column("waived_at", UTCDateTime(), nullable=False),
    Column("reason", Text, nullable=False),
    Column("until", UTCDateTime(), nullable=False),
    Column("ended_at", UTCDateTime(), nullable=True),
    Column("end_reason", String(32), nullable=True),
)

# The council's record: every proposal, approval, rejection, waiver, acceptance and import.
# Append-only: triggers (migration 0005) refuse UPDATE and DELETE on both databases.
governance_log = Table(
    "governance_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(32), nullable=False),
    Column("subject", String(64), nullable=False),
    Column("note", Text, nullable=False),
    Column("detail_json", Text, nullable=False),
    Index("ix_governance_log_portal_id_at", "portal_id", "at"),
)

# One audit of one portal: queued for a round, claimed by a worker, finished.
#
# ``scheduled_for`` is the round (the cron time it was due); one row per portal and round, so
# a round is audited once however many workers see it come due. At most one run per portal is
# open (queued or running) at a time: the partial unique index below holds that across
# processes and machines. A running run's claim lasts until ``claim_expires_at``; its worker
# renews it while it works, and another worker takes over a claim left to expire.
runs = Table(
    "runs",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), nullable=False),
    Column("scheduled_for", UTCDateTime(), nullable=False),
    Column("trigger", String(16), nullable=False),  # schedule | cli | all
    Column("status", String(16), nullable=False),  # queued|running|succeeded|failed|abandoned
    Column("worker", String(255), nullable=True),
    Column("attempts", Integer, default=0, nullable=False),
    Column("queued_at", UTCDateTime(), nullable=False),
    Column("started_at", UTCDateTime(), nullable=True),
    Column("claim_expires_at", UTCDateTime(), nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("snapshot_id", Integer, nullable=True),
    Column("api_calls", Integer, default=0, nullable=False),
    Column("rate_limited", Integer, default=0, nullable=False),  # 429 answers seen
    # rate-limit headers that asked for a wait or pace beyond the caps (each held to the cap)
    Column("rate_limit_capped", Integer, default=0, server_default="0", nullable=False),
    Column("items", Integer, default=0, nullable=False),
    Column("changes", Integer, default=0, nullable=False),
    Column("defects_opened", Integer, default=0, nullable=False),
    Column("defects_resolved", Integer, default=0, nullable=False),
    Column("not_verified", Integer, default=0, nullable=False),
    Column("error", Text, nullable=True),
    # the process that holds (or last held) the claim: a claim of a process gone from this host
    # is taken over at once, without waiting for its lease (hubaudit.processes)
    Column("worker_host", String(255), nullable=True),
    Column("worker_namespace", String(255), nullable=True),
    Column("worker_pid", Integer, nullable=True),
    Column("worker_started", BigInteger, nullable=True),
    UniqueConstraint("portal_id", "scheduled_for"),
    Index("ix_runs_status_scheduled_for", "status", "scheduled_for"),
)

# A scheduler or worker process, with its heartbeat: what ``health`` and ``runs`` show.
workers = Table(
    "workers",
    metadata,
    Column("id", String(255), primary_key=True),
    Column("host", String(255), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("role", String(16), nullable=False),  # scheduler | worker
    Column("started_at", UTCDateTime(), nullable=False),
    Column("heartbeat_at", UTCDateTime(), nullable=False),
    Column("stopped_at", UTCDateTime(), nullable=True),
)

# The result of one succeeded run, as its JSON report document (the versioned schema):
# what ``hubaudit report --run ID`` renders in any format, long after the run.
run_reports = Table(
    "run_reports",
    metadata,
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), index=True, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("schema_version", String(16), nullable=False),
    Column("document", Text, nullable=False),
)

# The first time an audit saw a change (by fingerprint) with a classification: the
# governance KPIs' record of planned and unplanned changes and of who made them.
change_sightings = Table(
    "change_sightings",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), nullable=False),
    Column("fingerprint", String(64), nullable=False),
    Column("classification", String(16), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("key", String(512), nullable=False),
    Column("field", Text, nullable=True),
    Column("severity", String(16), nullable=False),
    Column("changed_by", String(255), nullable=True),
    Column("first_seen_at", UTCDateTime(), nullable=False),
    Column("snapshot_id", Integer, nullable=False),
    UniqueConstraint("portal_id", "fingerprint", "classification"),
    Index("ix_change_sightings_portal_id_first_seen_at", "portal_id", "first_seen_at"),
)

# One notification of one run to one target: sent once, or failed with the reason.
notifications = Table(
    "notifications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), index=True, nullable=False),
    Column("target", String(255), nullable=False),
    Column("channel", String(16), nullable=False),  # slack | webhook | email
    Column("status", String(16), nullable=False),  # sent | failed
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    UniqueConstraint("run_id", "target"),
)

# What one run did to the defects and findings (their ids by what happened to them),
# written in the same transaction as the defects and findings themselves: a run that dies
# before it publishes loses nothing. The run that takes it over (or, if that fails, the
# portal's next run) includes it in its own outcome, and publishes it; ``carried_into``
# names that run, ``published_at`` says when the run's own publication was done.
run_outcomes = Table(
    "run_outcomes",
    metadata,
    Column("run_id", ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("portal_id", ForeignKey("portals.id"), index=True, nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    Column("defects_json", Text, nullable=True),
    Column("findings_json", Text, nullable=True),
    Column("published_at", UTCDateTime(), nullable=True),
    Column("carried_into", Integer, nullable=True),
)

# A person of the web app. ``password_hash`` is an argon2 hash (``None``: the person signs
# in only through the identity-aware proxy). Accounts are disabled, never deleted: the
# governance log names them.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(255), unique=True, nullable=False),
    Column("display_name", String(255), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=True),
    Column("disabled", Boolean, default=False, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
)

# A signed-in session, by the SHA-256 of its token (the token itself is only in the
# person's cookie). Revoked or idle too long, it signs no one in.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("user_id", ForeignKey("users.id"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("last_seen_at", UTCDateTime(), nullable=False),
    Column("revoked_at", UTCDateTime(), nullable=True),
    Index("ix_web_sessions_user_id", "user_id"),
)

# One sign-in attempt, for throttling: failures per account and per address.
login_attempts = Table(
    "login_attempts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("username", String(255), nullable=False),
    Column("address", String(64), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("succeeded", Boolean, nullable=False),
    Index("ix_login_attempts_username_at", "username", "at"),
    Index("ix_login_attempts_address_at", "address", "at"),
)


# Partial indexes, added to their tables by :func:`add_partial_indexes`: (table, index name,
# columns, the condition, unique). Each names its condition per dialect (``sqlite_where``,
# ``postgresql_where``), and SQLAlchemy imports every dialect so named to check the argument:
# the Postgres dialect would cost a read command on SQLite ~30 ms. No read needs these indexes'
# definitions, so only the writers' :mod:`hubaudit.store.tables` adds them (and with it the
# migrations' env and the test that compares the metadata with the migrated schema).
PARTIAL_INDEXES: tuple[tuple[Table, str, tuple[str, ...], str, bool], ...] = (
    # the sweep of ``prune`` finds the payloads another is written against
    (payloads, "ix_payloads_base", ("base",), "base IS NOT NULL", False),
    # at most one proposed version per portal at a time
    (
        baselines,
        "ix_baselines_one_proposed_per_portal",
        ("portal_id",),
        "status = 'proposed'",
        True,
    ),
    # at most one open (queued or running) run per portal, across processes and machines
    (
        runs,
        "ix_runs_one_open_per_portal",
        ("portal_id",),
        "status IN ('queued', 'running')",
        True,
    ),
)


def add_partial_indexes() -> None:
    """Add the :data:`PARTIAL_INDEXES` to their tables (once)."""
    for table, name, columns, condition, unique in PARTIAL_INDEXES:
        if any(index.name == name for index in table.indexes):
            continue
        Index(
            name,
            *(table.c[column] for column in columns),
            unique=unique,
            postgresql_where=text(condition),
            sqlite_where=text(condition),
        )


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
    for table in metadata.tables.values():
        for column in table.columns:
            if (table.name, column.name) in SCRUBBED_COLUMNS:
                assert type(column.type) is Text
                column.type = ScrubbedText()
            elif type(column.type) is Text:
                column.type = StoredText()
            elif type(column.type) is String:
                column.type = StoredString(column.type.length)


_every_text_column_takes_any_string()
