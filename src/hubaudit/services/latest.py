"""The latest read of each part of a portal (DESIGN.md rule 11).

A snapshot whose read of a part failed holds nothing of that part; if it stood for "the portal
now", every item of the part would seem gone: `impact` would say nothing depends on a property
whose workflows were not read, `diff` and `ignore suggest` would see nothing drift there. So
"latest" is the latest snapshot *with stand-ins*: each part it failed to read comes from the last
snapshot that read it completely, and every command that shows such a point says so. `show`,
`diff`, `impact`, `ignore suggest`, KPIs and audit reports all resolve it here.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from hubaudit.analysis.compare import scope_of
from hubaudit.model.history import Point, StandIn
from hubaudit.model.items import CoverageStatus, KindCoverage, SnapshotInfo, StoredItem
from hubaudit.store.reads import StoreReader

if TYPE_CHECKING:
    from hubaudit.store.items import ItemSelection


def with_stand_ins(store: StoreReader, snapshot: SnapshotInfo) -> Point:
    """``snapshot`` as a point, each part it failed to read taken from the last earlier
    snapshot that read it completely (the point's coverage holds that read)."""
    failed = [c for c in snapshot.coverage if c.status is CoverageStatus.FAILED]
    if not failed:
        return Point(snapshot=snapshot)
    stamps = {s.id: s for s in store.snapshot_stamps(snapshot.portal) if s.id < snapshot.id}
    stand_ins: list[StandIn] = []
    reads: dict[str, KindCoverage] = {}
    for part in failed:
        complete = {
            snapshot_id: coverage
            for snapshot_id, coverage in store.scope_coverage(snapshot.portal, part.scope).items()
            if snapshot_id in stamps and coverage.status is CoverageStatus.COMPLETE
        }
        last = max(complete, default=None)
        stand_ins.append(StandIn(part.scope, part, None if last is None else stamps[last]))
        if last is not None:
            reads[part.scope] = complete[last]
    coverage = tuple(reads.get(c.scope, c) for c in snapshot.coverage)
    return Point(snapshot=replace(snapshot, coverage=coverage), stand_ins=tuple(stand_ins))


def latest_point(store: StoreReader, portal: str) -> Point | None:
    """The portal's latest snapshot with its stand-ins; ``None`` before its first snapshot."""
    snapshot = store.latest_snapshot(portal)
    return None if snapshot is None else with_stand_ins(store, snapshot)


def snapshot_point_items(
    store: StoreReader, point: Point, selection: ItemSelection | None = None
) -> dict[str, StoredItem]:
    """The items of a snapshot point: the snapshot's own, and each stand-in's part as the
    stand-in's snapshot held it; only those ``selection`` names, if given (read in SQL)."""
    assert point.snapshot is not None

    def read(snapshot_id: int) -> dict[str, StoredItem]:
        if selection is None:
            return store.snapshot_items(snapshot_id)
        from hubaudit.store.items import snapshot_items_in  # a partial read (the web's)

        return snapshot_items_in(store, snapshot_id, selection)

    items = read(point.snapshot.id)
    scopes = {c.scope for c in point.snapshot.coverage}
    for stand_in in point.stand_ins:
        if stand_in.snapshot is None:
            continue
        for key, item in read(stand_in.snapshot.id).items():
            if scope_of(key, scopes) == stand_in.scope:
                items[key] = item
    return items
