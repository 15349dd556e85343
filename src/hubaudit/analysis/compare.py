"""Baseline vs snapshot → changes. Hashes first; a walk at field level only where a hash differs.

Only parts that the baseline governs *and* that the snapshot read completely are compared: an
item of a part that failed to read is never reported as removed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from hubaudit.model.changes import Change, ChangeOp
from hubaudit.model.items import JSONValue, Kind, StoredItem

PayloadLoader = Callable[[Iterable[str]], Mapping[str, Mapping[str, JSONValue]]]
Path = tuple[str | int, ...]

_MISSING = object()


def scope_of(key: str, scopes: Collection[str]) -> str | None:
    """The part of ``scopes`` holding ``key`` (``property:deals`` for ``property:deals:x``).

    A part's own key (``pipeline:deals``, where the order of its pipelines is reported) is in it.
    """
    if key in scopes:
        return key
    end = key.rfind(":")
    while end > 0:
        if key[:end] in scopes:
            return key[:end]
        end = key.rfind(":", 0, end)
    return None


@dataclass(frozen=True)
class Comparison:
    changes: list[Change]
    unverified_keys: frozenset[str] = frozenset()
    """Baseline items absent from the snapshot that its part did not read (e.g. sensitive
    properties without the scope to see them): neither removed nor verified."""


def compare(
    baseline: Mapping[str, StoredItem],
    snapshot: Mapping[str, StoredItem],
    comparable_scopes: Mapping[str, Collection[str]],
    load_payloads: PayloadLoader,
) -> Comparison:
    """Every difference between two sets of items, sorted by key.

    ``comparable_scopes`` maps each part to compare to its ``field=value`` filters of items that
    part could not read; a baseline item that matches one and is absent is not reported removed.
    """
    scopes = frozenset(comparable_scopes)
    absent = [k for k in baseline if k not in snapshot and scope_of(k, scopes)]
    added = [k for k in snapshot if k not in baseline and scope_of(k, scopes)]
    modified = [
        k
        for k, item in snapshot.items()
        if k in baseline
        and baseline[k].canonical_hash != item.canonical_hash
        and scope_of(k, scopes)
    ]
    hashes = {baseline[k].canonical_hash for k in absent + modified}
    hashes |= {snapshot[k].canonical_hash for k in added + modified}
    payloads = load_payloads(hashes)
    unverified = frozenset(
        k
        for k in absent
        if matches_any(
            payloads[baseline[k].canonical_hash], comparable_scopes[scope_of(k, scopes) or ""]
        )
    )
    removed = [k for k in absent if k not in unverified]

    changes: list[Change] = []
    reorders: dict[str, list[str]] = {}
    for key in removed:
        before = payloads[baseline[key].canonical_hash]
        changes.append(_whole(baseline[key].kind, key, ChangeOp.REMOVED, before, None, before))
    for key in added:
        after = payloads[snapshot[key].canonical_hash]
        changes.append(_whole(snapshot[key].kind, key, ChangeOp.ADDED, None, after, after))
    for key in modified:
        before = payloads[baseline[key].canonical_hash]
        after = payloads[snapshot[key].canonical_hash]
        label = _label(after) or _label(before)
        for path, old, new in fold_order(field_changes(before, after), before, after):
            if path == (ORDER_FIELD,) and snapshot[key].kind in SIBLING_ORDER:
                reorders.setdefault(key.rsplit(":", 1)[0], []).append(key)
                continue
            changes.append(
                Change(
                    kind=snapshot[key].kind,
                    key=key,
                    op=ChangeOp.MODIFIED,
                    field=dotted(path),
                    path=path,
                    before=old,
                    after=new,
                    label=label,
                )
            )
    changes += sibling_order(reorders, baseline, snapshot, load_payloads)
    changes.sort(key=lambda c: (c.key, c.field or ""))
    return Comparison(changes, unverified)


# Order as order -------------------------------------------------------------------------------
# HubSpot numbers siblings (a pipeline's stages, a property's options, an object type's pipelines,
# the lifecycle stages) with ``displayOrder``: inserting or removing one renumbers the rest. The
# numbers are not compared; the relative order of the siblings on both sides is, and a change of
# it is one change on the parent, with the siblings' labels in order before and after.

ORDER_FIELD = "displayOrder"
ORDER_SUFFIX = " order"
SIBLING_ORDER = {Kind.PIPELINE: "pipelines", Kind.LIFECYCLE_STAGE: "stages"}
"""Kinds whose items are siblings under their part, and what the part calls them."""

Orders = dict[str, tuple[float, str]]


def fold_order(
    changes: list[tuple[Path, JSONValue, JSONValue]], before: Any, after: Any
) -> list[tuple[Path, JSONValue, JSONValue]]:
    """One item's field changes with its siblings' renumbering folded: a ``displayOrder`` that
    moved only because a sibling came or went is dropped; a change of relative order is one
    ``<siblings> order`` change (labels in order, before and after) beside the map."""
    parents: dict[Path, None] = {}
    for path, old, new in changes:
        if len(path) >= 3 and path[-1] == ORDER_FIELD and old is not None and new is not None:
            parents[path[:-2]] = None
    folded: set[Path] = set()
    orders: list[tuple[Path, JSONValue, JSONValue]] = []
    for parent in parents:
        if not isinstance(parent[-1], str):
            continue
        was = sibling_orders(_resolve(before, parent))
        now = sibling_orders(_resolve(after, parent))
        if was is None or now is None:
            continue  # not a map of numbered siblings: its changes stay as they are
        folded |= {(*parent, ident, ORDER_FIELD) for ident in was.keys() & now.keys()}
        if reordered(was, now):
            orders.append((order_path(parent), ordered_labels(was), ordered_labels(now)))
    return [c for c in changes if c[0] not in folded] + orders


def order_path(siblings: Path) -> Path:
    """Where the order of the siblings at ``siblings`` is reported: ``stages order``."""
    return (*siblings[:-1], f"{siblings[-1]}{ORDER_SUFFIX}")


def _siblings_path(path: Path) -> Path | None:
    if path and isinstance(path[-1], str) and path[-1].endswith(ORDER_SUFFIX):
        return (*path[:-1], path[-1][: -len(ORDER_SUFFIX)])
    return None


def sibling_orders(value: Any) -> Orders | None:
    """Each sibling's ``displayOrder`` and label, when ``value`` is a map of numbered siblings."""
    if not isinstance(value, Mapping) or not value:
        return None
    result: Orders = {}
    for ident, entry in value.items():
        number = entry.get(ORDER_FIELD) if isinstance(entry, Mapping) else None
        if isinstance(number, bool) or not isinstance(number, int | float):
            return None
        label = entry.get("label")
        result[str(ident)] = (number, label if isinstance(label, str) and label else str(ident))
    return result


