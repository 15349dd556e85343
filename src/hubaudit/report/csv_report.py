"""The CSV report: one row per change, for spreadsheets.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be run as
a formula by a spreadsheet: such a cell is written with a leading ``'`` (OWASP's advice for CSV
injection), so a portal user's label never computes anything on a RevOps lead's laptop. A NUL
(HubSpot takes one in a label; spreadsheets cut the cell there) is shown as ``\\x00``, as in the
text report; the JSON report keeps it exactly."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from hubaudit.model.audit_result import AuditResult
from hubaudit.model.changes import Change
from hubaudit.report.json_report import MAX_DEPENDENTS, dependents_count
from hubaudit.report.links import record_url

COLUMNS = (
    "portal",
    "snapshot_id",
    "baseline_version",
    "kind",
    "key",
    "label",
    "op",
    "field",
    "before",
    "after",
    "classification",
    "severity",
    "severity_raised_by",
    "defect_id",
    "change_request",
    "note",
    "changed_by",
    "changed_at",
    "attribution_source",
    "attribution_confidence",
    "dependents_count",
    "dependents",
    "url",
    "name",
    "field_label",
    "before_text",
    "after_text",
    "revert",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render(result: AuditResult) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for c in result.changes:
        row: list[Any] = [
            result.portal,
            result.snapshot.id,
            result.baseline.version,
            c.kind.value,
            c.key,
            c.label or "",
            c.op.value,
            c.field or "",
            _json(c.before),
            _json(c.after),
            c.classification.value,
            c.severity.value,
            c.raised_by_impact,
            c.defect_id if c.defect_id is not None else "",
            c.change_request if c.change_request is not None else "",
            c.note or "",
            c.attribution.user_email or c.attribution.user_id or "",
            c.attribution.at.isoformat() if c.attribution.at else "",
            c.attribution.source,
            c.attribution.confidence,
            dependents_count(c),
            _dependents(c),
            record_url(result, c.key) or "",
            *_names(c),
        ]
        writer.writerow([inert(cell) for cell in row])
    return out.getvalue()


def _names(change: Change) -> list[str]:
    """The change in people's words; empty cells where it has no names."""
    n = change.names
    if n is None:
        return [""] * 5
    return [n.item or "", n.field or "", n.before or "", n.after or "", n.revert or ""]


def _dependents(change: Change) -> str:
    """The dependents' keys (the first 50 of a report read back; the count says how many)."""
    shown = [d.source for d in change.dependents[:MAX_DEPENDENTS]]
    more = dependents_count(change) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


def inert(cell: Any) -> Any:
    if not isinstance(cell, str):
        return cell
    cell = cell.replace("\x00", "\\x00")
    return "'" + cell if cell.startswith(_FORMULA_START) else cell
