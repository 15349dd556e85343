"""The store's read side: snapshots, item versions, payloads, baselines and defects, read on
SQLAlchemy Core through one connection per call. No ORM here: a command that only reads
(``history``, ``show``, ``diff``, ``impact``, ``defects list``, ``report``) never imports
``sqlalchemy.orm`` nor pays for mapping the tables. :class:`hubaudit.store.repository.Store`
adds the writes."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import date, datetime
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, Connection, Engine, Select, and_, or_, select
from sqlalchemy import column as plain_column
from sqlalchemy import table as plain_table
from sqlalchemy.exc import DataError, IntegrityError, OperationalError

from hubaudit.errors import DatabaseError, NoAuditReport, NoSuchRun, UsageError
from hubaudit.model.baselines import BaselineInfo, BaselineStatus
from hubaudit.model.changes import ChangeOp, Severity
from hubaudit.model.defects import (
    Defect,
    DefectEvent,
    DefectEventName,
    DefectStatus,
    Waiver,
    field_change_from,
)
from hubaudit.model.items import (
    CoverageStatus,
    ItemVersion,
    JSONValue,
    Kind,
    KindCoverage,
    SnapshotInfo,
    SnapshotStamp,
    StoredItem,
)
from hubaudit.model.runs import RunStatus
from hubaudit.store.payloads import decode_rows, read_payloads
from hubaudit.store.schema import (
    ESCAPED_TEXT_MARK,
    baselines,
    defect_events,
    defects,
    item_versions,
    portals,
    read_stored_text,
    run_reports,
    runs,
    snapshot_coverage,
    snapshots,
    waivers,
)

_BATCH = 1000
_KINDS = {kind.value: kind for kind in Kind}  # a lookup, not an Enum call, per row read
# item_versions, baseline_items and snapshots with plain columns, for reading a whole snapshot
# or baseline: 100,000 rows of them, where the column types' conversions of every value (each
# digest to hex, each key and kind checked for the escaped form) took half the time of an audit's
# comparison. The rows are converted by :func:`stored_items`, which knows what needs it.
_ITEM_COLUMNS = ("key", "kind", "canonical_hash", "raw_hash")
PLAIN_VERSIONS = plain_table(
    "item_versions",
    *map(plain_column, ("portal_id", *_ITEM_COLUMNS, "valid_from", "valid_until")),
)
_BASELINE_ITEMS = plain_table("baseline_items", *map(plain_column, ("baseline_id", *_ITEM_COLUMNS)))
_SNAPSHOTS = plain_table("snapshots", *map(plain_column, ("id", "portal_id", "completed_at")))
_BODIES = plain_table("payloads", *map(plain_column, ("hash", "body", "base")))

TableRow = Any
"""A row of one table, read by column name: a Core ``Row`` or the writers' ORM object."""


