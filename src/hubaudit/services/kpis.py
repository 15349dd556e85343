"""Governance KPIs of a portal over a period: are we getting more governed or less?

- unplanned and planned changes per ISO week: each change (by fingerprint) once, in the week an
  audit first saw it, as what it was then (a defect, or planned by a change request); a
  change later waived, or planned after the fact, is still the unplanned change it was;
- the share of changes that were planned;
- HubSpot's own changes (``vendor``), counted apart: neither unplanned nor planned;
- the mean time from a defect's first sighting to its resolution, for defects resolved in the
  period (reverted, accepted, or resolved by hand);
- open defects by age at the end of the period (those first seen by then and not resolved by
  then; a defect waived now is left out);
- who made the most of those changes (HubSpot's attribution of each);
- documentation coverage: live custom properties with a description;
- the share of the portal under baseline: the snapshot's items the approved baseline holds.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from hubaudit.errors import UsageError
from hubaudit.model.defects import DefectStatus
from hubaudit.model.history import Point
from hubaudit.model.items import Kind
from hubaudit.model.kpis import Kpis, WeekCount
from hubaudit.model.view import PortalView
from hubaudit.services.latest import latest_point
from hubaudit.services.timetravel import snapshot_view
from hubaudit.store.reports import ReportStore, Sighting
from hubaudit.store.repository import Store

AGE_BUCKETS = (("0-7 days", 7), ("8-30 days", 30), ("31-90 days", 90), ("over 90 days", None))
TOP_CHANGERS = 5
DEFAULT_WEEKS = 12
DECISIVE = frozenset({"defect", "planned", "vendor"})
"""What a change was when first seen; ignored changes are not changes the council counts, and
a waived one was a defect first."""


def iso_week(moment: datetime) -> str:
    year, week, _day = moment.isocalendar()
    return f"{year}-W{week:02d}"


def default_since(until: datetime, weeks: int = DEFAULT_WEEKS) -> datetime:
    """The Monday (00:00 UTC) that starts ``weeks`` whole ISO weeks ending with ``until``'s."""
    monday = until.astimezone(UTC).date() - timedelta(days=until.astimezone(UTC).weekday())
    return datetime.combine(monday - timedelta(weeks=weeks - 1), time(), UTC)


def weeks_between(since: datetime, until: datetime) -> list[str]:
    weeks: list[str] = []
    moment = since
    while moment <= until:
        if iso_week(moment) not in weeks:
            weeks.append(iso_week(moment))
        moment += timedelta(days=1)
    if iso_week(until) not in weeks:
        weeks.append(iso_week(until))
    return weeks


@dataclass(frozen=True)
class PortalKpis:
    """A portal's governance KPIs from ``since`` to ``until``, and the snapshot point they read
    the portal from (``None`` before its first snapshot)."""

    portal: str
    point: Point | None
    kpis: Kpis


def portal_kpis(
    store: Store, portal: str, since: datetime | None, until: datetime, *, reuse: bool = False
) -> PortalKpis:
    """The KPIs of ``portal`` over the period (``since`` defaults to the KPIs' usual number of
    weeks before ``until``). ``reuse``: keep the snapshot's surface (the part read from its
    items) in this process, for as long as the same snapshot and baseline are the latest — a
    long-running reader such as the web app reads 20,000 items once, not on every page."""
    start = since if since is not None else default_since(until)
    if start >= until:
        raise UsageError(
            f"the period starts ({start:%Y-%m-%d %H:%M} UTC) after it ends "
            f"({until:%Y-%m-%d %H:%M} UTC)"
        )
    point = latest_point(store, portal) if portal in store.portal_names() else None
    baseline = store.latest_baseline(portal) if point is not None else None
    key = (
        str(store.engine.url),
        portal,
        None if point is None or point.snapshot is None else point.snapshot.id,
        () if point is None else tuple(s.snapshot.id for s in point.stand_ins if s.snapshot),
        None if baseline is None else baseline.id,
    )
    with _SURFACES_LOCK:
        surface = _SURFACES.get(key) if reuse else None
    if surface is None:
        view = snapshot_view(store, point) if point is not None else None
        keys = set(store.baseline_items(baseline.id)) if baseline is not None else set()
        surface = surface_of(view, keys)
        if reuse:
            with _SURFACES_LOCK:
                _SURFACES[key] = surface
                while len(_SURFACES) > SURFACES_KEPT:
                    _SURFACES.pop(next(iter(_SURFACES)))
    return PortalKpis(portal, point, kpis_over(store, portal, surface, start, until))


