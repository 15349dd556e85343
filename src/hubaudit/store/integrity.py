"""``db check``: is every stored snapshot and baseline whole, and is every payload what its hash
says? Read-only; it reports problems and changes nothing."""

from __future__ import annotations

import bisect
import hashlib
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, aliased

from hubaudit.errors import DatabaseError
from hubaudit.store.payloads import stored_texts
from hubaudit.store.tables import (
    BaselineItemRow,
    BaselineRow,
    ItemVersionRow,
    PayloadRow,
    SnapshotRow,
)

_SHOWN = 20  # problems listed by name; the rest are counted
_PAGE = 1000


@dataclass(frozen=True)
class IntegrityReport:
    payloads: int
    versions: int
    snapshots: int
    baselines: int
    problems: tuple[str, ...]
    more_problems: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check_integrity(engine: Engine) -> IntegrityReport:
    problems: list[str] = []
    try:
        with Session(engine) as session, session.begin():
            payloads = _check_payload_hashes(session, problems)
            _check_references(session, problems)
            versions = _check_intervals(session, problems)
            snapshots = _check_snapshot_counts(session, problems)
            baselines = _check_baseline_counts(session, problems)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot check the database: {exc}") from exc
    return IntegrityReport(
        payloads,
        versions,
        snapshots,
        baselines,
        tuple(problems[:_SHOWN]),
        max(0, len(problems) - _SHOWN),
    )


def _check_payload_hashes(session: Session, problems: list[str]) -> int:
    """Every payload's text hashes to its key (read page by page, bases as needed)."""
    count = 0
    connection = session.connection()
    last: str | None = None
    while True:
        query = select(PayloadRow.hash).order_by(PayloadRow.hash).limit(_PAGE)
        if last is not None:
            query = query.where(PayloadRow.hash > last)
        page = list(session.scalars(query))
        if not page:
            return count
        last = page[-1]
        count += len(page)
        unreadable: dict[bytes, str] = {}
        texts = stored_texts(connection, [bytes.fromhex(h) for h in page], unreadable)
        for digest, why in sorted(unreadable.items()):
            problems.append(f"payload {digest.hex()}: {why}")
        for digest, text in texts.items():
            if hashlib.sha256(text).hexdigest() != digest.hex():
                problems.append(f"payload {digest.hex()}: its content does not hash to its key")


def _check_references(session: Session, problems: list[str]) -> None:
    base = aliased(PayloadRow)
    missing_bases = session.scalars(
        select(PayloadRow.base)
        .distinct()
        .outerjoin(base, base.hash == PayloadRow.base)
        .where(PayloadRow.base.is_not(None), base.hash.is_(None))
    ).all()
    problems += [f"payloads.base points to missing payload {h}" for h in missing_bases]
    for table, column in (
        ("item_versions", ItemVersionRow.canonical_hash),
        ("item_versions", ItemVersionRow.raw_hash),
        ("baseline_items", BaselineItemRow.canonical_hash),
        ("baseline_items", BaselineItemRow.raw_hash),
    ):
        missing = session.scalars(
            select(column)
            .distinct()
            .outerjoin(PayloadRow, PayloadRow.hash == column)
            .where(PayloadRow.hash.is_(None))
        ).all()
        problems += [f"{table}.{column.key} points to missing payload {h}" for h in missing]


def _check_intervals(session: Session, problems: list[str]) -> int:
    """Versions of one item never overlap, and each ends after it starts."""
    count = 0
    following = func.lead(ItemVersionRow.valid_from).over(
        partition_by=(ItemVersionRow.portal_id, ItemVersionRow.key),
        order_by=ItemVersionRow.valid_from,
    )
    for row in session.execute(
        select(
            ItemVersionRow.portal_id,
            ItemVersionRow.key,
            ItemVersionRow.valid_from,
            ItemVersionRow.valid_until,
            following.label("next_from"),
        ).execution_options(yield_per=1000)
    ):
        count += 1
        where = f"portal {row.portal_id} item {row.key!r} from snapshot {row.valid_from}"
        if row.valid_until is not None and row.valid_until <= row.valid_from:
            problems.append(f"{where}: ends at {row.valid_until}, before it starts")
        if row.next_from is not None and (
            row.valid_until is None or row.valid_until > row.next_from
        ):
            problems.append(f"{where}: overlaps the version from snapshot {row.next_from}")
    return count


def _check_snapshot_counts(session: Session, problems: list[str]) -> int:
    """Each complete snapshot holds as many items as it recorded when it was written."""
    starts: dict[int, list[int]] = defaultdict(list)
    ends: dict[int, list[int]] = defaultdict(list)
    for portal_id, valid_from, valid_until in session.execute(
        select(ItemVersionRow.portal_id, ItemVersionRow.valid_from, ItemVersionRow.valid_until)
    ):
        starts[portal_id].append(valid_from)
        if valid_until is not None:
            ends[portal_id].append(valid_until)
    for values in (*starts.values(), *ends.values()):
        values.sort()
    count = 0
    for snapshot_id, portal_id, item_count, completed_at in session.execute(
        select(
            SnapshotRow.id, SnapshotRow.portal_id, SnapshotRow.item_count, SnapshotRow.completed_at
        ).order_by(SnapshotRow.id)
    ):
        count += 1
        if completed_at is None:
            problems.append(f"snapshot {snapshot_id} was never completed")
            continue
        held = bisect.bisect_right(starts[portal_id], snapshot_id) - bisect.bisect_right(
            ends[portal_id], snapshot_id
        )
        if held != item_count:
            problems.append(f"snapshot {snapshot_id} holds {held} items but recorded {item_count}")
    return count


def _check_baseline_counts(session: Session, problems: list[str]) -> int:
    held = dict(
        session.execute(
            select(BaselineItemRow.baseline_id, func.count()).group_by(BaselineItemRow.baseline_id)
        ).all()
    )
    count = 0
    for baseline_id, version, item_count in session.execute(
        select(BaselineRow.id, BaselineRow.version, BaselineRow.item_count)
    ):
        count += 1
        if held.get(baseline_id, 0) != item_count:
            problems.append(
                f"baseline {baseline_id} (v{version}) holds {held.get(baseline_id, 0)} items "
                f"but recorded {item_count}"
            )
    return count
