"""Long lists read a page at a time: the defects in triage order, the governance log newest
first, and the open defects counted by severity, each ordered, filtered, counted and cut in
SQL, so that a page of a portal with thousands of defects or log entries reads only its rows."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, and_, case, false, func, not_, or_, select

from hubaudit.model.changes import Severity
from hubaudit.model.defects import Defect, DefectStatus
from hubaudit.model.governance_log import LogEntry
from hubaudit.model.items import Kind
from hubaudit.store.council import log_entry
from hubaudit.store.repository import Store
from hubaudit.store.tables import DefectRow, GovernanceLogRow, PortalRow

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a list and how many the whole list holds."""

    items: tuple[T, ...]
    total: int


def _like(text: str) -> str:
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def latest_seen(store: Store, portal: str) -> datetime | None:
    """The latest moment a defect of the portal was seen (``None``: it has none)."""
    with store.session() as session:
        return session.scalar(
            select(func.max(DefectRow.last_seen_at))
            .join(PortalRow, DefectRow.portal_id == PortalRow.id)
            .where(PortalRow.name == portal)
        )


@dataclass(frozen=True)
class DefectOrder:
    """How to order defects, as the rules decide it: ``ranks`` puts each (status, severity,
    new) in its place, lower first; "new" is first seen at or after ``new_since``. Ties break
    as ``governance.triage`` breaks them: those in play newest first (by first seen), then by
    key, then oldest id; the ``closed`` ones most recently closed first, then newest id."""

    ranks: Mapping[tuple[DefectStatus, Severity, bool], int]
    closed: Collection[DefectStatus]
    new_since: datetime | None


def _ordering(order: DefectOrder, dialect: str) -> list[ColumnElement[Any]]:
    if order.new_since is None:
        new: ColumnElement[bool] = false()
    else:
        new = DefectRow.first_seen_at >= order.new_since
    # as few WHENs as tell the places apart: severities listed, and new or not, only where
    # the place depends on them
    by_new: dict[tuple[DefectStatus, int, bool], set[Severity]] = {}
    for (status, severity, is_new), place in order.ranks.items():
        by_new.setdefault((status, place, is_new), set()).add(severity)
    groups: dict[tuple[DefectStatus, int, frozenset[Severity]], set[bool]] = {}
    for (status, place, is_new), found in by_new.items():
        groups.setdefault((status, place, frozenset(found)), set()).add(is_new)
    whens = []
    for (status, place, severities), news in groups.items():
        when = [DefectRow.status == status.value]
        if len(severities) < len(Severity):
            when.append(DefectRow.severity.in_(sorted(s.value for s in severities)))
        if news == {True}:
            when.append(new)
        elif news == {False}:
            when.append(not_(new))
        whens.append((and_(*when), place))
    rank = case(*whens, else_=len(order.ranks))
    closed = DefectRow.status.in_([s.value for s in order.closed])
    moment = case(
        (closed, func.coalesce(DefectRow.resolved_at, DefectRow.last_seen_at)),
        else_=DefectRow.first_seen_at,
    )
    key: ColumnElement[Any] = case((closed, ""), else_=DefectRow.key)
    if dialect == "postgresql":  # keys by code point, as Python compares them
        key = key.collate("C")
    return [
        rank,
        moment.desc(),
        key,
        case((closed, -DefectRow.id), else_=DefectRow.id),
    ]


def defect_page(
    store: Store,
    portal: str,
    *,
    statuses: Iterable[DefectStatus] | None,
    severities: Iterable[Severity] | None,
    kinds: Iterable[Kind] | None,
    text: str,
    order: DefectOrder,
    offset: int,
    limit: int,
) -> Page[Defect]:
    """The defects matching, in ``order``; ``limit`` of them from ``offset``."""
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
        dialect = session.get_bind().dialect.name
        ids = list(
            session.scalars(query.order_by(*_ordering(order, dialect)).offset(offset).limit(limit))
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
