"""The repository: model values in, model values out. No HubSpot, no rendering here."""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Integer,
    LargeBinary,
    delete,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
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
    require_statuses,
)
from hubaudit.governance.defects import defects_subject as defects_subject  # kept for callers
from hubaudit.model.baselines import BaselineInfo, BaselineStatus
from hubaudit.model.defects import (
    Defect,
    DefectStatus,
    DefectUpdate,
)
from hubaudit.model.governance_log import LogRecord
from hubaudit.model.items import (
    ConfigItem,
    CoverageStatus,
    JSONValue,
    KindCoverage,
    PruneResult,
    SnapshotInfo,
    SnapshotStamp,
)
from hubaudit.store import schema
from hubaudit.store.outcomes import record_outcome
from hubaudit.store.payloads import insert_ignoring_conflicts as insert_ignoring_conflicts
from hubaudit.store.payloads import stored_digests, write_payloads
from hubaudit.store.reads import (
    StoreReader,
    baseline_info,
    defect_of,
    held_by,
    in_batches,
    waiver_of,
)
from hubaudit.store.schema import digest_bytes
from hubaudit.store.tables import (
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
)

_BATCH = 1000
# the Postgres advisory lock key between snapshot writers and the payload sweep ("hubaudit")
_PAYLOAD_LOCK = 0x6875626175646974


class Store(StoreReader):
    """Snapshots, baselines and defects of every portal, in one SQL database: the reads of
    :class:`StoreReader` (on Core), and the writes (on the ORM)."""

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

    # payloads -------------------------------------------------------------------------------

    def _put_payloads(self, session: Session, values: Mapping[str, JSONValue]) -> None:
        write_payloads(session, values)

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
            for batch in in_batches(ended):
                session.execute(
                    update(ItemVersionRow)
                    .where(ItemVersionRow.id.in_(batch))
                    .values(valid_until=row.id)
                )
            for batch in in_batches(fresh):
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
        for batch in in_batches(doomed_ids):
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
        for batch in in_batches([v.id for v in orphans]):
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
                    held_by(snapshot.id, literal(row.id, Integer)),
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
            return baseline_info(row, portal)

    # defects --------------------------------------------------------------------------------

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
                    defect_of(row, version, portal)
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
                    insert(schema.defects),
                    [
                        _new_defect_values(portal_id, drift, baseline, snapshot, at)
                        for drift, _entry in writes.opened
                    ],
                )
                # their ids by fingerprint, unique in the portal (RETURNING in order would cost
                # SQLite a statement a row)
                new_ids: dict[str, int] = {}
                for batch in in_batches([drift.fingerprint for drift, _entry in writes.opened]):
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
                session.execute(insert(schema.defect_events), events)
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
        for batch in in_batches(sorted(candidates)):
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


def _now() -> datetime:
    return datetime.now(UTC)
