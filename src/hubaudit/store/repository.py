"""The repository: model values in, model values out. No HubSpot, no rendering here."""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, replace
from datetime import UTC, date, datetime
from itertools import islice
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Engine,
    Integer,
    LargeBinary,
    Select,
    Table,
    and_,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy import column as plain_column
from sqlalchemy import table as plain_table
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from hubaudit.analysis.canonical import canonical_json, storable
from hubaudit.errors import DatabaseError, PortalNotStored, ProposalPending, UsageError
from hubaudit.governance.defects import (
    Assignment,
    DefectPlan,
    Drift,
    TimelineEntry,
    decide_status,
    defect_writes,
    expired_waivers,
    field_change_document,
    field_change_from,
    require_statuses,
)
from hubaudit.governance.defects import defects_subject as defects_subject  # kept for callers
from hubaudit.model.baselines import BaselineInfo, BaselineStatus
from hubaudit.model.changes import ChangeOp, Severity
from hubaudit.model.defects import (
    Defect,
    DefectEvent,
    DefectEventName,
    DefectStatus,
    DefectUpdate,
    Waiver,
)
from hubaudit.model.governance_log import LogRecord
from hubaudit.model.items import (
    ConfigItem,
    CoverageStatus,
    ItemVersion,
    JSONValue,
    Kind,
    KindCoverage,
    PruneResult,
    SnapshotInfo,
    SnapshotStamp,
    StoredItem,
)
from hubaudit.store.outcomes import record_outcome
from hubaudit.store.payloads import decode_rows, read_payloads, stored_digests, write_payloads
from hubaudit.store.payloads import insert_ignoring_conflicts as insert_ignoring_conflicts
from hubaudit.store.tables import (
    ESCAPED_TEXT_MARK,
    BaselineItemRow,
    BaselineRow,
    DefectEventRow,
    DefectRow,
    GovernanceLogRow,
    ItemVersionRow,
    PayloadRow,
    PortalRow,
    SnapshotCoverageRow,
    SnapshotRow,
    WaiverRow,
    digest_bytes,
    read_stored_text,
)

_BATCH = 1000
# item_versions, baseline_items and snapshots with plain columns, for reading a whole snapshot
# or baseline: 100,000 rows of them, where the column types' conversions of every value (each
# digest to hex, each key and kind checked for the escaped form) took half the time of an audit's
# comparison. The rows are converted by :func:`_stored_items`, which knows what needs it.
_ITEM_COLUMNS = ("key", "kind", "canonical_hash", "raw_hash")
_VERSIONS = plain_table(
    "item_versions",
    *map(plain_column, ("portal_id", *_ITEM_COLUMNS, "valid_from", "valid_until")),
)
_BASELINE_ITEMS = plain_table("baseline_items", *map(plain_column, ("baseline_id", *_ITEM_COLUMNS)))
_SNAPSHOTS = plain_table("snapshots", *map(plain_column, ("id", "portal_id", "completed_at")))
_BODIES = plain_table("payloads", *map(plain_column, ("hash", "body", "base")))
_KINDS = {kind.value: kind for kind in Kind}  # a lookup, not an Enum call, per row read
# the Postgres advisory lock key between snapshot writers and the payload sweep ("hubaudit")
_PAYLOAD_LOCK = 0x6875626175646974


