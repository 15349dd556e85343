"""Reports of what happened: a stored run's drift report, and a portal's governance KPIs over a
period. Read from the store only."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime

from hubaudit.errors import UsageError
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.history import Point
from hubaudit.model.kpis import Kpis
from hubaudit.report.json_report import from_document
from hubaudit.services.kpis import Surface, default_since, kpis_over, surface_of
from hubaudit.services.latest import latest_point
from hubaudit.services.timetravel import snapshot_view
from hubaudit.store.reports import ReportStore
from hubaudit.store.repository import Store


@dataclass(frozen=True)
class PortalKpis:
    """A portal's governance KPIs from ``since`` to ``until``, and the snapshot point they read
    the portal from (``None`` before its first snapshot)."""

    portal: str
    point: Point | None
    kpis: Kpis


def run_report(store: Store, portal: str, run_id: int | None = None) -> AuditResult:
    """The report stored with a run of ``portal`` (default: its latest run with a report)."""
    return from_document(ReportStore(store).report_document(portal, run_id))


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
