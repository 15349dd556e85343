"""The web pages' partial reads (``hubaudit.store.items``) answer what the whole reads answer:
the items of a snapshot or a baseline version that a selection names, where two versions differ,
the diff of two versions, and what depends on an item.

Two nights of the demo portal read from the emulator (items added, removed, changed and left
alone between them), each approved as a version, and a third night whose workflows could not be
read (they stand in from the second); on a SQLite file and on the Postgres server."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hubaudit.analysis.dependencies import build_graph
from hubaudit.config import PortalConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.errors import UsageError
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.hubspot.collectors import DEFAULT_COLLECTORS, collect_portal
from hubaudit.model.changes import ChangeOp
from hubaudit.model.items import CoverageStatus, Kind, SnapshotInfo, StoredItem
from hubaudit.services import timetravel
from hubaudit.services.baselines import baseline_changelog
from hubaudit.services.latest import latest_point
from hubaudit.services.timetravel import dependents_of, point_items, snapshot_view
from hubaudit.store.items import (
    ItemSelection,
    baseline_differences,
    baseline_items_in,
    snapshot_items_in,
)
from hubaudit.store.repository import Store

NIGHT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)


def save_night(
    store: Store, portal: PortalConfig, client: HubSpotClient, day: int, failed: Kind | None = None
) -> SnapshotInfo:
    items, coverage = collect_portal(client, portal, DEFAULT_COLLECTORS)
    if failed is not None:
        items = [i for i in items if i.kind is not failed]
        coverage = [
            replace(c, status=CoverageStatus.FAILED, items=0, reason="HTTP 503")
            if c.kind is failed
            else c
            for c in coverage
        ]
    return store.save_snapshot(portal.name, NIGHT + timedelta(days=day), coverage, items)


@pytest.fixture
def nights(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> list[SnapshotInfo]:
    first = save_night(store, portal, client, 0)
    store.approve_baseline("demo", first, "Council", "v1", NIGHT + timedelta(hours=1))
    emulator.load(portal_dirs["night2"])
    second = save_night(store, portal, client, 1)
    store.approve_baseline("demo", second, "Council", "v2", NIGHT + timedelta(days=1, hours=1))
    third = save_night(store, portal, client, 2, failed=Kind.WORKFLOW)
    return [first, second, third]


def selections(items: dict[str, StoredItem]) -> list[ItemSelection]:
    keys = sorted(items)
    return [
        ItemSelection(),
        ItemSelection(keys=frozenset({keys[0], keys[-1], "property:deals:no_such_field"})),
        ItemSelection(keys=frozenset([*keys[::3], *(f"property:deals:x{n}" for n in range(1500))])),
        ItemSelection(kinds=frozenset({Kind.USER, Kind.PIPELINE, Kind.WORKFLOW})),
        # a prefix is exact: neither case-blind nor a LIKE pattern ("_" and "%" are themselves)
        ItemSelection(prefixes=frozenset({"property:deals:", "property:Contacts:", "user:%"})),
        ItemSelection(prefixes=frozenset({"property:contacts:h_"})),
        ItemSelection(
            keys=frozenset({keys[1]}),
            kinds=frozenset({Kind.TEAM}),
            prefixes=frozenset({"pipeline:deals:"}),
        ),
    ]


def filtered(items: dict[str, StoredItem], selection: ItemSelection) -> dict[str, StoredItem]:
    return {k: i for k, i in items.items() if selection.holds(i)}


def test_a_selection_reads_what_the_whole_read_holds_of_it(
    store: Store, nights: list[SnapshotInfo]
) -> None:
    for snapshot in nights:
        whole = store.snapshot_items(snapshot.id)
        for selection in selections(whole):
            assert snapshot_items_in(store, snapshot.id, selection) == filtered(whole, selection)
    for version in (1, 2):
        baseline = store.baseline("demo", version)
        whole = store.baseline_items(baseline.id)
        for selection in selections(whole):
            assert baseline_items_in(store, baseline.id, selection) == filtered(whole, selection)
    # the selections are not trivially empty or whole
    whole = store.snapshot_items(nights[0].id)
    some = snapshot_items_in(store, nights[0].id, selections(whole)[4])
    assert 0 < len(some) < len(whole)
    assert all(k.startswith("property:deals:") for k in some)


def test_a_snapshot_that_is_not_there_is_a_clear_error(store: Store) -> None:
    with pytest.raises(UsageError, match="no complete snapshot 99"):
        snapshot_items_in(store, 99, ItemSelection(kinds=frozenset({Kind.USER})))


def test_two_versions_differ_where_their_whole_reads_do(
    store: Store, nights: list[SnapshotInfo]
) -> None:
    v1, v2 = (store.baseline_items(store.baseline("demo", n).id) for n in (1, 2))

    def unmatched(side: dict[str, StoredItem], other: dict[str, StoredItem]) -> set[str]:
        return {
            k
            for k, i in side.items()
            if k not in other or other[k].canonical_hash != i.canonical_hash
        }

    gone, came = baseline_differences(store, *(store.baseline("demo", n).id for n in (1, 2)))
    assert gone == {k: v1[k] for k in unmatched(v1, v2)}
    assert came == {k: v2[k] for k in unmatched(v2, v1)}
    # the mixed case: added, removed and changed items, and many left alone
    assert set(came) - set(v1) and set(gone) - set(v2) and set(gone) & set(came)
    assert len(set(v1) & set(v2)) > len(set(gone) | set(came))


def test_the_diff_of_two_versions_is_the_diff_of_their_whole_items(
    store: Store, nights: list[SnapshotInfo], monkeypatch: pytest.MonkeyPatch
) -> None:
    lean = baseline_changelog(store, "demo", 1, 2)
    backwards = baseline_changelog(store, "demo", 2, 1)
    monkeypatch.setattr(
        timetravel,
        "_items_to_compare",
        lambda store, before, after: (point_items(store, before), point_items(store, after)),
    )
    assert lean == baseline_changelog(store, "demo", 1, 2)
    assert backwards == baseline_changelog(store, "demo", 2, 1)
    assert {ChangeOp.ADDED, ChangeOp.REMOVED, ChangeOp.MODIFIED} <= {c.op for c in lean.changes}


def test_what_depends_on_an_item_is_what_the_whole_graph_says(
    store: Store, nights: list[SnapshotInfo]
) -> None:
    point = latest_point(store, "demo")
    assert point is not None and point.stand_ins  # the workflows stand in from night 2
    graph = build_graph(snapshot_view(store, point))
    keys = set(point_items(store, point)) | set(store.baseline_items(store.baseline("demo", 1).id))
    keys |= {d.target for d in graph.edges}  # targets the portal no longer holds, too
    found = {key: dependents_of(store, point, key) for key in sorted(keys)}
    assert found == {key: graph.dependents(key) for key in sorted(keys)}
    # every relation the demo portal holds is among them
    relations = {d.relation for ds in found.values() for d in ds}
    assert {"reads", "writes", "uses", "in group", "in team", "has role"} <= relations