def _batches(rows: Iterable[Any], size: int = _BATCH) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class Store:
    """Snapshots, baselines and defects of every portal, in one SQL database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def session(self) -> AbstractContextManager[Session]:
        """A transaction; database failures become :class:`DatabaseError`."""
        return self._session()

    def portal_id(self, session: Session, name: str, *, create: bool = False) -> int:
        return self._portal_id(session, name, create=create)

    def lock_portal(self, session: Session, portal_id: int) -> None:
        self._lock_portal(session, portal_id)

    def put_payloads(self, session: Session, values: Mapping[str, JSONValue]) -> None:
        """Store payloads by hash (under the lock the payload sweep respects)."""
        self._lock_payloads(session, exclusive=False)
        self._put_payloads(session, values)

    @contextmanager
    def _session(self) -> Iterator[Session]:
        try:
            with Session(self.engine) as session, session.begin():
                yield session
        except (OperationalError, IntegrityError, DataError) as exc:
            raise DatabaseError(f"database error: {exc.orig}") from exc

    # portals --------------------------------------------------------------------------------

    def _portal_id(self, session: Session, name: str, *, create: bool = False) -> int:
        found = session.scalar(select(PortalRow.id).where(PortalRow.name == name))
        if found is not None:
            return found
        if not create:
            raise PortalNotStored(name)
        try:
            with session.begin_nested():
                row = PortalRow(name=name, created_at=_now())
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:  # another worker created it at the same moment
            return session.scalars(select(PortalRow.id).where(PortalRow.name == name)).one()

    def _lock_portal(self, session: Session, portal_id: int) -> None:
        """Hold the portal's row until the transaction ends: one writer per portal at a time.

        A write to the row locks it on Postgres and takes the database's write lock on SQLite.
        Snapshot ids are allocated under this lock, so they grow in each portal's write order."""
        session.execute(
            update(PortalRow).where(PortalRow.id == portal_id).values(name=PortalRow.name)
        )

    @staticmethod
    def _lock_payloads(session: Session, *, exclusive: bool) -> None:
        """Writers that may reuse a stored payload share this lock; the payload sweep of
        ``prune`` takes it alone, so it never deletes a payload a writer is about to point to.
        (SQLite has one writer at a time already.)"""
        if session.get_bind().dialect.name == "postgresql":
            lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
            session.execute(select(getattr(func, lock)(_PAYLOAD_LOCK)))

    def portal_names(self) -> list[str]:
        with self._session() as session:
            return list(session.scalars(select(PortalRow.name).order_by(PortalRow.name)))

    # payloads -------------------------------------------------------------------------------

    def _put_payloads(self, session: Session, values: Mapping[str, JSONValue]) -> None:
        write_payloads(session, values)

    def load_payloads(self, hashes: Iterable[str]) -> dict[str, dict[str, JSONValue]]:
        with self._session() as session:
            return read_payloads(session, hashes)

    # snapshots ------------------------------------------------------------------------------

    def held_raw_digests(self, portal: str) -> set[bytes]:
        """The digests of the raw JSON of the items the portal holds now (its latest
        snapshot's versions): payloads stored already, which a read need not keep to write."""
        with self._session() as session:
            found = session.scalar(select(PortalRow.id).where(PortalRow.name == portal))
            if found is None:
                return set()
            # the column's bytes as they are: a portal's worth of hex strings is not needed
            digest = type_coerce(ItemVersionRow.raw_hash, LargeBinary)
            return {
                bytes(d)
                for d in session.scalars(
                    select(digest).where(
                        ItemVersionRow.portal_id == found, ItemVersionRow.valid_until.is_(None)
                    )
                )
            }

    def save_snapshot(
        self,
        portal: str,
        taken_at: datetime,
        coverage: Sequence[KindCoverage],
        items: Iterable[ConfigItem],
        api_calls: int = 0,
    ) -> SnapshotInfo:
        """Store a snapshot atomically: it becomes visible only when everything is written.

        Only what changed since the portal's previous snapshot is written: new versions for
        added and changed items, a closed interval for changed and absent ones."""
        with self._session() as session:
            portal_id = self._portal_id(session, portal, create=True)
            self._lock_portal(session, portal_id)
            self._lock_payloads(session, exclusive=False)
            row = SnapshotRow(
                portal_id=portal_id, taken_at=taken_at, item_count=0, api_calls=api_calls
            )
            session.add(row)
            session.flush()
            # the digests as the column's bytes, in plain tuples: a portal's worth of rows
            # with two hex strings each was most of what writing a snapshot held
            held: dict[str, tuple[int, str, bytes, bytes]] = {
                key: (version_id, kind, bytes(canonical), bytes(raw))
                for version_id, key, kind, canonical, raw in session.execute(
                    select(
                        ItemVersionRow.id,
                        ItemVersionRow.key,
                        ItemVersionRow.kind,
                        type_coerce(ItemVersionRow.canonical_hash, LargeBinary),
                        type_coerce(ItemVersionRow.raw_hash, LargeBinary),
                    ).where(
                        ItemVersionRow.portal_id == portal_id,
                        ItemVersionRow.valid_until.is_(None),
                    )
                )
            }
            seen: set[str] = set()
            fresh: list[ConfigItem] = []
            ended: list[int] = []
            for item in items:
                if item.key in seen:
                    raise DatabaseError(f"the snapshot holds {item.key!r} twice")
                seen.add(item.key)
                previous = held.get(item.key)
                if previous is not None:
                    if previous[1:] == (
                        item.kind.value,
                        bytes.fromhex(item.canonical_hash),
                        bytes.fromhex(item.raw_hash),
                    ):
                        continue
                    ended.append(previous[0])
                fresh.append(item)
            ended += [version[0] for key, version in held.items() if key not in seen]
            del held
            payloads: dict[str, JSONValue] = {}
            for item in fresh:
                payloads[item.canonical_hash] = item.canonical
                if item.raw is not None:
                    payloads[item.raw_hash] = item.raw
            _require_stored(session, {i.raw_hash for i in fresh if i.raw is None})
            # a raw payload is stored against its canonical one: only what that cannot give back
            write_payloads(session, payloads, {i.raw_hash: i.canonical_hash for i in fresh})
            for batch in _batches(ended):
                session.execute(
                    update(ItemVersionRow)
                    .where(ItemVersionRow.id.in_(batch))
                    .values(valid_until=row.id)
                )
            for batch in _batches(fresh):
                session.execute(
                    insert(ItemVersionRow),
                    [
                        {
                            "portal_id": portal_id,
                            "key": item.key,
                            "kind": item.kind.value,
                            "canonical_hash": item.canonical_hash,
                            "raw_hash": item.raw_hash,
                            "valid_from": row.id,
                            "valid_until": None,
                            "first_seen_at": taken_at,
                        }
                        for item in batch
                    ],
                )
            for part in coverage:
                session.add(
                    SnapshotCoverageRow(
                        snapshot_id=row.id,
                        scope=part.scope,
                        kind=part.kind.value,
                        status=part.status.value,
                        items=part.items,
                        reason=part.reason,
                        unverified=json.dumps(list(part.unverified)) if part.unverified else None,
                    )
                )
            row.item_count = len(seen)
            row.completed_at = _now()
            session.flush()
            return SnapshotInfo(row.id, portal, taken_at, tuple(coverage), len(seen))

    def latest_snapshot(self, portal: str) -> SnapshotInfo | None:
        return self._find_snapshot(portal)

    def snapshot(self, portal: str, snapshot_id: int) -> SnapshotInfo:
        found = self._find_snapshot(portal, SnapshotRow.id == snapshot_id)
        if found is None:
            raise UsageError(f"portal {portal!r} has no complete snapshot {snapshot_id}")
        return found

    def snapshot_at(self, portal: str, moment: datetime) -> SnapshotInfo | None:
        """The portal's last snapshot taken at or before ``moment``."""
        return self._find_snapshot(portal, SnapshotRow.taken_at <= moment, by_time=True)

    def _find_snapshot(
        self, portal: str, *conditions: ColumnElement[bool], by_time: bool = False
    ) -> SnapshotInfo | None:
        """The portal's newest complete snapshot that meets ``conditions``."""
        order = (SnapshotRow.taken_at.desc(), SnapshotRow.id.desc()) if by_time else ()
        with self._session() as session:
            row = session.scalars(
                select(SnapshotRow)
                .join(PortalRow)
                .where(PortalRow.name == portal, SnapshotRow.completed_at.is_not(None), *conditions)
                .order_by(*order, SnapshotRow.id.desc())
                .limit(1)
            ).first()
            return None if row is None else self._snapshot_info(session, row, portal)

    def snapshot_stamps(self, portal: str) -> list[SnapshotStamp]:
        """Every complete snapshot of the portal, oldest first."""
        with self._session() as session:
            return [
                SnapshotStamp(r.id, r.taken_at)
                for r in session.execute(
                    select(SnapshotRow.id, SnapshotRow.taken_at)
                    .join(PortalRow)
                    .where(PortalRow.name == portal, SnapshotRow.completed_at.is_not(None))
                    .order_by(SnapshotRow.id)
                )
            ]

    def scope_coverage(self, portal: str, scope: str) -> dict[int, KindCoverage]:
        """How each snapshot of the portal read one part, by snapshot id."""
        with self._session() as session:
            return {
                c.snapshot_id: _coverage(c)
                for c in session.scalars(
                    select(SnapshotCoverageRow)
                    .join(SnapshotRow)
                    .join(PortalRow)
                    .where(PortalRow.name == portal, SnapshotCoverageRow.scope == scope)
                )
            }

    def _snapshot_info(self, session: Session, row: SnapshotRow, portal: str) -> SnapshotInfo:
        coverage = tuple(
            _coverage(c)
            for c in session.scalars(
                select(SnapshotCoverageRow)
                .where(SnapshotCoverageRow.snapshot_id == row.id)
                .order_by(SnapshotCoverageRow.scope)
            )
        )
        return SnapshotInfo(row.id, portal, row.taken_at, coverage, row.item_count)

    def snapshot_items(self, snapshot_id: int) -> dict[str, StoredItem]:
        """The items a snapshot holds: the versions whose interval contains it.

        One statement, joined to the snapshot's row: a night saved or a prune committed
        meanwhile can neither mix into the answer nor leave it half-empty."""
        with self._session() as session:
            items = _stored_items(session.connection().execute(_held_by(snapshot_id)))
            if not items:
                self._require_complete(session, snapshot_id)
            return items

    def snapshot_with_payloads(
        self, snapshot_id: int
    ) -> tuple[dict[str, StoredItem], dict[str, dict[str, JSONValue]]]:
        """The items a snapshot holds and their canonical payloads by hash: what
        :meth:`snapshot_items` and :meth:`load_payloads` of every canonical hash give, read in
        one statement (the versions joined to their payloads' bodies, no list of hashes sent)
        and decoded in one loop."""
        with self._session() as session:
            connection = session.connection()
            bodies: dict[bytes, tuple[bytes, bytes | None]] = {}
            missing: list[str] = []

            def versions() -> Iterator[tuple[str, str, bytes, bytes]]:
                for body, base, key, kind, canonical, raw in connection.execute(
                    _held_by(snapshot_id, _BODIES.c.body, _BODIES.c.base).outerjoin(
                        _BODIES, _BODIES.c.hash == _VERSIONS.c.canonical_hash
                    )
                ):
                    if body is None:
                        missing.append(canonical.hex())
                    else:
                        bodies[bytes(canonical)] = (body, None if base is None else bytes(base))
                    yield key, kind, canonical, raw

            items = _stored_items(versions())
            if not items:
                self._require_complete(session, snapshot_id)
            if missing:
                raise DatabaseError(
                    f"{len(missing)} stored payloads are missing (first: {min(missing)})"
                )
            return items, decode_rows(connection, bodies)

    @staticmethod
    def _require_complete(session: Session, snapshot_id: int) -> None:
        if not session.scalar(
            select(SnapshotRow.id).where(
                SnapshotRow.id == snapshot_id, SnapshotRow.completed_at.is_not(None)
            )
        ):
            raise UsageError(f"there is no complete snapshot {snapshot_id}")

    def item_versions(self, portal: str, key: str) -> list[ItemVersion]:
        """Every stored version of one item, oldest first."""
        return self.versions_of(portal, [key]).get(key, [])

    def versions_of(self, portal: str, keys: Collection[str]) -> dict[str, list[ItemVersion]]:
        """Every stored version of each of ``keys`` (those that have one), oldest first, in one
        statement per thousand keys."""
        found: dict[str, list[ItemVersion]] = {}
        with self._session() as session:
            for batch in _batches(sorted(set(keys))):
                for r in session.execute(
                    select(
                        ItemVersionRow.kind,
                        ItemVersionRow.key,
                        ItemVersionRow.canonical_hash,
                        ItemVersionRow.raw_hash,
                        ItemVersionRow.valid_from,
                        ItemVersionRow.valid_until,
                        ItemVersionRow.first_seen_at,
                    )
                    .join(PortalRow, ItemVersionRow.portal_id == PortalRow.id)
                    .where(PortalRow.name == portal, ItemVersionRow.key.in_(batch))
                    .order_by(ItemVersionRow.key, ItemVersionRow.valid_from)
                ):
                    found.setdefault(r.key, []).append(
                        ItemVersion(
                            _KINDS[r.kind],
                            r.key,
                            r.canonical_hash,
                            r.raw_hash,
                            r.valid_from,
                            r.valid_until,
                            r.first_seen_at,
                        )
                    )
        return found

    # retention ------------------------------------------------------------------------------

    def prune(
        self,
        portal: str,
        choose_kept: Callable[[list[SnapshotStamp], set[int]], set[int]],
        *,
        dry_run: bool = False,
    ) -> PruneResult:
        """Delete the portal's snapshots that ``choose_kept(stamps, protected)`` does not keep,
        the versions no remaining snapshot holds and the payloads nothing points to any more.

        ``protected`` are the snapshots baselines and defects point to: never deleted, whatever
        ``choose_kept`` says. One transaction under the portal's lock; ``dry_run`` rolls it
        back, so its counts are exactly what a real run would delete."""
        try:
            with self._session() as session:
                result = self._prune(session, portal, choose_kept, dry_run)
                if dry_run:
                    raise _RollBack(result)
                return result
        except _RollBack as rolled_back:
            return rolled_back.result

    def _prune(
        self,
        session: Session,
        portal: str,
        choose_kept: Callable[[list[SnapshotStamp], set[int]], set[int]],
        dry_run: bool,
    ) -> PruneResult:
        portal_id = self._portal_id(session, portal)
        self._lock_portal(session, portal_id)
        stamps = [
            SnapshotStamp(r.id, r.taken_at)
            for r in session.execute(
                select(SnapshotRow.id, SnapshotRow.taken_at)
                .where(SnapshotRow.portal_id == portal_id, SnapshotRow.completed_at.is_not(None))
                .order_by(SnapshotRow.id)
            )
        ]
        protected = _referenced_snapshots(session, portal_id)
        kept = choose_kept(stamps, protected) | protected
        if stamps:
            kept.add(stamps[-1].id)  # the newest is what the next snapshot builds on
        doomed = [s for s in stamps if s.id not in kept]
        doomed_ids = [s.id for s in doomed]
        for batch in _batches(doomed_ids):
            session.execute(
                delete(SnapshotCoverageRow).where(SnapshotCoverageRow.snapshot_id.in_(batch))
            )
            session.execute(delete(SnapshotRow).where(SnapshotRow.id.in_(batch)))
        remaining = sorted(s.id for s in stamps if s.id in kept)
        orphans = [
            v
            for v in session.execute(
                select(
                    ItemVersionRow.id,
                    ItemVersionRow.valid_from,
                    ItemVersionRow.valid_until,
                    ItemVersionRow.canonical_hash,
                    ItemVersionRow.raw_hash,
                ).where(ItemVersionRow.portal_id == portal_id)
            )
            if not _holds_any(remaining, v.valid_from, v.valid_until)
        ]
        for batch in _batches([v.id for v in orphans]):
            session.execute(delete(ItemVersionRow).where(ItemVersionRow.id.in_(batch)))
        self._lock_payloads(session, exclusive=True)
        swept, freed = _sweep_payloads(
            session, {h for v in orphans for h in (v.canonical_hash, v.raw_hash)}
        )
        return PruneResult(
            portal=portal,
            kept=len(stamps) - len(doomed),
            deleted=tuple(doomed),
            versions_deleted=len(orphans),
            payloads_deleted=swept,
            bytes_freed=freed,
            dry_run=dry_run,
        )

    # baselines ------------------------------------------------------------------------------

    def approve_baseline(
        self, portal: str, snapshot: SnapshotInfo, approved_by: str, note: str, at: datetime
    ) -> BaselineInfo:
        """A new baseline version holding exactly the snapshot's items. Immutable from now on."""
        # The baseline governs the parts that were read; a part the portal lacks (unsupported)
        # is not governed, so it is never reported as not verified.
        scopes = tuple(
            sorted(c.scope for c in snapshot.coverage if c.status is CoverageStatus.COMPLETE)
        )
        with self._session() as session:
            portal_id = self._portal_id(session, portal)
            self._lock_portal(session, portal_id)  # a prune never removes the snapshot meanwhile
            if not session.scalar(
                select(SnapshotRow.id).where(
                    SnapshotRow.id == snapshot.id, SnapshotRow.portal_id == portal_id
                )
            ):
                raise UsageError(
                    f"snapshot {snapshot.id} of {portal!r} no longer exists (pruned from the "
                    "database meanwhile); approve a snapshot that is kept"
                )
            draft = proposed_version(session, portal_id)
            if draft is not None:
                raise ProposalPending(
                    portal,
                    draft,
                    f"baseline v{draft} of {portal!r} is proposed and awaits a decision: "
                    "approve or reject it first",
                )
            latest = session.scalar(
                select(func.max(BaselineRow.version)).where(BaselineRow.portal_id == portal_id)
            )
            version = (latest or 0) + 1
            row = BaselineRow(
                portal_id=portal_id,
                version=version,
                status=BaselineStatus.APPROVED.value,
                source="snapshot",
                proposed_by=approved_by,
                proposed_at=at,
                proposal_note=note,
                approved_by=approved_by,
                approved_at=at,
                note=note,
                source_snapshot_id=snapshot.id,
                scopes=json.dumps(scopes),
                item_count=snapshot.item_count,
            )
            session.add(row)
            try:
                session.flush()
            except IntegrityError as exc:
                raise UsageError(
                    f"baseline v{version} of {portal!r} was approved by someone else just now; "
                    "try again"
                ) from exc
            session.execute(
                insert(BaselineItemRow).from_select(
                    ["baseline_id", "key", "kind", "canonical_hash", "raw_hash"],
                    _held_by(snapshot.id, literal(row.id, Integer)),
                )
            )
            record(
                session,
                portal_id,
                at,
                approved_by,
                "baseline.approved",
                f"baseline v{version}",
                note,
                {"source": "snapshot", "snapshot": snapshot.id, "items": snapshot.item_count},
            )
            return self._baseline_info(row, portal)

    def baseline(self, portal: str, version: int) -> BaselineInfo:
        with self._session() as session:
            row = session.scalars(
                select(BaselineRow)
                .join(PortalRow)
                .where(PortalRow.name == portal, BaselineRow.version == version)
            ).first()
            if row is None:
                raise UsageError(f"portal {portal!r} has no baseline v{version}")
            return self._baseline_info(row, portal)

    def latest_baseline(self, portal: str) -> BaselineInfo | None:
        with self._session() as session:
            row = session.scalars(
                select(BaselineRow)
                .join(PortalRow)
                .where(PortalRow.name == portal, BaselineRow.status == BaselineStatus.APPROVED)
                .order_by(BaselineRow.version.desc())
                .limit(1)
            ).first()
            return None if row is None else self._baseline_info(row, portal)

    @staticmethod
    def _baseline_info(row: BaselineRow, portal: str) -> BaselineInfo:
        return baseline_info(row, portal)

    def baseline_items(self, baseline_id: int) -> dict[str, StoredItem]:
        with self._session() as session:
            return _stored_items(
                session.connection().execute(
                    select(
                        _BASELINE_ITEMS.c.key,
                        _BASELINE_ITEMS.c.kind,
                        _BASELINE_ITEMS.c.canonical_hash,
                        _BASELINE_ITEMS.c.raw_hash,
                    ).where(_BASELINE_ITEMS.c.baseline_id == baseline_id)
                )
            )

    # defects --------------------------------------------------------------------------------

    def defects(
        self,
        portal: str,
        statuses: Iterable[DefectStatus] | None = None,
        *,
        severities: Iterable[Severity] | None = None,
        kinds: Iterable[Kind] | None = None,
        since: datetime | None = None,
        ids: Iterable[int] | None = None,
        owners: Iterable[str] | None = None,
        due_before: date | None = None,
    ) -> list[Defect]:
        """The portal's defects, oldest first, filtered by any of the given criteria
        (``due_before``: due before that day and still open or acknowledged)."""
        with self._session() as session:
            query = (
                select(DefectRow, BaselineRow.version)
                .join(PortalRow, DefectRow.portal_id == PortalRow.id)
                .join(BaselineRow, DefectRow.baseline_id == BaselineRow.id)
                .where(PortalRow.name == portal)
                .order_by(DefectRow.id)
            )
            if statuses is not None:
                query = query.where(DefectRow.status.in_([s.value for s in statuses]))
            if severities is not None:
                query = query.where(DefectRow.severity.in_([s.value for s in severities]))
            if kinds is not None:
                query = query.where(DefectRow.kind.in_([k.value for k in kinds]))
            if since is not None:
                query = query.where(DefectRow.last_seen_at >= since)
            if ids is not None:
                query = query.where(DefectRow.id.in_(list(ids)))
            if owners is not None:
                query = query.where(DefectRow.owner.in_(list(owners)))
            if due_before is not None:
                query = query.where(
                    DefectRow.due < due_before,
                    DefectRow.status.in_(
                        [DefectStatus.OPEN.value, DefectStatus.ACKNOWLEDGED.value]
                    ),
                )
            return _with_decisions(
                session, [_defect(row, version, portal) for row, version in session.execute(query)]
            )

    def defect(self, portal: str, defect_id: int) -> Defect:
        found = self.defects(portal, ids=[defect_id])
        if not found:
            raise UsageError(f"portal {portal!r} has no defect {defect_id}")
        return found[0]

    def defect_events(self, defect_id: int) -> list[DefectEvent]:
        with self._session() as session:
            return [
                DefectEvent(
                    row.at, DefectEventName(row.event), json.loads(row.detail_json), row.snapshot_id
                )
                for row in session.scalars(
                    select(DefectEventRow)
                    .where(DefectEventRow.defect_id == defect_id)
                    .order_by(DefectEventRow.at, DefectEventRow.id)
                )
            ]

    def set_defect_status(
        self,
        portal: str,
        defect_ids: Sequence[int],
        status: DefectStatus,
        allowed_from: Collection[DefectStatus],
        by: str,
        note: str,
        at: datetime,
    ) -> list[Defect]:
        """Move defects to ``status`` by a person's decision, all or none, with a timeline entry."""
        with self._session() as session:
            portal_id = self._portal_id(session, portal)
            rows = locked_defects(
                session, portal, portal_id, defect_ids, allowed_from, status.value
            )
            decision = decide_status(defect_ids, status, by, note)
            for row in rows.values():
                row.status = decision.status.value
                if decision.resolution is not None:
                    row.resolution = decision.resolution
                    row.resolved_at = at
                write_event(session, row.id, None, at, decision.entry)
            write_log(session, portal_id, at, decision.log)
        return self.defects(portal, ids=defect_ids)

    def assign_defects(
        self,
        portal: str,
        defect_ids: Sequence[int],
        assignment: Assignment,
        allowed_from: Collection[DefectStatus],
        at: datetime,
    ) -> list[Defect]:
        """Set the defects' owner and due date as decided, all or none, with a timeline entry
        each and one log entry."""
        with self._session() as session:
            portal_id = self._portal_id(session, portal)
            rows = locked_defects(session, portal, portal_id, defect_ids, allowed_from, "assigned")
            for row in rows.values():
                for column, value in assignment.values.items():
                    setattr(row, column, value)
                write_event(session, row.id, None, at, assignment.entry)
            write_log(session, portal_id, at, assignment.log)
        return self.defects(portal, ids=defect_ids)

    def update_defects(
        self,
        portal: str,
        decide: Callable[[dict[str, Defect]], DefectPlan],
        snapshot: SnapshotInfo,
        baseline: BaselineInfo,
        at: datetime,
        run_id: int | None = None,
    ) -> tuple[DefectPlan, dict[str, int], DefectUpdate]:
        """Read the portal's defects, ``decide`` the plan and write it, in one transaction that
        holds the portal's row: two audits of one portal never plan from the same stale state.
        Returns the plan, each drift's defect id by key, and what changed. Given the
        ``run_id``, what changed is recorded as the run's outcome in the same transaction, with
        the unpublished outcomes of earlier runs included (:mod:`hubaudit.store.outcomes`)."""
        ids: dict[str, int] = {}
        opened: list[int] = []
        with self._session() as session:
            portal_id = self._portal_id(session, portal)
            # A write to the portal's row locks it (Postgres) or takes the write lock (SQLite).
            session.execute(
                update(PortalRow).where(PortalRow.id == portal_id).values(name=PortalRow.name)
            )
            expired = _expire_waivers(session, portal_id, snapshot.id, at)
            existing = {
                d.fingerprint: d
                for d in (
                    _defect(row, version, portal)
                    for row, version in session.execute(
                        select(DefectRow, BaselineRow.version)
                        .join(BaselineRow, DefectRow.baseline_id == BaselineRow.id)
                        .where(DefectRow.portal_id == portal_id)
                    )
                )
            }
            plan = decide(existing)
            writes = defect_writes(plan)
            # Every row in a few statements, however many defects: no statement per defect.
            events: list[dict[str, Any]] = []
            if writes.opened:
                session.execute(  # Core: one executemany (the ORM splits rows by their Nones)
                    insert(cast(Table, DefectRow.__table__)),
                    [
                        _new_defect_values(portal_id, drift, baseline, snapshot, at)
                        for drift, _entry in writes.opened
                    ],
                )
                # their ids by fingerprint, unique in the portal (RETURNING in order would cost
                # SQLite a statement a row)
                new_ids: dict[str, int] = {}
                for batch in _batches([drift.fingerprint for drift, _entry in writes.opened]):
                    new_ids.update(
                        (fingerprint, defect_id)
                        for fingerprint, defect_id in session.execute(
                            select(DefectRow.fingerprint, DefectRow.id).where(
                                DefectRow.portal_id == portal_id, DefectRow.fingerprint.in_(batch)
                            )
                        )
                    )
                for drift, entry in writes.opened:
                    defect_id = new_ids[drift.fingerprint]
                    ids[drift.key] = defect_id
                    opened.append(defect_id)
                    events.append(_event_values(defect_id, snapshot.id, at, entry))
            seen: dict[bool, list[dict[str, Any]]] = {False: [], True: []}
            for sighting in writes.sightings:
                drift = sighting.drift
                ids[drift.key] = sighting.defect.id
                values: dict[str, Any] = {
                    "id": sighting.defect.id,
                    "last_seen_at": at,
                    "last_snapshot_id": snapshot.id,
                    # the row is the one read above, under the portal's lock
                    "occurrences": sighting.defect.occurrences + 1,
                    "baseline_id": baseline.id,
                    **_drift_values(drift),
                }
                if sighting.reopen:
                    values.update(
                        status=DefectStatus.OPEN.value,
                        resolution=None,
                        resolved_at=None,
                        accepted_baseline_id=None,
                    )
                seen[sighting.reopen].append(values)
                events += [
                    _event_values(sighting.defect.id, snapshot.id, at, entry)
                    for entry in sighting.timeline
                ]
            for rows in seen.values():  # one key set each: an executemany apiece
                if rows:
                    session.execute(update(DefectRow), rows)
            for why in dict.fromkeys(why for _id, why in writes.waivers_ended):
                _end_waivers(session, [i for i, w in writes.waivers_ended if w == why], at, why)
            if writes.closings:
                session.execute(
                    update(DefectRow),
                    [
                        {
                            "id": closing.resolution.defect.id,
                            "status": closing.resolution.status.value,
                            "resolution": closing.resolution.reason,
                            "resolved_at": at,
                            "last_snapshot_id": snapshot.id,
                        }
                        for closing in writes.closings
                    ],
                )
                events += [
                    _event_values(closing.resolution.defect.id, snapshot.id, at, closing.entry)
                    for closing in writes.closings
                ]
            if events:
                session.execute(insert(cast(Table, DefectEventRow.__table__)), events)
            changed = DefectUpdate(
                opened=tuple(opened),
                seen_again=tuple(d.id for d, _ in plan.seen_again),
                reopened=tuple(d.id for d, _ in plan.reopened),
                resolved=tuple(r.defect.id for r in plan.resolved),
                expired_waivers=tuple(expired),
            )
            if run_id is not None:
                outcome = record_outcome(session, portal_id, run_id, "defects", asdict(changed), at)
                changed = DefectUpdate(**outcome)
        return plan, ids, changed


