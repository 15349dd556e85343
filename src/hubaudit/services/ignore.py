"""Ignore rules: suggestions drawn from what drifts now (the latest snapshot against the approved
baseline), for changes no rule ignores yet. Issue 16's rule check will sit beside them."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hubaudit.errors import UsageError
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change
from hubaudit.model.history import Point
from hubaudit.model.items import SnapshotInfo
from hubaudit.store.repository import Store


@dataclass(frozen=True)
class IgnoreSuggestions:
    """Rules (TOML, reasons left for a person to write) for the changes no rule ignores yet."""

    baseline: BaselineInfo
    point: Point
    drifting: tuple[Change, ...]
    rules: str

    @property
    def snapshot(self) -> SnapshotInfo:
        assert self.point.snapshot is not None
        return self.point.snapshot


def suggest_ignore_rules(store: Store, portal: str, ignore_file: Path | None) -> IgnoreSuggestions:
    """Compare the latest snapshot (its stand-ins for parts it could not read) with the latest
    approved baseline and suggest rules for what drifts and ``ignore_file`` does not ignore."""
    from hubaudit.analysis.compare import compare
    from hubaudit.governance.ignore import ignored_by, load_ignore_rules, suggest_rules
    from hubaudit.services.baselines import latest_approved
    from hubaudit.services.latest import latest_point
    from hubaudit.services.timetravel import point_items

    baseline = latest_approved(store, portal)
    point = latest_point(store, portal)
    if point is None:
        raise UsageError(f"portal {portal!r} has no snapshot yet")
    complete = point.scopes
    comparable = {s: complete[s] for s in baseline.scopes if s in complete}
    comparison = compare(
        store.baseline_items(baseline.id),
        point_items(store, point),
        comparable,
        store.load_payloads,
    )
    rules = load_ignore_rules(ignore_file) if ignore_file is not None else ()
    drifting = tuple(c for c in comparison.changes if ignored_by(c, rules) is None)
    return IgnoreSuggestions(baseline, point, drifting, suggest_rules(drifting))
