"""A stored run's drift report, read from the store only. (A portal's governance KPIs over a
period are :mod:`hubaudit.services.kpis`: ``hubaudit report`` loads none of their machinery.)"""

from __future__ import annotations

import threading
from collections import OrderedDict

from hubaudit.errors import NoSuchRun, UsageError
from hubaudit.model.audit_result import AuditResult
from hubaudit.report.json_report import from_document
from hubaudit.store.reads import StoreReader


def run_report(store: StoreReader, portal: str, run_id: int | None = None) -> AuditResult:
    """The report stored with a run of ``portal`` (default: its latest run with a report)."""
    return from_document(store.report_document(portal, run_id))


def stored_report(
    store: StoreReader, portal: str, run_id: int, *, findings: bool = True
) -> AuditResult | None:
    """The report stored with run ``run_id`` of ``portal``; ``None`` when the run stored none
    (it failed, or has not finished). :class:`~hubaudit.errors.NoSuchRun` when there is no
    such run. ``findings=False``: without its policy findings (see ``from_document``)."""
    try:
        document = store.report_document(portal, run_id)
    except NoSuchRun:
        raise
    except UsageError:
        return None
    return from_document(document, findings=findings)


class StoredDrift:
    """The drift of the latest few runs' stored reports, kept once read (a run's report never
    changes once stored): a run's triage page reads and decodes its report once, however often
    it is opened and filtered. Thread-safe; at most ``size`` reports."""

    def __init__(self, size: int = 8) -> None:
        self._size = size
        self._held: OrderedDict[tuple[str, int], AuditResult | None] = OrderedDict()
        self._lock = threading.Lock()

    def of(self, store: StoreReader, portal: str, run_id: int) -> AuditResult | None:
        key = (portal, run_id)
        with self._lock:
            if key in self._held:
                self._held.move_to_end(key)
                return self._held[key]
        result = stored_report(store, portal, run_id, findings=False)
        if result is not None:  # a run without a report may store one when it ends
            with self._lock:
                self._held[key] = result
                while len(self._held) > self._size:
                    self._held.popitem(last=False)
        return result