def _new_defect_values(
    portal_id: int, drift: Drift, baseline: BaselineInfo, snapshot: SnapshotInfo, at: datetime
) -> dict[str, Any]:
    return {
        "portal_id": portal_id,
        "kind": drift.kind.value,
        "key": drift.key,
        "op": drift.op.value,
        "status": DefectStatus.OPEN.value,
        "first_seen_at": at,
        "last_seen_at": at,
        "occurrences": 1,
        "baseline_id": baseline.id,
        "first_snapshot_id": snapshot.id,
        "last_snapshot_id": snapshot.id,
        **_drift_values(drift),
    }


def _drift_values(drift: Drift) -> dict[str, Any]:
    """The columns a drift sets on its defect's row, new or seen again."""
    field_, path, before, after = drift.summary
    return {
        "fingerprint": drift.fingerprint,
        "field": field_,
        "path_json": json.dumps(list(path)),
        "severity": drift.severity.value,
        "label": storable(drift.label),
        "name": storable(drift.name),
        "before_json": canonical_json(before),
        "after_json": canonical_json(after),
        "changes_json": canonical_json([field_change_document(c) for c in drift.changes]),
        "note": storable(drift.note),
    }


def write_event(
    session: Session,
    defect_id: int,
    snapshot_id: int | None,
    at: datetime,
    entry: TimelineEntry,
) -> None:
    """Append what the rules decided to a defect's timeline."""
    _event(session, defect_id, snapshot_id, at, entry.name, entry.detail)


