"""A sandbox compared with production (``hubaudit compare``), in text, JSON and Markdown.

Pure renderers of :class:`~hubaudit.services.promotion.PortalComparison`. Every HubSpot string
(labels, names, values) is escaped for the format; keys too, since an identity key holds a name.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from hubaudit.analysis.promotion import CrossPortal, Difference, PortalComparison
from hubaudit.model.changes import ChangeOp
from hubaudit.model.history import Point
from hubaudit.report.escape import markdown_safe, terminal_safe
from hubaudit.report.json_report import change_document

FORMAT_VERSION = "1.0"
"""The JSON document's version: a minor step adds fields, a major one changes them."""

_MARK = {ChangeOp.ADDED: "+", ChangeOp.REMOVED: "-", ChangeOp.MODIFIED: "~"}
_VALUE_WIDTH = 100


def _point(point: Point) -> str:
    return point.name


def _totals(comparison: PortalComparison) -> str:
    differences = comparison.differences
    added = len({d.change.key for d in differences if d.change.op is ChangeOp.ADDED})
    changed = len({d.change.key for d in differences if d.change.op is ChangeOp.MODIFIED})
    removed = len({d.change.key for d in differences if d.change.op is ChangeOp.REMOVED})
    planned = sum(1 for d in differences if d.planned_by is not None)
    return (
        f"Promotion: {added} to add, {changed} to change, {removed} only in production; "
        f"{planned} of {len(differences)} differences planned by an approved change request."
    )


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


RENDERERS: dict[str, Callable[[PortalComparison], str]] = {
    "text": render_text,
    "json": render_json,
    "markdown": render_markdown,
}