def reordered(was: Orders, now: Orders) -> bool:
    """Did two siblings present on both sides swap places? Renumbering alone is no reorder, and
    neither is a tie on one side (two siblings with one number are in no order)."""
    common = sorted(was.keys() & now.keys(), key=lambda i: (was[i][0], now[i][0]))
    return any(now[a][0] > now[b][0] for a, b in pairwise(common))


def ordered_labels(orders: Orders) -> list[str]:
    return [orders[i][1] for i in sorted(orders, key=lambda i: (orders[i][0], i))]


def sibling_order(
    reorders: Mapping[str, list[str]],
    baseline: Mapping[str, StoredItem],
    snapshot: Mapping[str, StoredItem],
    load_payloads: PayloadLoader,
) -> list[Change]:
    """Sibling items (pipelines, lifecycle stages) whose ``displayOrder`` changed: one change on
    their part when their relative order changed, none when they were only renumbered."""
    changes: list[Change] = []
    for parent, moved in sorted(reorders.items()):
        kind = snapshot[moved[0]].kind
        prefix = parent + ":"
        sides = [siblings_in(items, parent, kind, load_payloads) for items in (baseline, snapshot)]
        was, now = (sibling_orders(side) for side in sides)
        if was is None or now is None:  # not all numbered: each number change is a change
            for key in moved:
                old, new = (side[key[len(prefix) :]].get(ORDER_FIELD) for side in sides)
                changes.append(
                    Change(kind, key, ChangeOp.MODIFIED, ORDER_FIELD, (ORDER_FIELD,), old, new)
                )
            continue
        if reordered(was, now):
            field = f"{SIBLING_ORDER[kind]}{ORDER_SUFFIX}"
            changes.append(
                Change(
                    kind=kind,
                    key=parent,
                    op=ChangeOp.MODIFIED,
                    field=field,
                    path=(field,),
                    before=ordered_labels(was),
                    after=ordered_labels(now),
                )
            )
    return changes


def matches_any(payload: Mapping[str, Any], filters: Collection[str]) -> bool:
    """Does the payload match one of a part's ``field=value`` filters of items not read?"""
    for condition in filters:
        name, _, value = condition.partition("=")
        actual = payload.get(name)
        text = json.dumps(actual) if isinstance(actual, bool) else str(actual)
        if text == value:
            return True
    return False


def _whole(
    kind: Kind, key: str, op: ChangeOp, before: Any, after: Any, payload: Mapping[str, Any]
) -> Change:
    return Change(
        kind=kind,
        key=key,
        op=op,
        field=None,
        path=(),
        before=before,
        after=after,
        label=_label(payload),
    )


def _label(payload: Mapping[str, Any]) -> str | None:
    label = payload.get("label")
    return label if isinstance(label, str) else None


def dotted(path: Path) -> str:
    return ".".join(str(part) for part in path)


def field_changes(
    before: Mapping[str, Any], after: Mapping[str, Any]
) -> list[tuple[Path, JSONValue, JSONValue]]:
    """Field-level differences, sorted by path, from one walk over both canonical forms.

    Maps are gone into key by key; a list that differs is one change of the whole list (lists
    that carry identity were made into maps by the canonical form); two values of different
    types differ (``1`` is not ``1.0``, ``True`` is not ``1``). Absent is ``None``. DeepDiff
    gives the same changes (tests/test_compare_properties.py checks it on random pairs)."""
    found: list[tuple[Path, JSONValue, JSONValue]] = []
    _walk(before, after, (), found)
    found.sort(key=lambda change: tuple(str(part) for part in change[0]))
    return found