def in_batches(rows: Iterable[Any], size: int = _BATCH) -> Iterator[list[Any]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


class StoreReader:
    """What the store holds, read without the ORM (the writers' :class:`Store` is one too)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        """A connection in one transaction, rolled back at the end: every statement of one
        read sees the same database. Database failures become :class:`DatabaseError`."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except (OperationalError, IntegrityError, DataError) as exc:
            raise DatabaseError(f"database error: {exc.orig}") from exc

    def portal_names(self) -> list[str]:
        with self.connection() as connection:
            return list(connection.scalars(select(portals.c.name).order_by(portals.c.name)))

    def report_document(self, portal: str, run_id: int | None = None) -> dict[str, Any]:
        """The stored report of a run of the portal (default: its latest one with a report)."""
        query = (
            select(run_reports.c.document, run_reports.c.run_id)
            .join(portals, run_reports.c.portal_id == portals.c.id)
            .where(portals.c.name == portal)
            .order_by(run_reports.c.run_id.desc())
            .limit(1)
        )
        if run_id is not None:
            query = query.where(run_reports.c.run_id == run_id)
        with self.connection() as connection:
            found = connection.execute(query).first()
            if found is not None:
                document: dict[str, Any] = json.loads(found.document)
                return document
            if run_id is None:
                raise NoAuditReport(portal)
            status = connection.scalar(
                select(runs.c.status)
                .join(portals, runs.c.portal_id == portals.c.id)
                .where(portals.c.name == portal, runs.c.id == run_id)
            )
        if status is None:
            raise NoSuchRun(portal, run_id)
        why = "it did not succeed" if status != RunStatus.SUCCEEDED.value else "none was stored"
        raise UsageError(f"run {run_id} has no report: {why} (status {status})")

    # payloads -------------------------------------------------------------------------------

    def load_payloads(self, hashes: Iterable[str]) -> dict[str, dict[str, JSONValue]]:
        with self.connection() as connection:
            return read_payloads(connection, hashes)

    # snapshots ------------------------------------------------------------------------------

    def latest_snapshot(self, portal: str) -> SnapshotInfo | None:
        return self._find_snapshot(portal)

    def snapshot(self, portal: str, snapshot_id: int) -> SnapshotInfo:
        found = self._find_snapshot(portal, snapshots.c.id == snapshot_id)
        if found is None:
            raise UsageError(f"portal {portal!r} has no complete snapshot {snapshot_id}")
        return found

    def snapshot_at(self, portal: str, moment: datetime) -> SnapshotInfo | None:
        """The portal's last snapshot taken at or before ``moment``."""
        return self._find_snapshot(portal, snapshots.c.taken_at <= moment, by_time=True)

    def _find_snapshot(
        self, portal: str, *conditions: ColumnElement[bool], by_time: bool = False
    ) -> SnapshotInfo | None:
        """The portal's newest complete snapshot that meets ``conditions``, with its coverage
        (one statement: the snapshot's row joined to its parts)."""
        order = (snapshots.c.taken_at.desc(), snapshots.c.id.desc()) if by_time else ()
        newest = (
            select(snapshots.c.id)
            .join(portals, snapshots.c.portal_id == portals.c.id)
            .where(portals.c.name == portal, snapshots.c.completed_at.is_not(None), *conditions)
            .order_by(*order, snapshots.c.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        with self.connection() as connection:
            rows = connection.execute(
                select(
                    snapshots.c.id,
                    snapshots.c.taken_at,
                    snapshots.c.item_count,
                    snapshot_coverage,
                )
                .outerjoin(snapshot_coverage, snapshot_coverage.c.snapshot_id == snapshots.c.id)
                .where(snapshots.c.id == newest)
                .order_by(snapshot_coverage.c.scope)
            ).all()
        if not rows:
            return None
        first = rows[0]
        coverage = tuple(_coverage(r) for r in rows if r.scope is not None)
        return SnapshotInfo(first.id, portal, first.taken_at, coverage, first.item_count)

    def snapshot_stamps(self, portal: str) -> list[SnapshotStamp]:
        """Every complete snapshot of the portal, oldest first."""
        with self.connection() as connection:
            return [
                SnapshotStamp(r.id, r.taken_at)
                for r in connection.execute(
                    select(snapshots.c.id, snapshots.c.taken_at)
                    .join(portals, snapshots.c.portal_id == portals.c.id)
                    .where(portals.c.name == portal, snapshots.c.completed_at.is_not(None))
                    .order_by(snapshots.c.id)
                )
            ]

    def scope_coverage(self, portal: str, scope: str) -> dict[int, KindCoverage]:
        """How each snapshot of the portal read one part, by snapshot id."""
        with self.connection() as connection:
            return {
                c.snapshot_id: _coverage(c)
                for c in connection.execute(
                    select(snapshot_coverage)
                    .join(snapshots, snapshot_coverage.c.snapshot_id == snapshots.c.id)
                    .join(portals, snapshots.c.portal_id == portals.c.id)
                    .where(portals.c.name == portal, snapshot_coverage.c.scope == scope)
                )
            }

    def snapshot_items(self, snapshot_id: int) -> dict[str, StoredItem]:
        """The items a snapshot holds: the versions whose interval contains it.

        One statement, joined to the snapshot's row: a night saved or a prune committed
        meanwhile can neither mix into the answer nor leave it half-empty."""
        with self.connection() as connection:
            items = stored_items(connection.execute(held_by(snapshot_id)))
            if not items:
                _require_complete(connection, snapshot_id)
            return items

    def snapshot_with_payloads(
        self, snapshot_id: int
    ) -> tuple[dict[str, StoredItem], dict[str, dict[str, JSONValue]]]:
        """The items a snapshot holds and their canonical payloads by hash: what
        :meth:`snapshot_items` and :meth:`load_payloads` of every canonical hash give, read in
        one statement (the versions joined to their payloads' bodies, no list of hashes sent)
        and decoded in one loop."""
        with self.connection() as connection:
            bodies: dict[bytes, tuple[bytes, bytes | None]] = {}
            missing: list[str] = []

            def versions() -> Iterator[tuple[str, str, bytes, bytes]]:
                for body, base, key, kind, canonical, raw in connection.execute(
                    held_by(snapshot_id, _BODIES.c.body, _BODIES.c.base).outerjoin(
                        _BODIES, _BODIES.c.hash == PLAIN_VERSIONS.c.canonical_hash
                    )
                ):
                    if body is None:
                        missing.append(canonical.hex())
                    else:
                        bodies[bytes(canonical)] = (body, None if base is None else bytes(base))
                    yield key, kind, canonical, raw

            items = stored_items(versions())
            if not items:
                _require_complete(connection, snapshot_id)
            if missing:
                raise DatabaseError(
                    f"{len(missing)} stored payloads are missing (first: {min(missing)})"
                )
            return items, decode_rows(connection, bodies)

    def item_versions(self, portal: str, key: str) -> list[ItemVersion]:
        """Every stored version of one item, oldest first."""
        return self.versions_of(portal, [key]).get(key, [])

    def versions_of(self, portal: str, keys: Collection[str]) -> dict[str, list[ItemVersion]]:
        """Every stored version of each of ``keys`` (those that have one), oldest first, in one
        statement per thousand keys."""
        found: dict[str, list[ItemVersion]] = {}
        v = item_versions.c
        with self.connection() as connection:
            for batch in in_batches(sorted(set(keys))):
                for r in connection.execute(
                    select(
                        v.kind,
                        v.key,
                        v.canonical_hash,
                        v.raw_hash,
                        v.valid_from,
                        v.valid_until,
                        v.first_seen_at,
                    )
                    .join(portals, v.portal_id == portals.c.id)
                    .where(portals.c.name == portal, v.key.in_(batch))
                    .order_by(v.key, v.valid_from)
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

    # baselines ------------------------------------------------------------------------------

    def baseline(self, portal: str, version: int) -> BaselineInfo:
        with self.connection() as connection:
            row = connection.execute(
                select(baselines)
                .join(portals, baselines.c.portal_id == portals.c.id)
                .where(portals.c.name == portal, baselines.c.version == version)
            ).first()
        if row is None:
            raise UsageError(f"portal {portal!r} has no baseline v{version}")
        return baseline_info(row, portal)

    def latest_baseline(self, portal: str) -> BaselineInfo | None:
        with self.connection() as connection:
            row = connection.execute(
                select(baselines)
                .join(portals, baselines.c.portal_id == portals.c.id)
                .where(
                    portals.c.name == portal, baselines.c.status == BaselineStatus.APPROVED.value
                )
                .order_by(baselines.c.version.desc())
                .limit(1)
            ).first()
        return None if row is None else baseline_info(row, portal)

    def baseline_items(self, baseline_id: int) -> dict[str, StoredItem]:
        b = _BASELINE_ITEMS.c
        with self.connection() as connection:
            return stored_items(
                connection.execute(
                    select(b.key, b.kind, b.canonical_hash, b.raw_hash).where(
                        b.baseline_id == baseline_id
                    )
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
        d = defects.c
        query = (
            select(defects, baselines.c.version.label("baseline_version"))
            .join(portals, d.portal_id == portals.c.id)
            .join(baselines, d.baseline_id == baselines.c.id)
            .where(portals.c.name == portal)
            .order_by(d.id)
        )
        if statuses is not None:
            query = query.where(d.status.in_([s.value for s in statuses]))
        if severities is not None:
            query = query.where(d.severity.in_([s.value for s in severities]))
        if kinds is not None:
            query = query.where(d.kind.in_([k.value for k in kinds]))
        if since is not None:
            query = query.where(d.last_seen_at >= since)
        if ids is not None:
            query = query.where(d.id.in_(list(ids)))
        if owners is not None:
            query = query.where(d.owner.in_(list(owners)))
        if due_before is not None:
            query = query.where(
                d.due < due_before,
                d.status.in_([DefectStatus.OPEN.value, DefectStatus.ACKNOWLEDGED.value]),
            )
        with self.connection() as connection:
            found = [
                defect_of(row, row.baseline_version, portal) for row in connection.execute(query)
            ]
            return _with_decisions(connection, found)

    def defect(self, portal: str, defect_id: int) -> Defect:
        found = self.defects(portal, ids=[defect_id])
        if not found:
            raise UsageError(f"portal {portal!r} has no defect {defect_id}")
        return found[0]

    def defect_events(self, defect_id: int) -> list[DefectEvent]:
        e = defect_events.c
        with self.connection() as connection:
            return [
                DefectEvent(
                    row.at, DefectEventName(row.event), json.loads(row.detail_json), row.snapshot_id
                )
                for row in connection.execute(
                    select(e.at, e.event, e.detail_json, e.snapshot_id)
                    .where(e.defect_id == defect_id)
                    .order_by(e.at, e.id)
                )
            ]


def held_by(snapshot_id: int, *first: ColumnElement[Any]) -> Select[Any]:
    """(``first``…, key, kind, canonical hash, raw hash) of every version one complete
    snapshot holds, in one statement joined to the snapshot's row; plain columns, as
    :func:`stored_items` reads them (and as ``INSERT … SELECT`` copies them)."""
    v = PLAIN_VERSIONS.c
    return (
        select(*first, v.key, v.kind, v.canonical_hash, v.raw_hash)
        .join(
            _SNAPSHOTS,
            and_(
                _SNAPSHOTS.c.id == snapshot_id,
                _SNAPSHOTS.c.completed_at.is_not(None),
                _SNAPSHOTS.c.portal_id == v.portal_id,
            ),
        )
        .where(
            v.valid_from <= snapshot_id,
            or_(v.valid_until.is_(None), v.valid_until > snapshot_id),
        )
    )


def stored_items(rows: Iterable[Any]) -> dict[str, StoredItem]:
    """Plain (key, kind, canonical digest, raw digest) rows as the model's items: each digest's
    32 bytes to hex, and a key read back from its escaped form only where it is one (a key
    with a NUL in it; see :func:`hubaudit.store.schema.stored_text`)."""
    items: dict[str, StoredItem] = {}
    for key, kind, canonical, raw in rows:
        if key.startswith(ESCAPED_TEXT_MARK):
            key = read_stored_text(key)
        items[key] = StoredItem(_KINDS.get(kind) or Kind(kind), key, canonical.hex(), raw.hex())
    return items


def _require_complete(connection: Connection, snapshot_id: int) -> None:
    if not connection.scalar(
        select(snapshots.c.id).where(
            snapshots.c.id == snapshot_id, snapshots.c.completed_at.is_not(None)
        )
    ):
        raise UsageError(f"there is no complete snapshot {snapshot_id}")


def _with_decisions(connection: Connection, found: list[Defect]) -> list[Defect]:
    """The defects with their latest waiver and the baseline version that takes them in."""
    waived: dict[int, Waiver] = {}
    accepted: dict[int, int] = {}
    for batch in in_batches([d.id for d in found]):
        for row in connection.execute(
            select(waivers).where(waivers.c.defect_id.in_(batch)).order_by(waivers.c.id)
        ):
            waived[row.defect_id] = waiver_of(row)  # the latest one wins
        for defect_id, version in connection.execute(
            select(defects.c.id, baselines.c.version)
            .join(baselines, defects.c.accepted_baseline_id == baselines.c.id)
            .where(defects.c.id.in_(batch))
        ):
            accepted[defect_id] = version
    return [
        replace(d, waiver=waived.get(d.id), accepted_version=accepted.get(d.id))
        if d.id in waived or d.id in accepted
        else d
        for d in found
    ]


def baseline_info(row: TableRow, portal: str) -> BaselineInfo:
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


def waiver_of(row: TableRow) -> Waiver:
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


def _coverage(row: TableRow) -> KindCoverage:
    return KindCoverage(
        Kind(row.kind),
        row.scope,
        CoverageStatus(row.status),
        row.items,
        row.reason,
        tuple(json.loads(row.unverified)) if row.unverified else (),
    )


def defect_of(row: TableRow, baseline_version: int, portal: str) -> Defect:
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
