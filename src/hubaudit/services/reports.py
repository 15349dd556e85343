"""A stored run's drift report, read from the store only. (A portal's governance KPIs over a
period are :mod:`hubaudit.services.kpis`: ``hubaudit report`` loads none of their machinery.)"""

from __future__ import annotations

from hubaudit.errors import NoSuchRun, UsageError
from hubaudit.model.audit_result import AuditResult
from hubaudit.report.json_report import from_document
from hubaudit.store.reads import StoreReader


def run_report(store: StoreReader, portal: str, run_id: int | None = None) -> AuditResult:
    """The report stored with a run of ``portal`` (default: its latest run with a report)."""
    return from_document(store.report_document(portal, run_id))


def stored_report(store: StoreReader, portal: str, run_id: int) -> AuditResult | None:
    """The report stored with run ``run_id`` of ``portal``; ``None`` when the run stored none
    (it failed, or has not finished). :class:`~hubaudit.errors.NoSuchRun` when there is no
    such run."""
    try:
        document = store.report_document(portal, run_id)
    except NoSuchRun:
        raise
    except UsageError:
        return None
    return from_document(document)