def _walk(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    path: Path,
    found: list[tuple[Path, JSONValue, JSONValue]],
) -> None:
    for key, old in before.items():
        if key not in after:
            found.append(((*path, key), old, None))
            continue
        new = after[key]
        if old is new:
            continue
        if type(old) is not type(new):
            found.append(((*path, key), old, new))
        elif isinstance(old, Mapping):
            _walk(old, new, (*path, key), found)
        elif isinstance(old, list):
            if not same(old, new):
                found.append(((*path, key), old, new))
        elif old != new:
            found.append(((*path, key), old, new))
    for key, new in after.items():
        if key not in before:
            found.append(((*path, key), None, new))


_BASIC = (str, bytes, int, float, type(None))


def same(a: Any, b: Any) -> bool:
    """Do two values hold no difference at any field? Values of different types differ (``1``
    is not ``1.0``), except inside a list of plain values, compared as Python compares them
    (``[1]`` is ``[1.0]``): the rules DeepDiff follows, so that the changes are the ones it
    gave before the walk replaced it."""
    if a is b:
        return True
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        if all(isinstance(x, _BASIC) for x in a) and all(isinstance(y, _BASIC) for y in b):
            return bool(a == b)
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, Mapping):
        return a.keys() == b.keys() and all(same(value, b[key]) for key, value in a.items())
    return bool(a == b)


def apply_changes(payload: Mapping[str, Any] | None, changes: Iterable[Change]) -> Any:
    """Replay one item's changes on its baseline payload: the result is the snapshot's canonical
    payload (``None`` for a removed item). The changes' paths say exactly where."""
    result: Any = copy.deepcopy(dict(payload)) if payload is not None else None
    for change in changes:
        if change.op is ChangeOp.ADDED:
            result = copy.deepcopy(change.after)
        elif change.op is ChangeOp.REMOVED:
            result = None
        elif (siblings := _siblings_path(change.path)) is not None and isinstance(
            _resolve(result, siblings), Mapping
        ):
            _renumber(_resolve(result, siblings), change.after)
        else:
            *parents, last = change.path
            target = result
            for part in parents:
                target = target.setdefault(part, {})
            if change.after is None:
                target.pop(last, None)
            else:
                target[last] = copy.deepcopy(change.after)
    return result


def siblings_in(
    items: Mapping[str, StoredItem], part: str, kind: Kind, load_payloads: PayloadLoader
) -> dict[str, Mapping[str, JSONValue]]:
    """The payloads of a part's items of one kind, by their id within the part."""
    prefix = part + ":"
    held = {k: i for k, i in items.items() if k.startswith(prefix) and i.kind is kind}
    payloads = load_payloads({i.canonical_hash for i in held.values()})
    return {k[len(prefix) :]: payloads[i.canonical_hash] for k, i in held.items()}


def part_order(
    items: Mapping[str, StoredItem], part: str, path: Path, load_payloads: PayloadLoader
) -> list[str] | None:
    """At a part's ``<siblings> order`` path (``lifecycle_stage:contacts``, ``stages order``),
    the labels of its items in order; ``None`` for any other path or part."""
    kind = next(
        (k for k, noun in SIBLING_ORDER.items() if path == (f"{noun}{ORDER_SUFFIX}",)), None
    )
    if kind is None or not part.startswith(f"{kind.value}:"):
        return None
    orders = sibling_orders(siblings_in(items, part, kind, load_payloads))
    return None if orders is None else ordered_labels(orders)


def _renumber(siblings: dict[str, Any], labels: Any) -> None:
    """Put the siblings in the order ``labels`` names, keeping the numbers they hold."""
    orders = sibling_orders(siblings)
    if orders is None or not isinstance(labels, list):
        return
    free = sorted(orders, key=lambda i: (orders[i][0], i))
    placed: list[str] = []
    for label in labels:
        ident = next((i for i in free if orders[i][1] == label), None)
        if ident is not None:
            free.remove(ident)
            placed.append(ident)
    numbers = sorted(orders[i][0] for i in placed)
    for ident, number in zip(placed, numbers, strict=True):
        siblings[ident][ORDER_FIELD] = number


def value_at(payload: Any, path: Path) -> JSONValue:
    """The value at ``path`` in a canonical payload, ``None`` where there is none; at an
    ``<siblings> order`` path, the siblings' labels in order."""
    siblings = _siblings_path(path)
    if siblings is not None:
        orders = sibling_orders(_resolve(payload, siblings))
        if orders is not None:
            return ordered_labels(orders)
    found = _resolve(payload, path)
    return None if found is _MISSING else found


def _resolve(value: Any, path: Path) -> Any:
    for part in path:
        in_map = isinstance(value, Mapping) and part in value
        in_list = isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value)
        if in_map or in_list:
            value = value[part]
        else:
            return _MISSING
    return value
