"""The lean reads of a whole snapshot or baseline (plain columns, one loop; issue 20) give what
the typed columns give: the same items, the same payloads, keys with a NUL or the escape mark
read back, a payload written against a base decoded through it, a damaged one a clear error.

Every test runs on a SQLite file and on the Postgres server (the ``store`` fixture)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hubaudit.analysis.canonical import make_item
from hubaudit.errors import DatabaseError, UsageError
from hubaudit.model.items import ConfigItem, CoverageStatus, Kind, KindCoverage, StoredItem
from hubaudit.store.payloads import DEFLATE_DICTIONARY_1, encode_body
from hubaudit.store.repository import Store
from hubaudit.store.schema import ESCAPED_TEXT_MARK
from hubaudit.store.tables import BaselineItemRow, ItemVersionRow, PayloadRow, SnapshotRow

Items = dict[str, StoredItem]
NIGHT = datetime(2026, 3, 1, 2, 0, tzinfo=UTC)
SCOPES = ("property:contacts", "pipeline:deals", "user")


def prop(name: str, label: str, options: int = 3) -> ConfigItem:
    canonical = {
        "name": name,
        "label": label,
        "type": "enumeration",
        "options": {f"o{n}": {"label": f"Option {n}", "displayOrder": n} for n in range(options)},
    }
    raw = {**canonical, "updatedAt": f"2026-02-0{options}T00:00:00Z", "updatedUserId": "7"}
    return make_item(Kind.PROPERTY, f"property:contacts:{name}", raw, canonical, label)


def pipeline(pipeline_id: str, canonical: dict[str, object]) -> ConfigItem:
    raw = {**canonical, "id": pipeline_id, "createdAt": "2025-01-01T00:00:00Z"}
    return make_item(Kind.PIPELINE, f"pipeline:deals:{pipeline_id}", raw, canonical)


def user(user_id: str, email: str) -> ConfigItem:
    raw = {"id": user_id, "email": email}
    return make_item(Kind.USER, f"user:{user_id}", raw, raw)


def save(store: Store, night: int, items: list[ConfigItem]) -> int:
    coverage = [
        KindCoverage(
            Kind(scope.split(":")[0]),
            scope,
            CoverageStatus.COMPLETE,
            sum(1 for i in items if i.key.startswith(scope + ":")),
        )
        for scope in SCOPES
    ]
    return store.save_snapshot("acme", NIGHT + timedelta(days=night), coverage, items).id


def typed_items(store: Store, row: type[ItemVersionRow | BaselineItemRow], *where: Any) -> Items:
    """Items read the way the store read them before: through the ORM's column types (digests
    to hex and keys unescaped by the types)."""
    columns = (row.key, row.kind, row.canonical_hash, row.raw_hash)
    with store.session() as session:
        return {
            r.key: StoredItem(Kind(r.kind), r.key, r.canonical_hash, r.raw_hash)
            for r in session.execute(sa.select(*columns).where(*where))
        }


def typed_snapshot_items(store: Store, snapshot_id: int) -> Items:
    return typed_items(
        store,
        ItemVersionRow,
        SnapshotRow.id == snapshot_id,
        SnapshotRow.portal_id == ItemVersionRow.portal_id,
        ItemVersionRow.valid_from <= snapshot_id,
        sa.or_(ItemVersionRow.valid_until.is_(None), ItemVersionRow.valid_until > snapshot_id),
    )


# A stage map that a later night's item holds as its canonical payload: the first night stores
# it as the raw payload of ``with_base``, written against that item's canonical payload (a base).
STAGES = {"label": "Sales", "stages": {f"s{n}": {"label": f"Stage {n}"} for n in range(12)}}


@pytest.fixture
def nights(store: Store) -> tuple[int, int]:
    """Two nights of a portal: unchanged, changed, removed and added items, keys that need
    their escaped form, and on night 2 a canonical payload stored on night 1 against a base."""
    with_base = pipeline("p1", {"label": "Sales", "stages": STAGES["stages"]})
    nul_key = prop("na\x00me", "With a NUL")
    first = [
        prop("tier", "Tier"),
        prop("region", "Region"),
        prop("gone", "Removed on night 2"),
        nul_key,
        prop(ESCAPED_TEXT_MARK + "marked", "Starts with the mark"),
        with_base,
        user("7", "ana@example.com"),
    ]
    second = [
        prop("tier", "Tier"),  # unchanged
        prop("region", "Region (renamed)", options=5),  # changed
        nul_key,
        prop(ESCAPED_TEXT_MARK + "marked", "Starts with the mark, relabelled"),
        with_base,
        # its canonical payload is night 1's raw payload of p1, stored against a base
        make_item(Kind.PIPELINE, "pipeline:deals:p2", {"x": 1}, with_base.raw, "p2"),
        prop("added", "Added on night 2"),
        user("7", "ana@example.com"),
    ]
    return save(store, 1, first), save(store, 2, second)


def test_a_snapshots_items_are_what_the_typed_columns_read(
    store: Store, nights: tuple[int, int]
) -> None:
    for snapshot_id in nights:
        items = store.snapshot_items(snapshot_id)
        assert items == typed_snapshot_items(store, snapshot_id)
        assert "property:contacts:na\x00me" in items
        assert f"property:contacts:{ESCAPED_TEXT_MARK}marked" in items
    first, second = (set(store.snapshot_items(n)) for n in nights)
    assert first - second == {"property:contacts:gone"}
    assert second - first == {"property:contacts:added", "pipeline:deals:p2"}


def test_a_snapshot_with_its_payloads_is_its_items_and_their_payloads(
    store: Store, nights: tuple[int, int]
) -> None:
    p2 = store.snapshot_items(nights[1])["pipeline:deals:p2"]
    with store.session() as session:
        base = session.scalar(
            sa.select(PayloadRow.base).where(PayloadRow.hash == p2.canonical_hash)
        )
    assert base is not None, "p2's canonical payload was stored on night 1 against a base"
    for snapshot_id in nights:
        items, payloads = store.snapshot_with_payloads(snapshot_id)
        assert items == store.snapshot_items(snapshot_id)
        assert payloads == store.load_payloads({i.canonical_hash for i in items.values()})
    items, payloads = store.snapshot_with_payloads(nights[1])
    assert payloads[items["pipeline:deals:p2"].canonical_hash]["stages"] == STAGES["stages"]
    region = payloads[items["property:contacts:region"].canonical_hash]
    assert region["label"] == "Region (renamed)"
    assert len(region["options"]) == 5  # type: ignore[arg-type]


def test_a_baselines_items_are_what_the_typed_columns_read(
    store: Store, nights: tuple[int, int]
) -> None:
    snapshot = store.snapshot("acme", nights[1])
    baseline = store.approve_baseline("acme", snapshot, "ana", "night 2", NIGHT + timedelta(3))
    items = store.baseline_items(baseline.id)
    typed = typed_items(store, BaselineItemRow, BaselineItemRow.baseline_id == baseline.id)
    assert items == typed == store.snapshot_items(nights[1])


@pytest.mark.parametrize(
    "body",
    [
        b"\x01not deflate at all",
        encode_body('{"label": "' + "an unterminated string " * 10),
        encode_body('{"label": "Tier"} {"label": "Tier"} ' * 8),
    ],
    ids=["not deflate", "not JSON", "two values"],
)
def test_a_damaged_payload_in_a_snapshot_is_a_clear_error(
    store: Store, nights: tuple[int, int], body: bytes
) -> None:
    assert body[0] == DEFLATE_DICTIONARY_1  # the one-loop path, not the general one
    items = store.snapshot_items(nights[1])
    damaged = bytes.fromhex(items["property:contacts:tier"].canonical_hash)
    with store.engine.begin() as connection:
        connection.execute(
            sa.text("update payloads set body = :body where hash = :hash"),
            {"body": body, "hash": damaged},
        )
    with pytest.raises(DatabaseError, match=f"payload {damaged.hex()} cannot be read"):
        store.snapshot_with_payloads(nights[1])


def test_a_snapshot_that_is_not_there_is_a_clear_error(store: Store) -> None:
    with pytest.raises(UsageError, match="there is no complete snapshot 99"):
        store.snapshot_with_payloads(99)