SURFACES_KEPT = 64
_SURFACES: dict[tuple[object, ...], Surface] = {}
_SURFACES_LOCK = threading.Lock()


@dataclass(frozen=True)
class Surface:
    """What the KPIs read of a snapshot: its custom properties (and those described), its
    items, and those the approved baseline holds. The same for as long as the snapshot and the
    baseline are the latest, since neither changes once stored."""

    documented: int = 0
    custom_properties: int = 0
    under_baseline: int = 0
    items: int = 0


def surface_of(view: PortalView | None, baseline_keys: Collection[str]) -> Surface:
    if view is None:
        return Surface()
    documented = custom = 0
    for item in view.of_kind(Kind.PROPERTY):
        canonical = item.canonical
        if canonical.get("hubspotDefined") is True or canonical.get("archived") is True:
            continue
        custom += 1
        description = canonical.get("description")
        documented += bool(isinstance(description, str) and description.strip())
    under = sum(1 for key in view.items if key in baseline_keys)
    return Surface(documented, custom, under, len(view.items))


def governance_kpis(
    store: Store,
    portal: str,
    view: PortalView | None,
    baseline_keys: Collection[str],
    since: datetime,
    until: datetime,
) -> Kpis:
    return kpis_over(store, portal, surface_of(view, baseline_keys), since, until)


def kpis_over(
    store: Store, portal: str, surface: Surface, since: datetime, until: datetime
) -> Kpis:
    """The KPIs from ``since`` to ``until``, with the snapshot's ``surface``."""
    first: dict[str, Sighting] = {}
    who: dict[str, str] = {}
    for sighting in ReportStore(store).sightings(portal, until):
        if sighting.classification in DECISIVE:
            first.setdefault(sighting.fingerprint, sighting)
        if sighting.changed_by:
            who.setdefault(sighting.fingerprint, sighting.changed_by)
    counted = [s for s in first.values() if s.first_seen_at >= since]
    weeks = {week: Counter[str]() for week in weeks_between(since, until)}
    for sighting in counted:
        weeks.setdefault(iso_week(sighting.first_seen_at), Counter())[sighting.classification] += 1
    changers = Counter(who[s.fingerprint] for s in counted if s.fingerprint in who)
    defects = ReportStore(store).defect_times(portal)
    resolved = [
        d
        for d in defects
        if d.status in (DefectStatus.RESOLVED, DefectStatus.ACCEPTED)
        and d.resolved_at is not None
        and since <= d.resolved_at <= until
    ]
    durations = [
        (d.resolved_at - d.first_seen_at).total_seconds() / 86400
        for d in resolved
        if d.resolved_at is not None
    ]
    ages = Counter[str]()
    for d in defects:
        open_then = d.first_seen_at <= until and (d.resolved_at is None or d.resolved_at > until)
        if open_then and d.status is not DefectStatus.WAIVED:
            days = (until - d.first_seen_at).days
            ages[next(name for name, top in AGE_BUCKETS if top is None or days <= top)] += 1
    return Kpis(
        since=since,
        until=until,
        weeks=tuple(
            WeekCount(week, counts["defect"], counts["planned"])
            for week, counts in sorted(weeks.items())
        ),
        unplanned=sum(1 for s in counted if s.classification == "defect"),
        planned=sum(1 for s in counted if s.classification == "planned"),
        mean_days_to_resolve=sum(durations) / len(durations) if durations else None,
        resolved=len(resolved),
        open_by_age={name: ages[name] for name, _top in AGE_BUCKETS},
        top_changers=tuple(changers.most_common(TOP_CHANGERS)),
        documented=surface.documented,
        custom_properties=surface.custom_properties,
        under_baseline=surface.under_baseline,
        items=surface.items,
        vendor=sum(1 for s in counted if s.classification == "vendor"),
    )
