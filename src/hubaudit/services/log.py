"""The governance log: who decided what, when and why, in the order it happened."""

from __future__ import annotations

from datetime import datetime

from hubaudit.model.governance_log import LogEntry
from hubaudit.store.council import CouncilStore
from hubaudit.store.repository import Store


def governance_log(
    store: Store, portal: str, since: datetime | None = None, until: datetime | None = None
) -> list[LogEntry]:
    """The portal's log entries from ``since`` through ``until`` (either open), oldest first; a
    portal the database holds nothing of has an empty log."""
    if portal not in store.portal_names():
        return []
    entries = CouncilStore(store).log(portal, since)
    if until is None:
        return entries
    return [entry for entry in entries if entry.at <= until]
