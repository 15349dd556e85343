"""Looking back: one item's stored versions, an item at a point in time, the diff between two
points, and what depends on an item. Everything reads the store only (no HubSpot call), through
:mod:`hubaudit.services.timetravel` and :mod:`hubaudit.services.latest`, so it works offline
and on pruned databases.

A point is named as :data:`~hubaudit.services.timetravel.POINT_HELP` says (``latest``, a
snapshot id, a date or time, ``baseline`` or ``baseline:N``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hubaudit.config import SeverityOverride
from hubaudit.errors import UsageError
from hubaudit.keys import key_problem
from hubaudit.model.history import Diff, HistoryEntry, ItemAtPoint
from hubaudit.policies.severity import rules_with
from hubaudit.services.timetravel import (
    diff_points,
    item_at,
    item_history,
    resolve_point,
    snapshot_point,
    snapshot_view,
)
from hubaudit.store.keys import key_ever_held, unknown_key
from hubaudit.store.reads import StoreReader

if TYPE_CHECKING:
    from hubaudit.analysis.dependencies import Impact

__all__ = ["IMPACT_DEPTHS", "ItemHistory", "diff", "history", "impact", "show"]

IMPACT_DEPTHS = range(1, 6)
"""How many levels of dependents :func:`impact` may follow."""


@dataclass(frozen=True)
class ItemHistory:
    """Every stored version of one item, oldest first, with how it came and went."""

    portal: str
    key: str
    entries: tuple[HistoryEntry, ...]


def history(store: StoreReader, portal: str, key: str) -> ItemHistory:
    """Every stored version of ``key`` in ``portal``; an error if none was ever stored."""
    return ItemHistory(portal, key, tuple(item_history(store, portal, key)))


def show(store: StoreReader, portal: str, key: str, point: str = "latest") -> ItemAtPoint:
    """``key`` as the point ``point`` holds it (a part that point could not read stands in from
    the last complete read, and says so)."""
    return item_at(store, portal, resolve_point(store, portal, point), key)


def diff(
    store: StoreReader,
    portal: str,
    before: str,
    after: str,
    severity_overrides: Sequence[SeverityOverride] = (),
) -> Diff:
    """The changes from point ``before`` to point ``after``, rated by the default severity
    rules with ``severity_overrides`` first."""
    return diff_points(
        store,
        portal,
        resolve_point(store, portal, before),
        resolve_point(store, portal, after),
        rules_with(severity_overrides),
    )


def impact(
    store: StoreReader, portal: str, key: str, snapshot: str = "latest", depth: int = 3
) -> Impact:
    """What depends on ``key`` in the snapshot ``snapshot`` (``latest`` or an id), ``depth``
    levels deep. A key that is malformed, or that the portal never held and nothing points to,
    is an error: "nothing depends on it" would read as "safe to delete" for a typo."""
    from hubaudit.analysis.dependencies import Impact, build_graph  # impact's alone

    if depth not in IMPACT_DEPTHS:
        raise UsageError(
            f"impact follows {IMPACT_DEPTHS.start} to {IMPACT_DEPTHS.stop - 1} levels, not {depth}"
        )
    problem = key_problem(key)
    if problem is not None:
        raise UsageError(problem)
    point = snapshot_point(store, portal, snapshot)
    view = snapshot_view(store, point)
    graph = build_graph(view)
    direct = tuple(graph.dependents(key))
    present = key in view.items
    if not present and not direct and not key_ever_held(store, portal, key):
        raise UsageError(unknown_key(store, portal, key))
    return Impact(
        portal=portal,
        key=key,
        point=point,
        in_snapshot=present,
        label=view.items[key].label if present else None,
        direct=direct,
        tree=tuple(graph.tree(key, depth)),
    )
