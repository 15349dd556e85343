"""The governed surface: which parts of a portal hubaudit reads, and which it cannot.

HubSpot exposes no API for some of a portal's architecture (``policies.catalog.MANUAL_AREAS``).
Those are governed by a periodic manual sign-off in the config (``[[signoff]]``): the report says
who signed each off and when, and which sign-offs are overdue or missing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta

from hubaudit.config import SignOff
from hubaudit.model.items import CoverageStatus, Kind, KindCoverage
from hubaudit.model.surface import SurfaceArea, SurfaceGovernance, SurfaceStatus
from hubaudit.policies.catalog import MANUAL_AREAS

KIND_NAMES = {
    Kind.PROPERTY: "Properties",
    Kind.PROPERTY_GROUP: "Property groups",
    Kind.PIPELINE: "Pipelines and stages",
    Kind.WORKFLOW: "Workflows",
    Kind.LIFECYCLE_STAGE: "Lifecycle stages",
    Kind.OBJECT_SCHEMA: "Custom object schemas",
    Kind.ASSOCIATION_LABEL: "Association labels and limits",
    Kind.USER: "Users",
    Kind.TEAM: "Teams",
    Kind.ROLE: "Roles",
}


def governed_surface(
    coverage: Sequence[KindCoverage], signoffs: Sequence[SignOff], now: datetime
) -> tuple[SurfaceArea, ...]:
    areas: list[SurfaceArea] = []
    for kind, name in KIND_NAMES.items():
        parts = [c for c in coverage if c.kind is kind]
        counts = Counter(c.status for c in parts)
        if not parts:
            status, detail = SurfaceStatus.NOT_READ, "no part of it was read (see the config)"
        elif counts[CoverageStatus.FAILED]:
            status = SurfaceStatus.NOT_VERIFIED
            detail = (
                f"{counts[CoverageStatus.FAILED]} of {_count(len(parts), 'part')} could not be read"
            )
        else:
            partly = [c for c in parts if c.unverified]
            status = SurfaceStatus.PARTLY_READ if partly else SurfaceStatus.READ
            detail = (
                f"{_count(sum(c.items for c in parts), 'item')} in {_count(len(parts), 'part')}"
            )
            if counts[CoverageStatus.UNSUPPORTED]:
                detail += f" ({counts[CoverageStatus.UNSUPPORTED]} not in the subscription)"
            if partly:
                missing = sorted({f for c in partly for f in c.unverified})
                detail += (
                    f"; not read: items with {', '.join(missing)} in {_count(len(partly), 'part')}"
                )
        areas.append(SurfaceArea(kind.value, name, SurfaceGovernance.READ, status, detail))
    latest: dict[str, SignOff] = {}
    for signoff in signoffs:
        if signoff.area not in latest or signoff.on >= latest[signoff.area].on:
            latest[signoff.area] = signoff
    for area_id, (name, why) in MANUAL_AREAS.items():
        found = latest.get(area_id)
        if found is None:
            areas.append(
                SurfaceArea(
                    area_id, name, SurfaceGovernance.MANUAL, SurfaceStatus.NEVER_SIGNED_OFF, why
                )
            )
            continue
        signed = datetime.combine(found.on, time(), tzinfo=UTC)
        due = signed + timedelta(days=found.every_days)
        status = SurfaceStatus.SIGNED_OFF if now < due else SurfaceStatus.OVERDUE
        detail = why + (f"; {found.note}" if found.note else "")
        areas.append(
            SurfaceArea(
                area_id, name, SurfaceGovernance.MANUAL, status, detail, found.by, signed, due
            )
        )
    return tuple(areas)


def _count(n: int, word: str) -> str:
    """``1 part``, ``3 parts``."""
    return f"{n} {word}{'' if n == 1 else 's'}"