def write_log(session: Session, portal_id: int, at: datetime, entry: LogRecord) -> None:
    """Append a log entry the rules decided."""
    record(
        session, portal_id, at, entry.actor, entry.action, entry.subject, entry.note, entry.detail
    )


def _event(
    session: Session,
    defect_id: int,
    snapshot_id: int | None,
    at: datetime,
    event: str,
    detail: Any,
) -> None:
    session.add(DefectEventRow(**_event_row(defect_id, snapshot_id, at, event, detail)))


def _event_values(
    defect_id: int, snapshot_id: int | None, at: datetime, entry: TimelineEntry
) -> dict[str, Any]:
    return _event_row(defect_id, snapshot_id, at, entry.name, entry.detail)


def _event_row(
    defect_id: int, snapshot_id: int | None, at: datetime, event: str, detail: Any
) -> dict[str, Any]:
    return {
        "defect_id": defect_id,
        "snapshot_id": snapshot_id,
        "at": at,
        "event": event,
        "detail_json": canonical_json(detail),
    }


def record(
    session: Session,
    portal_id: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    note: str,
    detail: Mapping[str, JSONValue],
) -> None:
    """Append one entry to the governance log (the table refuses updates and deletes)."""
    session.add(
        GovernanceLogRow(
            portal_id=portal_id,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            note=note,
            detail_json=canonical_json(detail),
        )
    )


