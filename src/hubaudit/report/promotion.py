"""A sandbox compared with production (``hubaudit compare``), in every report format: text,
Markdown, HTML, JSON, CSV and SARIF.

Pure renderers of :class:`~hubaudit.services.promotion.PortalComparison`. Every HubSpot string
(labels, names, values) is escaped for the format; keys too, since an identity key holds a name.
HTML is laid out by ``templates/promotion.html.j2`` with autoescaping on; a CSV cell a
spreadsheet would run as a formula is made inert as in the audit's CSV; SARIF is one result per
difference, in the audit's SARIF run.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hubaudit import __version__
from hubaudit.analysis.compare import scope_of
from hubaudit.analysis.promotion import CrossPortal, Difference, PortalComparison
from hubaudit.governance.files import MANIFEST, scope_path
from hubaudit.model.changes import ChangeOp
from hubaudit.model.history import Point
from hubaudit.report.csv_report import inert
from hubaudit.report.escape import markdown_safe, terminal_safe
from hubaudit.report.json_report import change_document
from hubaudit.report.sarif import INFORMATION_URI, LEVELS, sarif_document
from hubaudit.report.sections import value_json
from hubaudit.report.templating import html_environment, render_template

FORMAT_VERSION = "1.0"
"""The JSON document's version: a minor step adds fields, a major one changes them."""

_MARK = {ChangeOp.ADDED: "+", ChangeOp.REMOVED: "-", ChangeOp.MODIFIED: "~"}
_VALUE_WIDTH = 100


def _point(point: Point) -> str:
    return point.name


@dataclass(frozen=True)
class Totals:
    """The counts every format begins with: items to add, change and (only in production)
    remove, and how many differences an approved change request plans."""

    added: int
    changed: int
    removed: int
    planned: int
    differences: int

    @property
    def sentence(self) -> str:
        return (
            f"Promotion: {self.added} to add, {self.changed} to change, {self.removed} only in "
            f"production; {self.planned} of {self.differences} differences planned by an "
            "approved change request."
        )


def totals_of(comparison: PortalComparison) -> Totals:
    differences = comparison.differences

    def items(op: ChangeOp) -> int:
        return len({d.change.key for d in differences if d.change.op is op})

    return Totals(
        added=items(ChangeOp.ADDED),
        changed=items(ChangeOp.MODIFIED),
        removed=items(ChangeOp.REMOVED),
        planned=sum(1 for d in differences if d.planned_by is not None),
        differences=len(differences),
    )


def _totals(comparison: PortalComparison) -> str:
    return totals_of(comparison).sentence


def _state(difference: Difference) -> str:
    """The three-way view, in words."""
    production = "in production" if difference.in_production else "not in production"
    if difference.in_baseline is None:
        baseline = "no approved baseline"
    else:
        baseline = "in its baseline" if difference.in_baseline else "not in its baseline"
    planned = (
        f"planned by CR-{difference.planned_by}"
        if difference.planned_by is not None
        else "no approved CR plans it"
    )
    return f"{production}, {baseline}, {planned}"


def _value(value: Any, safe: Callable[[str], str]) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) > _VALUE_WIDTH:
        text = text[: _VALUE_WIDTH - 1] + "…"
    return safe(text)


def _line(difference: Difference, safe: Callable[[str], str]) -> str:
    change = difference.change
    label = f' "{safe(change.label)}"' if change.label else ""
    if change.op is ChangeOp.MODIFIED:
        return (
            f"~ {safe(change.key)}{label} {safe(change.field or '')}: "
            f"{_value(change.before, safe)} → {_value(change.after, safe)}"
        )
    return f"{_MARK[change.op]} {safe(change.key)}{label}"


def _matching(result: CrossPortal, safe: Callable[[str], str], bullet: str) -> list[str]:
    """The matches whose keys differ, the ambiguous items, and the items of one side only
    (in Markdown, the marks escaped: ``- -`` would be a list in a list)."""
    mark = {c: ("\\" + c if bullet == "- " else c) for c in "=?+-"}
    lines = [
        f"{bullet}{mark['=']} {safe(m.sandbox_key)} ↔ {safe(m.production_key)}  "
        f"({safe(m.identity)})"
        for m in result.matches
        if m.pinned or m.sandbox_key != m.production_key
    ]
    for ambiguous in result.ambiguous:
        lines.append(
            f"{bullet}{mark['?']} ambiguous {ambiguous.kind.value} "
            f"{safe(ambiguous.identity)}: sandbox "
            f"{', '.join(map(safe, ambiguous.sandbox_keys)) or '(none)'}; production "
            f"{', '.join(map(safe, ambiguous.production_keys)) or '(none)'} (pin them in a "
            "mapping file)"
        )
    lines += [
        f"{bullet}{mark['+']} only in the sandbox: {safe(ours)} (as {safe(theirs)})"
        for ours, theirs in result.sandbox_only
    ]
    lines += [
        f"{bullet}{mark['-']} only in production: {safe(key)}" for key in result.production_only
    ]
    return lines


