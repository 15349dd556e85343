"""The architecture policies as the config sets them."""

from __future__ import annotations

from collections.abc import Mapping

from hubaudit.config import PolicySettings
from hubaudit.policies.builtin import BUILTIN_POLICIES
from hubaudit.policies.summary import PolicySummary, summarize


def policy_summaries(settings: Mapping[str, PolicySettings]) -> tuple[PolicySummary, ...]:
    """Every built-in policy, in the order the audit judges them, as ``settings`` (the config's
    ``[policies.*]`` tables) set it."""
    return tuple(summarize(policy, settings.get(policy.id)) for policy in BUILTIN_POLICIES)