def locked_defects(
    session: Session,
    portal: str,
    portal_id: int,
    defect_ids: Collection[int],
    allowed_from: Collection[DefectStatus],
    becoming: str,
) -> dict[int, DefectRow]:
    """The defects' rows, locked until the transaction ends; every one must exist and be in one
    of the statuses ``allowed_from``, or nothing is decided."""
    rows = {
        row.id: row
        for row in session.scalars(
            select(DefectRow)
            .where(DefectRow.portal_id == portal_id, DefectRow.id.in_(list(defect_ids)))
            .with_for_update()
        )
    }
    statuses = {defect_id: DefectStatus(row.status) for defect_id, row in rows.items()}
    require_statuses(statuses, portal, defect_ids, allowed_from, becoming)
    return rows


def proposed_version(session: Session, portal_id: int) -> int | None:
    """The version of the portal's proposed baseline, if one awaits a decision."""
    return session.scalar(
        select(BaselineRow.version).where(
            BaselineRow.portal_id == portal_id,
            BaselineRow.status == BaselineStatus.PROPOSED.value,
        )
    )


def baseline_info(row: BaselineRow, portal: str) -> BaselineInfo:
    return BaselineInfo(
        id=row.id,
        portal=portal,
        version=row.version,
        approved_by=row.approved_by,
        approved_at=row.approved_at,
        note=row.note,
        source_snapshot_id=row.source_snapshot_id,
        item_count=row.item_count,
        scopes=tuple(json.loads(row.scopes)),
        status=BaselineStatus(row.status),
        source=row.source,
        proposed_by=row.proposed_by,
        proposed_at=row.proposed_at,
        proposal_note=row.proposal_note,
        rejected_by=row.rejected_by,
        rejected_at=row.rejected_at,
        rejection_note=row.rejection_note,
    )


