"""The built-in architecture policies, and evaluating them on a snapshot.

Every policy runs by default; ``[policies.<id>]`` in the config changes its severity, reason and
options, or turns it off (``enabled = false``).
"""

from __future__ import annotations

from collections.abc import Mapping

from hubaudit.config import PolicySettings
from hubaudit.model.findings import Breach
from hubaudit.model.view import PortalView
from hubaudit.policies import lifecycle, people, pipelines, properties, workflows
from hubaudit.policies.base import Policy

BUILTIN_POLICIES: tuple[Policy, ...] = (
    *properties.POLICIES,
    *pipelines.POLICIES,
    *lifecycle.POLICIES,
    *workflows.POLICIES,
    *people.POLICIES,
)


POLICIES_BY_ID = {p.id: p for p in BUILTIN_POLICIES}


def enabled_policies(settings: Mapping[str, PolicySettings]) -> list[Policy]:
    return [p for p in BUILTIN_POLICIES if settings.get(p.id) is None or settings[p.id].enabled]


def evaluate(
    view: PortalView, settings: Mapping[str, PolicySettings]
) -> tuple[list[Breach], frozenset[str]]:
    """Every enabled policy's breaches in the snapshot, and the ids of the policies run."""
    breaches: list[Breach] = []
    ran = enabled_policies(settings)
    for policy in ran:
        breaches += policy.check(view, policy.rules(settings.get(policy.id)))
    return breaches, frozenset(p.id for p in ran)
