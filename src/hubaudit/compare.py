"""Baseline vs snapshot → changes. Hashes first; deepdiff at field level only where a hash differs.

Only parts that the baseline governs *and* that the snapshot read completely are compared: an
item of a part that failed to read is never reported as removed.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from deepdiff import DeepDiff

from hubaudit.model import Change, ChangeOp, JSONValue, Kind, StoredItem

PayloadLoader = Callable[[Iterable[str]], Mapping[str, Mapping[str, JSONValue]]]
Path = tuple[str | int, ...]

_MISSING = object()


def scope_of(key: str, scopes: Collection[str]) -> str | None:
    """The part of ``scopes`` holding ``key`` (``property:deals`` for ``property:deals:x``)."""
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
        for path, old, new in field_changes(before, after):
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
    changes.sort(key=lambda c: (c.key, c.field or ""))
    return Comparison(changes, unverified)


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
    """Field-level differences. A list that differs is one change of the whole list (lists
    that carry identity were made into maps by the canonical form). Absent is ``None``."""
    # threshold 0: always go down to the keys, never replace a whole map that changed a lot
    # ignore_private_variables off: a key such as "__x" is data here, not a private attribute
    diff = DeepDiff(
        before,
        after,
        view="tree",
        verbose_level=2,
        threshold_to_diff_deeper=0,
        ignore_private_variables=False,
    )
    paths: dict[Path, None] = {}
    for levels in diff.values():
        for level in levels:
            raw_path = tuple(level.path(output_format="list"))
            paths[_up_to_first_list(raw_path, before, after)] = None
    result = []
    for path in sorted(paths, key=lambda p: tuple(str(part) for part in p)):
        old = _resolve(before, path)
        new = _resolve(after, path)
        result.append((path, None if old is _MISSING else old, None if new is _MISSING else new))
    return result


def _up_to_first_list(path: Path, before: Any, after: Any) -> Path:
    for end in range(len(path)):
        prefix = path[:end]
        if isinstance(_resolve(before, prefix), list) or isinstance(_resolve(after, prefix), list):
            return prefix
    return path


def apply_changes(payload: Mapping[str, Any] | None, changes: Iterable[Change]) -> Any:
    """Replay one item's changes on its baseline payload: the result is the snapshot's canonical
    payload (``None`` for a removed item). The changes' paths say exactly where."""
    result: Any = copy.deepcopy(dict(payload)) if payload is not None else None
    for change in changes:
        if change.op is ChangeOp.ADDED:
            result = copy.deepcopy(change.after)
        elif change.op is ChangeOp.REMOVED:
            result = None
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


def value_at(payload: Any, path: Path) -> JSONValue:
    """The value at ``path`` in a canonical payload, ``None`` where there is none."""
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
