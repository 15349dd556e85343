"""The ``policies list`` output: the architecture policies and their settings, as text and JSON."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hubaudit.report.escape import terminal_safe

if TYPE_CHECKING:
    from hubaudit.policies.summary import PolicySummary


def policies_document(policies: Sequence[PolicySummary]) -> list[dict[str, Any]]:
    """One JSON object per policy: id, enabled, severity, checks, reason, options."""
    return [
        {
            "id": p.id,
            "enabled": p.enabled,
            "severity": p.severity.value,
            "checks": p.checks,
            "reason": p.reason,
            "options": dict(p.options),
        }
        for p in policies
    ]


def policies_lines(policies: Sequence[PolicySummary]) -> list[str]:
    """A line per policy (on/off, id, severity, what it checks) and one for its options."""
    lines = []
    for p in policies:
        state = "on " if p.enabled else "off"
        lines.append(f"{state} {p.id:<30} {p.severity.value:<8} {p.checks}")
        if p.options:
            options = json.dumps(dict(p.options), sort_keys=True)
            lines.append(f"      options: {terminal_safe(options)}")
    return lines


def policies_json(policies: Sequence[PolicySummary]) -> str:
    return json.dumps(policies_document(policies), indent=2) + "\n"
