"""Property-based tests of the comparison (hypothesis): nothing from nothing, changes that
replay exactly, fingerprints that never move."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from hubaudit.analysis.canonical import content_hash, make_item, without_nulls
from hubaudit.analysis.compare import apply_changes, compare, value_at
from hubaudit.governance.defects import fingerprint
from hubaudit.model.changes import ChangeOp
from hubaudit.model.items import Kind, StoredItem

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


def stored(
    portal: Mapping[str, dict[str, Any]], kind: Kind = Kind.PROPERTY
) -> tuple[dict[str, StoredItem], dict[str, Any]]:
    items, bodies = {}, {}
    for key, payload in portal.items():
        item = make_item(kind, key, payload, payload)
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


# Order as order: siblings numbered by displayOrder (stages, options, pipelines, lifecycle stages)

stage_ids = st.lists(st.text(alphabet="abcdefgh", min_size=1, max_size=3), unique=True, max_size=8)
two_or_more = st.lists(
    st.text(alphabet="abcdefgh", min_size=1, max_size=3), unique=True, min_size=2, max_size=8
)


def numbered(ids: list[str], start: int = 0) -> dict[str, dict[str, Any]]:
    return {i: {"label": i.upper(), "displayOrder": start + n} for n, i in enumerate(ids)}


def pipeline(ids: list[str]) -> dict[str, Any]:
    return {"label": "Sales", "displayOrder": 0, "stages": numbered(ids)}


def compare_pipelines(before: list[str], after: list[str]) -> list[Any]:
    a_items, a_bodies = stored({"pipeline:deals:p": pipeline(before)}, Kind.PIPELINE)
    b_items, b_bodies = stored({"pipeline:deals:p": pipeline(after)}, Kind.PIPELINE)
    return compare(
        a_items, b_items, {"pipeline:deals": ()}, loader({**a_bodies, **b_bodies})
    ).changes


def compare_stages(before: list[str], after: list[str]) -> list[Any]:
    """Lifecycle stages: sibling items of one part, each with its own displayOrder."""
    a_items, a_bodies = stored(
        {f"lifecycle_stage:contacts:{i}": s for i, s in numbered(before, 1).items()},
        Kind.LIFECYCLE_STAGE,
    )
    b_items, b_bodies = stored(
        {f"lifecycle_stage:contacts:{i}": s for i, s in numbered(after, 1).items()},
        Kind.LIFECYCLE_STAGE,
    )
    scopes = {"lifecycle_stage:contacts": ()}
    return compare(a_items, b_items, scopes, loader({**a_bodies, **b_bodies})).changes


@given(stage_ids, st.data())
@settings(max_examples=150, deadline=None)
def test_inserting_a_sibling_is_one_added_entry(ids: list[str], data: st.DataObject) -> None:
    new = "z" + "".join(ids)  # unique: no generated id starts with z
    at = data.draw(st.integers(0, len(ids)))
    after = [*ids[:at], new, *ids[at:]]
    [change] = compare_pipelines(ids, after)
    assert (change.path, change.before) == (("stages", new), None)
    [change] = compare_stages(ids, after)
    assert (change.key, change.op) == (f"lifecycle_stage:contacts:{new}", ChangeOp.ADDED)
    # and the other way round, a removal is one removed entry
    [change] = compare_pipelines(after, ids)
    assert (change.path, change.after) == (("stages", new), None)
    [change] = compare_stages(after, ids)
    assert (change.key, change.op) == (f"lifecycle_stage:contacts:{new}", ChangeOp.REMOVED)


@given(two_or_more, st.data())
@settings(max_examples=150, deadline=None)
def test_a_relative_reorder_is_one_change_on_the_parent(
    ids: list[str], data: st.DataObject
) -> None:
    after = data.draw(st.permutations(ids).filter(lambda order: order != ids))
    [change] = compare_pipelines(ids, after)
    assert (change.key, change.field) == ("pipeline:deals:p", "stages order")
    assert (change.before, change.after) == ([i.upper() for i in ids], [i.upper() for i in after])
    # accepting it into the baseline puts the stages in that order: then nothing differs
    accepted = apply_changes(pipeline(ids), [change])
    assert value_at(accepted, change.path) == change.after
    a_items, a_bodies = stored({"pipeline:deals:p": accepted}, Kind.PIPELINE)
    b_items, b_bodies = stored({"pipeline:deals:p": pipeline(after)}, Kind.PIPELINE)
    scopes = {"pipeline:deals": ()}
    assert compare(a_items, b_items, scopes, loader({**a_bodies, **b_bodies})).changes == []
    [change] = compare_stages(ids, after)
    assert (change.key, change.field) == ("lifecycle_stage:contacts", "stages order")
    assert change.after == [i.upper() for i in after]


@given(two_or_more, st.integers(1, 5))
@settings(max_examples=50, deadline=None)
def test_renumbering_alone_is_no_change(ids: list[str], gap: int) -> None:
    a_items, a_bodies = stored({"pipeline:deals:p": pipeline(ids)}, Kind.PIPELINE)
    spread = {"label": "Sales", "displayOrder": 0, "stages": numbered(ids)}
    for n, stage in enumerate(spread["stages"].values()):
        stage["displayOrder"] = n * gap + gap
    b_items, b_bodies = stored({"pipeline:deals:p": spread}, Kind.PIPELINE)
    scopes = {"pipeline:deals": ()}
    assert compare(a_items, b_items, scopes, loader({**a_bodies, **b_bodies})).changes == []
