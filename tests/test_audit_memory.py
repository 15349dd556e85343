"""An audit's memory: the read lets go of the raw JSON the store holds already, as each part is
read, and what it let go is never missing from what is stored or reported."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubaudit.config import PortalConfig
from hubaudit.emulator import PortalEmulator
from hubaudit.errors import DatabaseError
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.model.items import ConfigItem, Kind, StoredItem
from hubaudit.services.audit_run import HELD_RAW_KINDS, read_and_store, shared_with
from hubaudit.store.repository import Store

from .conftest import baseline_from_night1, edit_json


def test_a_night_holds_only_the_raw_json_the_store_lacks(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    first, items = read_and_store(store, portal, client)
    assert all(i.raw is not None for i in items)  # nothing was stored: every raw is kept
    before = store.snapshot_items(first.id)

    emulator.load(portal_dirs["night2"])
    touched: list[str] = []

    def touch(props: list[dict[str, object]]) -> None:
        """An edit to a volatile field alone: a new raw form of the same canonical one."""
        prop = next(p for p in props if f"property:deals:{p['name']}" in before)
        prop["updatedAt"] = "2031-01-01T00:00:00Z"
        touched.append(f"property:deals:{prop['name']}")

    edit_json(portal_dirs["night2"], "properties/deals.json", touch)
    snapshot, items = read_and_store(store, portal, client)
    stored = store.snapshot_items(snapshot.id)
    kept = {i.key for i in items if i.raw is not None}
    new_raw = {i.key for i in items if i.key not in before or i.raw_hash != before[i.key].raw_hash}
    held_kinds = {i.key for i in items if i.kind in HELD_RAW_KINDS}
    # exactly the raw JSON the store lacked, and what the audit reads of every item of its kind
    assert kept == new_raw | held_kinds
    assert new_raw and len(kept) < len(items)
    assert touched[0] in kept
    # every item's raw JSON is in the database, as HubSpot sent it
    raws = store.load_payloads({i.raw_hash for i in stored.values()})
    assert len(raws) == len({i.raw_hash for i in stored.values()})
    for item in items:
        if item.raw is not None:
            assert raws[item.raw_hash] == item.raw


def test_a_raw_payload_let_go_but_no_longer_stored_refuses_the_snapshot(
    store: Store,
    portal: PortalConfig,
    client: HubSpotClient,
) -> None:
    baseline_from_night1(store, portal, client)
    latest = store.latest_snapshot("demo")
    assert latest is not None
    let_go = ConfigItem(
        Kind.PROPERTY,
        "property:deals:brand_new",
        {"name": "brand_new"},
        None,  # as if the read had found it stored
        "a" * 64,
        "b" * 64,
    )
    held = [
        ConfigItem(i.kind, key, {}, None, i.canonical_hash, i.raw_hash)
        for key, i in store.snapshot_items(latest.id).items()
    ]
    with pytest.raises(DatabaseError, match="raw payloads the read found stored are gone"):
        store.save_snapshot("demo", datetime.now(UTC), latest.coverage, [*held, let_go])
    assert store.latest_snapshot("demo") == latest  # nothing half-written


def test_held_raw_digests_name_the_latest_versions(
    store: Store, portal: PortalConfig, client: HubSpotClient
) -> None:
    assert store.held_raw_digests("demo") == set()  # a portal never stored holds nothing
    snapshot, _items = read_and_store(store, portal, client)
    stored = store.snapshot_items(snapshot.id)
    assert store.held_raw_digests("demo") == {bytes.fromhex(i.raw_hash) for i in stored.values()}


def test_items_alike_on_both_sides_are_held_once() -> None:
    def item(key: str, digit: str) -> StoredItem:
        # strings built at run time: equal values, distinct objects, as two reads give them
        return StoredItem(Kind.PROPERTY, "".join(["property:deals:", key]), digit * 64, "f" * 64)

    baseline = {i.key: i for i in (item("same", "a"), item("edited", "b"), item("gone", "c"))}
    snapshot = {i.key: i for i in (item("same", "a"), item("edited", "d"), item("new", "e"))}
    shared = shared_with(baseline, snapshot.values())
    assert shared == snapshot and list(shared) == list(snapshot)
    assert shared["property:deals:same"] is baseline["property:deals:same"]
    key = next(k for k in shared if k == "property:deals:same")
    assert key is baseline["property:deals:same"].key  # the key string too
    assert shared["property:deals:edited"] is snapshot["property:deals:edited"]
    assert shared["property:deals:new"] is snapshot["property:deals:new"]
