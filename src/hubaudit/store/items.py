"""A snapshot's or a baseline version's items read in part, for the pages that need a few of
20,000: the items a selection names (by key, by kind, by key prefix), and where two versions
differ. Each is one statement (or one per thousand keys), filtered in SQL; the whole reads stay
in :class:`~hubaudit.store.repository.Store`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select
from sqlalchemy.orm import aliased

from hubaudit.errors import UsageError
from hubaudit.model.items import Kind, StoredItem
from hubaudit.store.reads import PLAIN_VERSIONS, StoreReader, held_by, stored_items
from hubaudit.store.tables import BaselineItemRow, SnapshotRow

_KEYS_PER_STATEMENT = 1000


@dataclass(frozen=True)
class ItemSelection:
    """Which items to read: those whose key is one of ``keys``, whose kind is one of ``kinds``
    or whose key starts with one of ``prefixes`` (any of the three)."""

    keys: frozenset[str] = frozenset()
    kinds: frozenset[Kind] = frozenset()
    prefixes: frozenset[str] = frozenset()

    def holds(self, item: StoredItem) -> bool:
        return (
            item.key in self.keys
            or item.kind in self.kinds
            or any(item.key.startswith(p) for p in self.prefixes)
        )

    def batches(self) -> Iterator[ItemSelection]:
        """The selection cut so that no statement binds more than a thousand keys."""
        keys = iter(sorted(self.keys))
        first = frozenset(islice(keys, _KEYS_PER_STATEMENT))
        yield ItemSelection(first, self.kinds, self.prefixes)
        while batch := frozenset(islice(keys, _KEYS_PER_STATEMENT)):
            yield ItemSelection(batch)

    def where(self, key: Any, kind: Any) -> ColumnElement[bool]:
        wanted: list[ColumnElement[bool]] = []
        if self.keys:
            wanted.append(key.in_(sorted(self.keys)))
        if self.kinds:
            wanted.append(kind.in_(sorted(k.value for k in self.kinds)))
        # substr, not LIKE: exact and case-sensitive on SQLite and Postgres alike
        wanted.extend(func.substr(key, 1, len(p)) == p for p in sorted(self.prefixes))
        return or_(*wanted) if wanted else false()


def snapshot_items_in(
    store: StoreReader, snapshot_id: int, selection: ItemSelection
) -> dict[str, StoredItem]:
    """The items of a complete snapshot that ``selection`` names (``Store.snapshot_items``,
    filtered in SQL)."""
    found = _read(
        store,
        lambda part: held_by(snapshot_id).where(
            part.where(PLAIN_VERSIONS.c.key, PLAIN_VERSIONS.c.kind)
        ),
        selection,
    )
    if not found:
        with store.connection() as connection:
            if not connection.scalar(
                select(SnapshotRow.id).where(
                    SnapshotRow.id == snapshot_id, SnapshotRow.completed_at.is_not(None)
                )
            ):
                raise UsageError(f"there is no complete snapshot {snapshot_id}")
    return found


def baseline_items_in(
    store: StoreReader, baseline_id: int, selection: ItemSelection
) -> dict[str, StoredItem]:
    """The items of a baseline version that ``selection`` names."""
    return _read(
        store,
        lambda part: _baseline_rows(baseline_id).where(
            part.where(BaselineItemRow.key, BaselineItemRow.kind)
        ),
        selection,
    )


def baseline_differences(
    store: StoreReader, from_id: int, to_id: int
) -> tuple[dict[str, StoredItem], dict[str, StoredItem]]:
    """The items of version ``from_id`` that version ``to_id`` does not hold with the same
    canonical content, and the other way round: what a comparison of the two needs (an item
    both hold alike can change nothing), found by joining their (key, hash) rows in SQL."""
    return (
        _read(store, lambda _part: _unmatched(from_id, to_id), ItemSelection()),
        _read(store, lambda _part: _unmatched(to_id, from_id), ItemSelection()),
    )


def _unmatched(baseline_id: int, other_id: int) -> Select[Any]:
    """A version's rows that the other version does not hold alike (an anti-join on the other
    version's primary key, ``(baseline_id, key)``)."""
    other = aliased(BaselineItemRow)
    alike = exists().where(
        other.baseline_id == other_id,
        other.key == BaselineItemRow.key,
        other.canonical_hash == BaselineItemRow.canonical_hash,
    )
    return _baseline_rows(baseline_id).where(~alike)


def _baseline_rows(baseline_id: int) -> Select[Any]:
    columns: tuple[Any, ...] = (
        BaselineItemRow.key,
        BaselineItemRow.kind,
        BaselineItemRow.canonical_hash,
        BaselineItemRow.raw_hash,
    )
    return select(*columns).where(BaselineItemRow.baseline_id == baseline_id)


def _read(
    store: StoreReader, statement: Callable[[ItemSelection], Select[Any]], selection: ItemSelection
) -> dict[str, StoredItem]:
    """(key, kind, canonical hash, raw hash) rows as items, one statement per batch of keys in
    one transaction."""
    with store.connection() as connection:
        return {
            r.key: _item(r)
            for part in selection.batches()
            for r in connection.execute(statement(part))
        }


def _item(row: Any) -> StoredItem:
    if isinstance(row.canonical_hash, bytes):  # held_by's plain columns: digests as bytes
        (item,) = stored_items([row]).values()
        return item
    return StoredItem(Kind(row.kind), row.key, row.canonical_hash, row.raw_hash)
