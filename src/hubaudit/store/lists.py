"""Long lists read a page at a time: the defects in triage order, the governance log newest
first, and the open defects counted by severity, each ordered, filtered, counted and cut in
SQL, so that a page of a portal with thousands of defects or log entries reads only its rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import case, func, or_, select

from hubaudit.model.changes import Severity
from hubaudit.model.defects import Defect, DefectStatus
from hubaudit.model.governance_log import LogEntry
from hubaudit.model.items import Kind
from hubaudit.store.council import log_entry
from hubaudit.store.repository import Store
from hubaudit.store.tables import DefectRow, GovernanceLogRow, PortalRow

_RANK = case({s.value: s.rank for s in Severity}, value=DefectRow.severity, else_=0)


T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and how many the whole list holds."""

    items: tuple[T, ...]
    total: int


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def defect_page(
    store: Store,
    portal: str,
    *,
    statuses: Iterable[DefectStatus] | None,
    severities: Iterable[Severity] | None,
    kinds: Iterable[Kind] | None,
    text: str,
    first_statuses: Sequence[DefectStatus],
    offset: int,
    limit: int,
) -> Page[Defect]:
    """The defects matching, ordered ``first_statuses`` first, then worst first, then most
    recently seen first; ``limit`` of them from ``offset``."""
    with store.session() as session:
        query = (
            select(DefectRow.id)
            .join(PortalRow, DefectRow.portal_id == PortalRow.id)
            .where(PortalRow.name == portal)
        )
        if statuses is not None:
            query = query.where(DefectRow.status.in_([s.value for s in statuses]))
        if severities is not None:
            query = query.where(DefectRow.severity.in_([s.value for s in severities]))
        if kinds is not None:
            query = query.where(DefectRow.kind.in_([k.value for k in kinds]))
        if text:
            pattern = _like(text)
            query = query.where(
                or_(
                    func.lower(DefectRow.key).like(pattern, escape="\\"),
                    func.lower(DefectRow.label).like(pattern, escape="\\"),
                    func.lower(DefectRow.name).like(pattern, escape="\\"),
                )
            )
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        first = case((DefectRow.status.in_([s.value for s in first_statuses]), 0), else_=1)
        ids = list(
            session.scalars(
                query.order_by(first, _RANK.desc(), DefectRow.last_seen_at.desc(), DefectRow.id)
                .offset(offset)
                .limit(limit)
            )
        )
    found = {d.id: d for d in store.defects(portal, ids=ids)} if ids else {}
    return Page(tuple(found[i] for i in ids if i in found), total)


def open_counts(store: Store, portal: str, statuses: Iterable[DefectStatus]) -> dict[Severity, int]:
    """How many of the portal's defects in ``statuses`` there are, by severity."""
    counts = {s: 0 for s in Severity}
    with store.session() as session:
        rows = session.execute(
            select(DefectRow.severity, func.count())
            .join(PortalRow, DefectRow.portal_id == PortalRow.id)
            .where(PortalRow.name == portal, DefectRow.status.in_([s.value for s in statuses]))
            .group_by(DefectRow.severity)
        )
        for severity, count in rows:
            counts[Severity(severity)] += count
    return counts


def log_page(
    store: Store,
    portal: str,
    *,
    since: datetime | None,
    until: datetime | None,
    text: str,
    offset: int,
    limit: int | None,
) -> Page[LogEntry]:
    """The portal's log entries, newest first, filtered by moment and text (person, action,
    subject or note); ``limit`` of them from ``offset`` (``None``: all)."""
    with store.session() as session:
        query = (
            select(GovernanceLogRow)
            .join(PortalRow, GovernanceLogRow.portal_id == PortalRow.id)
            .where(PortalRow.name == portal)
        )
        if since is not None:
            query = query.where(GovernanceLogRow.at >= since)
        if until is not None:
            query = query.where(GovernanceLogRow.at <= until)
        if text:
            pattern = _like(text)
            query = query.where(
                or_(
                    *(
                        func.lower(column).like(pattern, escape="\\")
                        for column in (
                            GovernanceLogRow.actor,
                            GovernanceLogRow.action,
                            GovernanceLogRow.subject,
                            GovernanceLogRow.note,
                        )
                    )
                )
            )
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        ordered = query.order_by(GovernanceLogRow.at.desc(), GovernanceLogRow.id.desc())
        ordered = ordered.offset(offset)
        if limit is not None:
            ordered = ordered.limit(limit)
        entries = tuple(log_entry(row, portal) for row in session.scalars(ordered))
    return Page(entries, total)
