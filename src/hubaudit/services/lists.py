"""Long lists a page at a time, for the web app: defects in triage order (the tiers of
``governance.triage``, as ``defects list`` shows them, ordered in SQL), open defects counted by
severity, the governance log newest first. Each page reads only its rows."""

from __future__ import annotations

from datetime import datetime

from hubaudit.governance.triage import CLOSED_STATUSES, defect_ranks
from hubaudit.model.changes import Severity
from hubaudit.model.defects import Defect, DefectStatus
from hubaudit.model.governance_log import LogEntry
from hubaudit.services.triage import DefectQuery
from hubaudit.store import lists
from hubaudit.store.lists import Page
from hubaudit.store.repository import Store

OPEN_STATES = (DefectStatus.OPEN, DefectStatus.ACKNOWLEDGED)

__all__ = ["OPEN_STATES", "Page", "defects_page", "log_page", "open_defect_counts"]


def defects_page(
    store: Store, portal: str, query: DefectQuery, text: str, number: int, size: int
) -> Page[Defect]:
    """Page ``number`` (from 1) of the defects ``query`` and ``text`` (in the key or label)
    match, in triage order: the order of :func:`~hubaudit.services.triage.triage_defects`
    ("new" is what the latest audit that saw any of the portal's defects first saw)."""
    order = lists.DefectOrder(
        ranks=defect_ranks(),
        closed=CLOSED_STATUSES,
        new_since=lists.latest_seen(store, portal),
    )
    return lists.defect_page(
        store,
        portal,
        statuses=query.statuses or None,
        severities=query.severities or None,
        kinds=query.kinds or None,
        text=text.strip(),
        order=order,
        offset=(number - 1) * size,
        limit=size,
    )


def open_defect_counts(store: Store, portal: str) -> dict[Severity, int]:
    """The portal's open and acknowledged defects, counted by severity."""
    return lists.open_counts(store, portal, OPEN_STATES)


def log_page(
    store: Store,
    portal: str,
    since: datetime | None,
    until: datetime | None,
    text: str,
    number: int | None,
    size: int,
) -> Page[LogEntry]:
    """Page ``number`` (from 1; ``None``: every entry) of the log entries matching, newest
    first; a portal the database holds nothing of has an empty log."""
    if portal not in store.portal_names():
        return Page((), 0)
    return lists.log_page(
        store,
        portal,
        since=since,
        until=until,
        text=text.strip(),
        offset=0 if number is None else (number - 1) * size,
        limit=None if number is None else size,
    )