def _expire_waivers(session: Session, portal_id: int, snapshot_id: int, at: datetime) -> list[int]:
    """Reopen the portal's waived defects whose waiver ran out by ``at``; their ids."""
    in_force = [
        waiver_of(row)
        for row in session.scalars(
            select(WaiverRow)
            .join(DefectRow, WaiverRow.defect_id == DefectRow.id)
            .where(
                DefectRow.portal_id == portal_id,
                DefectRow.status == DefectStatus.WAIVED.value,
                WaiverRow.ended_at.is_(None),
                WaiverRow.until <= at,  # the rule decides; this only reads less
            )
        )
    ]
    expired = expired_waivers(in_force, at)
    for expiry in expired:
        session.execute(
            update(WaiverRow)
            .where(WaiverRow.id == expiry.waiver.id)
            .values(ended_at=at, end_reason="expired")
        )
        session.execute(
            update(DefectRow)
            .where(DefectRow.id == expiry.waiver.defect_id)
            .values(status=DefectStatus.OPEN.value)
        )
        write_event(session, expiry.waiver.defect_id, snapshot_id, at, expiry.entry)
        write_log(session, portal_id, at, expiry.log)
    return [expiry.waiver.defect_id for expiry in expired]


def _end_waivers(session: Session, defect_ids: Sequence[int], at: datetime, why: str) -> None:
    """End the waivers in force of these defects (their drift went away, or was accepted)."""
    if defect_ids:
        session.execute(
            update(WaiverRow)
            .where(WaiverRow.defect_id.in_(list(defect_ids)), WaiverRow.ended_at.is_(None))
            .values(ended_at=at, end_reason=why)
        )


