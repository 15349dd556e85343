"""Impact: what depends on each changed item, and how that raises its severity.

A change carries the dependents of its item in the snapshot (for a change inside one pipeline
stage, what uses that stage). Its severity rises one step for each ``[impact] raise_at``
threshold of dependent workflows that are on it reaches, up to critical: a changed option on
a property forty workflows read is an emergency, a new unused field is not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from hubaudit.analysis.dependencies import DependencyGraph, workflow_count
from hubaudit.config import ImpactConfig
from hubaudit.model.changes import Change, Severity

_ORDER = (Severity.INFO, Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL)


def raised(severity: Severity, steps: int) -> Severity:
    return _ORDER[min(len(_ORDER) - 1, _ORDER.index(severity) + steps)]


def with_impact(
    changes: Sequence[Change], graph: DependencyGraph, impact: ImpactConfig
) -> list[Change]:
    result = []
    for change in changes:
        dependents = graph.dependents_of_change(change)
        workflows = workflow_count(dependents, active_only=True)  # a workflow that is off waits
        steps = sum(1 for threshold in impact.raise_at if workflows >= threshold)
        severity = raised(change.severity, steps)
        result.append(
            replace(
                change,
                dependents=dependents,
                severity=severity,
                raised_by_impact=_ORDER.index(severity) - _ORDER.index(change.severity),
            )
        )
    return result
