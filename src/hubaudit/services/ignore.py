"""Ignore rules: suggestions drawn from what drifts now (the latest snapshot against the approved
baseline), for changes no rule ignores yet; and the check of a rules file against the latest
audit, which records nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from hubaudit.errors import NoAuditReport, UsageError
from hubaudit.model.baselines import BaselineInfo
from hubaudit.model.changes import Change
from hubaudit.model.history import Point
from hubaudit.model.items import SnapshotInfo
from hubaudit.store.repository import Store

if TYPE_CHECKING:
    from hubaudit.config import ImpactConfig
    from hubaudit.governance.ignore import IgnoreRule, RuleMatches
    from hubaudit.model.audit_result import AuditResult
    from hubaudit.policies.severity import SeverityRule


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


def suggest_ignore_rules(
    store: Store,
    portal: str,
    ignore_file: Path | None,
    severity_rules: Sequence[SeverityRule] | None = None,
    impact: ImpactConfig | None = None,
) -> IgnoreSuggestions:
    """Compare the latest snapshot (its stand-ins for parts it could not read) with the latest
    approved baseline and suggest rules for what drifts and ``ignore_file`` does not ignore.

    Each change is judged as an audit judges it (the severity rules, then the raise for the
    workflows that depend on it), so critical drift is never suggested."""
    from hubaudit.analysis.compare import compare
    from hubaudit.analysis.dependencies import build_graph
    from hubaudit.config import ImpactConfig
    from hubaudit.governance.ignore import ignored_by, load_ignore_rules, suggest_rules
    from hubaudit.policies.impact import with_impact
    from hubaudit.policies.severity import DEFAULT_RULES, with_severity
    from hubaudit.services.baselines import latest_approved
    from hubaudit.services.latest import latest_point
    from hubaudit.services.timetravel import point_items, snapshot_view

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
    severities = DEFAULT_RULES if severity_rules is None else severity_rules
    changes = [with_severity(c, severities) for c in comparison.changes]
    if changes:
        graph = build_graph(snapshot_view(store, point))
        changes = with_impact(changes, graph, impact or ImpactConfig())
    drifting = tuple(c for c in changes if ignored_by(c, rules) is None)
    return IgnoreSuggestions(baseline, point, drifting, suggest_rules(drifting))


@dataclass(frozen=True)
class IgnoreCheck:
    """A rules file that is valid, and what each rule decides in the portal's latest audit."""

    file: Path
    rules: tuple[IgnoreRule, ...]
    audit: AuditResult | None
    """The latest audit of the portal with a stored report; ``None`` before the first."""
    matches: tuple[RuleMatches, ...]


def check_ignore_file(open_store: Callable[[], Store], portal: str, path: Path) -> IgnoreCheck:
    """Read the rules file (every mistake is a ConfigError with its file, line and key), then
    open the store and apply the rules to every change of the portal's latest audit, as that
    audit judged them (severity and impact included). Reads only: no run is recorded, no defect
    or report is touched; a broken file is reported before the database is opened."""
    from hubaudit.governance.ignore import load_ignore_rules, rule_matches
    from hubaudit.services.reports import run_report

    rules = load_ignore_rules(path)
    try:
        audit = run_report(open_store(), portal)
    except NoAuditReport:
        audit = None
    changes = audit.changes if audit is not None else ()
    return IgnoreCheck(path, rules, audit, rule_matches(rules, changes))