def _with_decisions(session: Session, defects: list[Defect]) -> list[Defect]:
    """The defects with their latest waiver and the baseline version that takes them in."""
    ids = [d.id for d in defects]
    waivers: dict[int, Waiver] = {}
    accepted: dict[int, int] = {}
    for batch in _batches(ids):
        for row in session.scalars(
            select(WaiverRow).where(WaiverRow.defect_id.in_(batch)).order_by(WaiverRow.id)
        ):
            waivers[row.defect_id] = waiver_of(row)  # the latest one wins
        for defect_id, version in session.execute(
            select(DefectRow.id, BaselineRow.version)
            .join(BaselineRow, DefectRow.accepted_baseline_id == BaselineRow.id)
            .where(DefectRow.id.in_(batch))
        ):
            accepted[defect_id] = version
    return [
        replace(d, waiver=waivers.get(d.id), accepted_version=accepted.get(d.id))
        if d.id in waivers or d.id in accepted
        else d
        for d in defects
    ]


def waiver_of(row: WaiverRow) -> Waiver:
    return Waiver(
        id=row.id,
        defect_id=row.defect_id,
        waived_by=row.waived_by,
        waived_at=row.waived_at,
        reason=row.reason,
        until=row.until,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
    )


class _RollBack(Exception):
    """Leaves a dry run's transaction by rolling it back, carrying what it would have done."""

    def __init__(self, result: PruneResult) -> None:
        super().__init__("dry run")
        self.result = result


def _referenced_snapshots(session: Session, portal_id: int) -> set[int]:
    """Snapshots that baselines and defects (open or closed, and their timelines) point to."""
    found: set[int] = set()
    for query in (
        select(BaselineRow.source_snapshot_id).where(BaselineRow.portal_id == portal_id),
        select(DefectRow.first_snapshot_id).where(DefectRow.portal_id == portal_id),
        select(DefectRow.last_snapshot_id).where(DefectRow.portal_id == portal_id),
        select(DefectEventRow.snapshot_id)
        .join(DefectRow, DefectEventRow.defect_id == DefectRow.id)
        .where(DefectRow.portal_id == portal_id),
    ):
        found |= {i for i in session.scalars(query) if i is not None}
    return found


