"""DeepDiff as the oracle of the field walk (hypothesis): on random pairs of canonical payloads
the walk in ``analysis/compare.py`` finds exactly the field changes that DeepDiff finds, and a
whole comparison (order as order included) is the same with either.

DeepDiff is imported here only: the product walks the two canonical forms itself."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from unittest.mock import patch

from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st

from hubaudit.analysis import compare as compare_module
from hubaudit.analysis.canonical import make_item
from hubaudit.analysis.compare import Path, compare, field_changes
from hubaudit.model.items import JSONValue, Kind, StoredItem

_MISSING = object()


def deepdiff_field_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[tuple[Path, JSONValue, JSONValue]]:
    """The field changes as hubaudit took them from DeepDiff before the walk: every path DeepDiff
    reports, cut at the first list (a list that differs is one change), sorted."""
    diff = DeepDiff(
        before,
        after,
        view="tree",
        verbose_level=2,
        threshold_to_diff_deeper=0,  # always down to the keys
        ignore_private_variables=False,  # "__x" is data here
    )
    paths: dict[Path, None] = {}
    for levels in diff.values():
        for level in levels:
            raw_path = tuple(level.path(output_format="list"))
            paths[_up_to_first_list(raw_path, before, after)] = None
    result = []
    for path in sorted(paths, key=lambda p: tuple(str(part) for part in p)):
        old, new = _resolve(before, path), _resolve(after, path)
        result.append((path, None if old is _MISSING else old, None if new is _MISSING else new))
    return result


def _up_to_first_list(path: Path, before: Any, after: Any) -> Path:
    for end in range(len(path)):
        prefix = path[:end]
        if isinstance(_resolve(before, prefix), list) or isinstance(_resolve(after, prefix), list):
            return prefix
    return path


def _resolve(value: Any, path: Path) -> Any:
    for part in path:
        in_map = isinstance(value, Mapping) and part in value
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if not (in_map or in_list):
            return _MISSING
        value = value[part]  # type: ignore[index]
    return value


# Canonical payloads: JSON values, with the names order and labels use, and numbers that are
# equal but not of one type (1, 1.0, True), where a careless walk would see no change.
names = st.sampled_from(["a", "b", "label", "displayOrder", "__x", "v1.0", "x y", "0"]) | st.text(
    alphabet="abz._- 09", min_size=1, max_size=4
)
scalars = (
    st.none()
    | st.booleans()
    | st.sampled_from([0, 1, 0.0, 1.0, -0.0, 2, 2.5])
    | st.integers(-3, 3)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(max_size=4)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(names, inner, max_size=4),
    max_leaves=14,
)
payloads = st.dictionaries(names, values, max_size=6)


@st.composite
def edited(draw: st.DrawFn, value: Any) -> Any:
    """``value`` with some of its parts kept, some dropped, some edited, some added: a pair
    close enough to share most of its fields, as a night's drift does."""
    if isinstance(value, dict):
        result = {}
        for key, inner in value.items():
            choice = draw(st.sampled_from(["keep", "keep", "edit", "drop", "replace"]))
            if choice == "keep":
                result[key] = inner
            elif choice == "edit":
                result[key] = draw(edited(inner))
            elif choice == "replace":
                result[key] = draw(values)
        result.update(draw(st.dictionaries(names, values, max_size=2)))
        return result
    if isinstance(value, list) and value and draw(st.booleans()):
        at = draw(st.integers(0, len(value) - 1))
        return [*value[:at], draw(edited(value[at])), *value[at + 1 :]]
    twins = {1: [1.0, True], 0: [0.0, False, -0.0]}
    numeric = isinstance(value, int | float) and not isinstance(value, bool)
    if numeric and value in twins and draw(st.booleans()):
        return draw(st.sampled_from(twins[int(value)]))
    return value if draw(st.booleans()) else draw(values)


pairs = payloads.flatmap(lambda before: st.tuples(st.just(before), edited(before)))


@given(st.one_of(pairs, st.tuples(payloads, payloads)))
@settings(max_examples=400, deadline=None)
def test_the_walk_finds_what_deepdiff_finds(pair: tuple[dict[str, Any], dict[str, Any]]) -> None:
    before, after = pair
    assert field_changes(before, after) == deepdiff_field_changes(before, after)


def test_numbers_of_another_type_differ_as_deepdiff_says() -> None:
    # a field's 1 is not 1.0 nor True; in a list of plain values DeepDiff compares as Python
    # does (difflib), so [1] is [1.0]; in a list that holds a map or a list, item by item again
    before = {"a": 1, "b": [1], "c": {"d": 0}, "e": True, "f": [{"x": 1}], "g": [[1], 1]}
    after = {"a": 1.0, "b": [1.0], "c": {"d": False}, "e": 1, "f": [{"x": 1.0}], "g": [[1.0], 1]}
    expected = [
        (("a",), 1, 1.0),
        (("c", "d"), 0, False),
        (("e",), True, 1),
        (("f",), [{"x": 1}], [{"x": 1.0}]),
    ]
    assert field_changes(before, after) == expected
    assert deepdiff_field_changes(before, after) == expected
    mixed = {"g": [[1], True]}, {"g": [[1.0], 1]}
    assert (
        field_changes(*mixed)
        == deepdiff_field_changes(*mixed)
        == [(("g",), [[1], True], [[1.0], 1])]
    )


# Whole comparisons: items of siblings numbered by displayOrder, so that order as order
# (inserted stage one change, a relative reorder one change on the parent) runs on both.

stage_ids = st.lists(st.sampled_from("abcdefg"), unique=True, max_size=5)


@st.composite
def pipelines(draw: st.DrawFn) -> dict[str, Any]:
    ids = draw(st.permutations(draw(stage_ids)))
    start = draw(st.integers(0, 2))
    stages = {
        i: {"label": i.upper(), "displayOrder": start + n, **draw(payloads)}
        for n, i in enumerate(ids)
    }
    return {"label": draw(st.sampled_from(["Sales", "Renewals"])), "stages": stages}


portals = st.dictionaries(
    st.sampled_from([f"pipeline:deals:p{i}" for i in range(4)]), pipelines(), max_size=4
)


def stored(portal: Mapping[str, Any]) -> tuple[dict[str, StoredItem], dict[str, Any]]:
    items, bodies = {}, {}
    for key, payload in portal.items():
        item = make_item(Kind.PIPELINE, key, payload, payload)
        items[key] = StoredItem(item.kind, key, item.canonical_hash, item.raw_hash)
        bodies[item.canonical_hash] = item.canonical
    return items, bodies


@given(portals, portals)
@settings(max_examples=200, deadline=None)
def test_a_comparison_is_the_same_with_deepdiff(a: dict[str, Any], b: dict[str, Any]) -> None:
    a_items, a_bodies = stored(a)
    b_items, b_bodies = stored(b)
    bodies = {**a_bodies, **b_bodies}

    def load(hashes: Iterable[str]) -> dict[str, Any]:
        return {h: bodies[h] for h in hashes}

    scopes = {"pipeline:deals": ()}
    walked = compare(a_items, b_items, scopes, load)
    with patch.object(compare_module, "field_changes", deepdiff_field_changes):
        oracle = compare(a_items, b_items, scopes, load)
    assert walked == oracle