def render_text(comparison: PortalComparison) -> str:
    safe = terminal_safe
    result = comparison.result
    lines = [
        f"{safe(comparison.sandbox)} ({_point(comparison.sandbox_point)}) compared with "
        f"{safe(comparison.production)} ({_point(comparison.production_point)})",
        _totals(comparison),
        "",
    ]
    lines += [f"  ? {safe(note)}" for note in comparison.notes]
    for difference in comparison.differences:
        lines.append(_line(difference, safe) + f"  [{difference.change.severity.value}]")
        lines.append(f"    {_state(difference)}")
    if not comparison.differences:
        lines.append("no differences: production holds everything the sandbox holds")
    lines.append("")
    lines.append(
        f"matched {len(result.matches)} items "
        f"({sum(1 for m in result.matches if m.pinned)} pinned by the mapping file)"
    )
    lines += _matching(result, safe, "  ")
    if result.not_compared:
        lines.append(
            "not compared (read completely by one side only): "
            + ", ".join(safe(s) for s in result.not_compared)
        )
    return "\n".join(lines) + "\n"


def to_document(comparison: PortalComparison) -> dict[str, Any]:
    result = comparison.result
    return {
        "format_version": FORMAT_VERSION,
        "sandbox": {"portal": comparison.sandbox, "point": _point(comparison.sandbox_point)},
        "production": {
            "portal": comparison.production,
            "point": _point(comparison.production_point),
            "baseline_version": comparison.baseline_version,
        },
        "summary": {
            "differences": len(comparison.differences),
            "planned": sum(1 for d in comparison.differences if d.planned_by is not None),
            "matched": len(result.matches),
            "ambiguous": len(result.ambiguous),
            "sandbox_only": len(result.sandbox_only),
            "production_only": len(result.production_only),
        },
        "differences": [
            {
                **change_document(d.change),
                "sandbox_key": d.sandbox_key,
                "in_production": d.in_production,
                "in_baseline": d.in_baseline,
                "planned_by": d.planned_by,
            }
            for d in comparison.differences
        ],
        "matches": [
            {
                "kind": m.kind.value,
                "sandbox_key": m.sandbox_key,
                "production_key": m.production_key,
                "identity": m.identity,
                "pinned": m.pinned,
            }
            for m in result.matches
        ],
        "ambiguous": [
            {
                "kind": a.kind.value,
                "identity": a.identity,
                "sandbox_keys": list(a.sandbox_keys),
                "production_keys": list(a.production_keys),
            }
            for a in result.ambiguous
        ],
        "sandbox_only": [{"sandbox_key": a, "production_key": b} for a, b in result.sandbox_only],
        "production_only": list(result.production_only),
        "not_compared": list(result.not_compared),
        "notes": comparison.notes,
    }


def render_json(comparison: PortalComparison) -> str:
    return json.dumps(to_document(comparison), indent=2, ensure_ascii=False) + "\n"


def render_markdown(comparison: PortalComparison) -> str:
    safe = markdown_safe
    result = comparison.result
    lines = [
        f"# {safe(comparison.sandbox)} compared with {safe(comparison.production)}",
        "",
        f"{safe(_point(comparison.sandbox_point))} against "
        f"{safe(_point(comparison.production_point))}.",
        "",
        _totals(comparison),
        "",
    ]
    lines += [f"- {safe(note)}" for note in comparison.notes]
    if comparison.differences:
        lines += ["| | item | field | production | sandbox | status |", "|---|---|---|---|---|---|"]
        for d in comparison.differences:
            change = d.change
            item = safe(change.key) + (f" {safe(change.label)}" if change.label else "")
            lines.append(
                f"| {_MARK[change.op]} | {item} | {safe(change.field or '')} | "
                f"{_value(change.before, safe)} | {_value(change.after, safe)} | "
                f"{_state(d)} |"
            )
    else:
        lines.append("No differences: production holds everything the sandbox holds.")
    lines += ["", "## Matching", ""]
    lines.append(f"{len(result.matches)} items matched.")
    lines.append("")
    lines += _matching(result, safe, "- ")
    return "\n".join(lines) + "\n"


# HTML and CSV ---------------------------------------------------------------------------------

HTML_VALUE_WIDTH = 1200

CSV_COLUMNS = (
    "sandbox",
    "production",
    "kind",
    "op",
    "key",
    "sandbox_key",
    "label",
    "field",
    "sandbox_value",
    "production_value",
    "severity",
    "production_has_it",
    "baseline_has_it",
    "planned_by",
)
"""One row per difference: production's key, and the sandbox's key for the same item; values as
JSON; ``baseline_has_it`` empty when production has no approved baseline."""


def _yes_no(value: bool | None, unknown: str) -> str:
    if value is None:
        return unknown
    return "yes" if value else "no"


def _planned(difference: Difference) -> str:
    return f"CR-{difference.planned_by}" if difference.planned_by is not None else ""


