"""Property-based tests of the comparison (hypothesis): nothing from nothing, changes that
replay exactly, fingerprints that never move."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hubaudit.compare import apply_changes, compare
from hubaudit.governance.defects import fingerprint
from hubaudit.model import Kind, StoredItem
from hubaudit.snapshot import content_hash, make_item, without_nulls

names = st.text(alphabet="abcxyz._- 09", min_size=1, max_size=6)
scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=5)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=4),
    max_leaves=12,
)
payloads = st.dictionaries(names, values, max_size=6)
portals = st.dictionaries(
    st.sampled_from([f"property:deals:p{i}" for i in range(8)]), payloads, max_size=6
)


def stored(portal: Mapping[str, dict[str, Any]]) -> tuple[dict[str, StoredItem], dict[str, Any]]:
    items, bodies = {}, {}
    for key, payload in portal.items():
        item = make_item(Kind.PROPERTY, key, payload, payload)
        items[key] = StoredItem(item.kind, key, item.canonical_hash, item.raw_hash)
        bodies[item.canonical_hash] = item.canonical
    return items, bodies


def loader(bodies: Mapping[str, Any]) -> Any:
    def load(hashes: Iterable[str]) -> dict[str, Any]:
        return {h: bodies[h] for h in hashes}

    return load


@given(portals)
@settings(max_examples=150, deadline=None)
def test_comparing_anything_with_itself_finds_nothing(portal: dict[str, dict[str, Any]]) -> None:
    items, bodies = stored(portal)
    result = compare(items, items, {"property:deals": ()}, loader(bodies))
    assert result.changes == []


@given(portals, portals)
@settings(max_examples=300, deadline=None)
def test_the_changes_from_a_to_b_applied_to_a_give_b(
    a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]
) -> None:
    a_items, a_bodies = stored(a)
    b_items, b_bodies = stored(b)
    changes = compare(a_items, b_items, {"property:deals": ()}, loader({**a_bodies, **b_bodies}))
    for key in a.keys() | b.keys():
        before = a_bodies[a_items[key].canonical_hash] if key in a_items else None
        expected = b_bodies[b_items[key].canonical_hash] if key in b_items else None
        replayed = apply_changes(before, [c for c in changes.changes if c.key == key])
        assert replayed == expected


@given(names, names, st.none() | names)
def test_fingerprints_are_stable_and_tell_fields_apart(portal: str, key: str, field: Any) -> None:
    assert fingerprint(portal, key, field) == fingerprint(portal, key, field)
    assert fingerprint(portal, key, field) != fingerprint(portal, key, (field or "") + ".x")
    # the same text gives the same print in another process too: it is a plain SHA-256
    assert len(fingerprint(portal, key, field)) == 64


@given(payloads)
def test_null_and_absent_are_the_same_canonical_value(payload: dict[str, Any]) -> None:
    with_null = {**payload, "extra": None}
    without = {k: v for k, v in payload.items() if k != "extra"}
    assert content_hash(without_nulls(with_null)) == content_hash(without_nulls(without))
