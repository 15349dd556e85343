"""Governance KPIs over a period."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class WeekCount:
    week: str  # ISO week, "2026-W48"
    unplanned: int
    planned: int


@dataclass(frozen=True)
class Kpis:
    """Governance KPIs of one portal over a period: are we getting more governed or less?"""

    since: datetime
    until: datetime
    weeks: tuple[WeekCount, ...]
    unplanned: int
    planned: int
    mean_days_to_resolve: float | None
    resolved: int
    open_by_age: Mapping[str, int]
    """Open defects by age: ``0-7 days``, ``8-30 days``, ``31-90 days``, ``over 90 days``."""
    top_changers: tuple[tuple[str, int], ...]
    """Who made the most changes in the period (HubSpot's attribution), most first."""
    documented: int
    custom_properties: int
    under_baseline: int
    items: int
    vendor: int = 0
    """Changes HubSpot made to its own definitions (``vendor``), each once, in the period."""

    @property
    def planned_share(self) -> float | None:
        total = self.planned + self.unplanned
        return self.planned / total if total else None

    @property
    def documentation_coverage(self) -> float | None:
        return self.documented / self.custom_properties if self.custom_properties else None

    @property
    def baseline_share(self) -> float | None:
        return self.under_baseline / self.items if self.items else None