def render_html(comparison: PortalComparison) -> str:
    result = comparison.result
    return render_template(
        html_environment(),
        "promotion.html.j2",
        comparison=comparison,
        sandbox_point=_point(comparison.sandbox_point),
        production_point=_point(comparison.production_point),
        totals=totals_of(comparison),
        rows=[
            {
                "difference": d,
                "mark": _MARK[d.change.op],
                "production_has_it": _yes_no(d.in_production, ""),
                "baseline_has_it": _yes_no(d.in_baseline, "no approved baseline"),
                "planned_by": _planned(d),
            }
            for d in comparison.differences
        ],
        renamed=[m for m in result.matches if m.pinned or m.sandbox_key != m.production_key],
        pinned=sum(1 for m in result.matches if m.pinned),
        value_width=HTML_VALUE_WIDTH,
        version=__version__,
    )


def render_csv(comparison: PortalComparison) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for d in comparison.differences:
        change = d.change
        row = [
            comparison.sandbox,
            comparison.production,
            change.kind.value,
            change.op.value,
            change.key,
            d.sandbox_key or "",
            change.label or "",
            change.field or "",
            _raw_json(change.after),
            _raw_json(change.before),
            change.severity.value,
            _yes_no(d.in_production, ""),
            _yes_no(d.in_baseline, ""),
            _planned(d),
        ]
        writer.writerow([inert(cell) for cell in row])
    return out.getvalue()


def _raw_json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True)


# SARIF ----------------------------------------------------------------------------------------

_SARIF_OPS = {
    ChangeOp.ADDED: "is in the sandbox and not in production",
    ChangeOp.MODIFIED: "differs between the sandbox and production",
    ChangeOp.REMOVED: "is in production and not in the sandbox",
}


def render_sarif(comparison: PortalComparison) -> str:
    """One result per difference, ruled ``promotion/{kind}/{op}``; a difference an approved
    change request plans is a note (the council has decided it), the others as severe as the
    audit would rate the change."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    scopes = list(comparison.production_point.scopes) + list(comparison.sandbox_point.scopes)
    for d in comparison.differences:
        change = d.change
        rule_id = f"promotion/{change.kind.value}/{change.op.value}"
        if rule_id not in rules:
            what = change.kind.value.replace("_", " ")
            rules[rule_id] = {
                "id": rule_id,
                "name": "Promotion"
                + "".join(p.title() for p in f"{change.kind.value}_{change.op.value}".split("_")),
                "shortDescription": {"text": f"A {what} {_SARIF_OPS[change.op]}"},
                "fullDescription": {
                    "text": f"A {what} {_SARIF_OPS[change.op]}: a change to promote, or one "
                    "production made on its own."
                },
                "defaultConfiguration": {"level": "warning"},
                "helpUri": INFORMATION_URI,
            }
        where = change.key + (f" {change.field}" if change.field else "")
        scope = scope_of(change.key, scopes)
        text = (
            f"{where}: production {value_json(change.before, 200)}, sandbox "
            f"{value_json(change.after, 200)} ({_state(d)})"
        )
        results.append(
            {
                "ruleId": rule_id,
                "level": "note" if d.planned_by is not None else LEVELS[change.severity],
                "message": {"text": text},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {
                                "uri": str(scope_path(scope)) if scope else MANIFEST
                            },
                            "region": {"startLine": 1},
                        },
                        "logicalLocations": [{"fullyQualifiedName": change.key, "kind": "member"}],
                    }
                ],
                "partialFingerprints": {"hubaudit/v1": f"{comparison.sandbox}/{where}"},
                "properties": {
                    "severity": change.severity.value,
                    "sandbox_key": d.sandbox_key,
                    "label": change.label,
                    "field": change.field,
                    "in_production": d.in_production,
                    "in_baseline": d.in_baseline,
                    "planned_by": d.planned_by,
                },
            }
        )
    result = comparison.result
    document = sarif_document(
        rules,
        results,
        automation_id=f"hubaudit/compare/{comparison.sandbox}/{comparison.production}/",
        properties={
            "sandbox": comparison.sandbox,
            "production": comparison.production,
            "sandbox_point": _point(comparison.sandbox_point),
            "production_point": _point(comparison.production_point),
            "baseline_version": comparison.baseline_version,
            "ambiguous": [{"kind": a.kind.value, "identity": a.identity} for a in result.ambiguous],
            "sandbox_only": [a for a, _ in result.sandbox_only],
            "production_only": list(result.production_only),
            "not_compared": list(result.not_compared),
        },
    )
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[PortalComparison], str]] = {
    "text": render_text,
    "md": render_markdown,
    "markdown": render_markdown,
    "html": render_html,
    "json": render_json,
    "csv": render_csv,
    "sarif": render_sarif,
}
"""Each format of ``hubaudit compare`` by the names ``audit --format`` takes
(:data:`hubaudit.report.FORMATS`); ``markdown`` is an alias of ``md``."""