def _holds_any(snapshot_ids: Sequence[int], valid_from: int, valid_until: int | None) -> bool:
    """Does the interval [valid_from, valid_until) hold one of the sorted ``snapshot_ids``?"""
    index = bisect.bisect_left(snapshot_ids, valid_from)
    return index < len(snapshot_ids) and (valid_until is None or snapshot_ids[index] < valid_until)


def _sweep_payloads(session: Session, candidates: set[str]) -> tuple[int, int]:
    """Delete the candidate payloads that no version, no baseline and no other payload (as
    its base) points to any more; then, in turn, the bases of those deleted that nothing needs
    now. Returns how many were deleted and their size in bytes."""
    deleted = freed = 0
    while candidates:
        freed_bases: set[str] = set()
        for batch in _batches(sorted(candidates)):
            used: set[str] = set()
            for column in (
                ItemVersionRow.canonical_hash,
                ItemVersionRow.raw_hash,
                BaselineItemRow.canonical_hash,
                BaselineItemRow.raw_hash,
                PayloadRow.base,
            ):
                used |= set(session.scalars(select(column).where(column.in_(batch)).distinct()))
            unused = [h for h in batch if h not in used]
            if not unused:
                continue
            size, *_ = session.execute(
                select(func.coalesce(func.sum(func.length(PayloadRow.body)), 0)).where(
                    PayloadRow.hash.in_(unused)
                )
            ).one()
            freed += size or 0
            freed_bases |= set(
                session.scalars(
                    select(PayloadRow.base).where(
                        PayloadRow.hash.in_(unused), PayloadRow.base.is_not(None)
                    )
                )
            )
            session.execute(delete(PayloadRow).where(PayloadRow.hash.in_(unused)))
            deleted += len(unused)
        candidates = freed_bases
    return deleted, freed


def _require_stored(session: Session, raw_hashes: set[str]) -> None:
    """Raw JSON a read let go because it was stored must still be stored when it is written
    (a prune in between could have swept it): else the snapshot is refused, not left broken."""
    if not raw_hashes:
        return
    stored = stored_digests(session.connection(), [digest_bytes(h) for h in raw_hashes])
    missing = raw_hashes - {d.hex() for d in stored}
    if missing:
        raise DatabaseError(
            f"{len(missing)} raw payloads the read found stored are gone from the database "
            f"(first: {min(missing)}): a prune ran meanwhile; run the snapshot again"
        )


def _held_by(snapshot_id: int, *first: ColumnElement[Any], typed: bool = False) -> Select[Any]:
    """(``first``…, key, kind, canonical hash, raw hash) of every version one complete
    snapshot holds, in one statement joined to the snapshot's row; plain columns, as
    :func:`_stored_items` reads them (and as ``INSERT … SELECT`` copies them), or ``typed``:
    the schema's columns, whose types give keys and hex digests back (for a few rows)."""
    versions, snapshots = (
        (cast(Table, ItemVersionRow.__table__), cast(Table, SnapshotRow.__table__))
        if typed
        else (_VERSIONS, _SNAPSHOTS)
    )
    return (
        select(
            *first,
            versions.c.key,
            versions.c.kind,
            versions.c.canonical_hash,
            versions.c.raw_hash,
        )
        .join(
            snapshots,
            and_(
                snapshots.c.id == snapshot_id,
                snapshots.c.completed_at.is_not(None),
                snapshots.c.portal_id == versions.c.portal_id,
            ),
        )
        .where(
            versions.c.valid_from <= snapshot_id,
            or_(versions.c.valid_until.is_(None), versions.c.valid_until > snapshot_id),
        )
    )


def _stored_items(rows: Iterable[Any]) -> dict[str, StoredItem]:
    """Plain (key, kind, canonical digest, raw digest) rows as the model's items: each digest's
    32 bytes to hex, and a key read back from its escaped form only where it is one (a key
    with a NUL in it; see :func:`hubaudit.store.tables.stored_text`)."""
    items: dict[str, StoredItem] = {}
    for key, kind, canonical, raw in rows:
        if key.startswith(ESCAPED_TEXT_MARK):
            key = read_stored_text(key)
        items[key] = StoredItem(_KINDS.get(kind) or Kind(kind), key, canonical.hex(), raw.hex())
    return items


def held_by(snapshot_id: int) -> Select[Any]:
    """:func:`_held_by` in the schema's typed columns, for the partial reads of
    :mod:`hubaudit.store.items`."""
    return _held_by(snapshot_id, typed=True)


def _coverage(row: SnapshotCoverageRow) -> KindCoverage:
    return KindCoverage(
        Kind(row.kind),
        row.scope,
        CoverageStatus(row.status),
        row.items,
        row.reason,
        tuple(json.loads(row.unverified)) if row.unverified else (),
    )


def _defect(row: DefectRow, baseline_version: int, portal: str) -> Defect:
    return Defect(
        id=row.id,
        portal=portal,
        fingerprint=row.fingerprint,
        kind=Kind(row.kind),
        key=row.key,
        field=row.field,
        status=DefectStatus(row.status),
        severity=Severity(row.severity),
        before=json.loads(row.before_json),
        after=json.loads(row.after_json),
        first_seen_at=row.first_seen_at,
        last_seen_at=row.last_seen_at,
        occurrences=row.occurrences,
        baseline_version=baseline_version,
        op=ChangeOp(row.op),
        path=tuple(json.loads(row.path_json)),
        resolution=row.resolution,
        resolved_at=row.resolved_at,
        label=row.label,
        note=row.note,
        changes=tuple(field_change_from(c) for c in json.loads(row.changes_json)),
        name=row.name,
        owner=row.owner,
        due=row.due,
    )


def _now() -> datetime:
    return datetime.now(UTC)
