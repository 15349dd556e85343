"""A policy as the config sets it, for listing: on or off, severity, options, why."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hubaudit.config import PolicySettings
from hubaudit.model.changes import Severity
from hubaudit.policies.base import Policy


@dataclass(frozen=True)
class PolicySummary:
    """One policy with the config's settings applied."""

    id: str
    enabled: bool
    severity: Severity
    checks: str
    reason: str
    options: Mapping[str, Any]
    """The settings the config gives it (only those set)."""


def summarize(policy: Policy, configured: PolicySettings | None) -> PolicySummary:
    rules = policy.rules(configured)
    options = {
        name: value
        for name, value in (
            ("object_types", list(rules.settings.object_types or []) or None),
            ("patterns", dict(rules.settings.patterns) or None),
            ("max_days", rules.settings.max_days),
            ("max", rules.settings.max),
            ("stages", {k: list(v) for k, v in rules.settings.stages.items()} or None),
        )
        if value is not None
    }
    return PolicySummary(
        id=policy.id,
        enabled=configured is None or configured.enabled,
        severity=rules.severity,
        checks=policy.checks,
        reason=rules.reason,
        options=options,
    )
