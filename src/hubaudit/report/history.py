"""Renderers for stored history: ``history``, ``show``, ``diff`` and ``impact``, as text and
as JSON.

Pure functions of values from :mod:`hubaudit.services.timetravel`; changes use the same text
and JSON forms as the audit report. Every HubSpot-provided string is made terminal-safe."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from hubaudit.analysis.names import Names
from hubaudit.model.changes import Attribution, ChangeOp
from hubaudit.model.history import Diff, HistoryEntry, ItemAtPoint, Point
from hubaudit.model.items import SnapshotStamp
from hubaudit.report import json_report
from hubaudit.report.escape import terminal_safe
from hubaudit.report.text import changes_lines, field_line
from hubaudit.report.view import when

if TYPE_CHECKING:
    from hubaudit.analysis.dependencies import Impact

_MARK = {"added": "+", "changed": "~", "removed": "-", "not read": "?"}


def _who(attribution: Attribution) -> str:
    who = attribution.user_email or attribution.user_id
    if not who:
        return ""
    at = f" at {when(attribution.at)}" if attribution.at else ""
    return (
        f"  [by {terminal_safe(who)}{at}; {terminal_safe(attribution.source)}, "
        f"{attribution.confidence} confidence]"
    )


# history ----------------------------------------------------------------------------------


def history_text(portal: str, key: str, entries: Sequence[HistoryEntry]) -> str:
    versions = sum(1 for e in entries if e.event in ("added", "changed"))
    lines = [
        f"history of {terminal_safe(key)} in portal {terminal_safe(portal)}: "
        f"{versions} version{'s' if versions != 1 else ''}",
        "",
    ]
    for entry in entries:
        lines.append(
            f"{_MARK[entry.event]} {entry.event:<8} snapshot #{entry.snapshot_id} "
            f"{when(entry.at)}{_who(entry.attribution)}"
        )
        if entry.event == "not read":
            lines.append("    its part was not read completely since; nothing is known after")
        lines += [field_line(change) for change in entry.changes]
        if entry.last_seen is not None and entry.last_seen.id != entry.snapshot_id:
            lines.append(
                f"    last seen in snapshot #{entry.last_seen.id} {when(entry.last_seen.taken_at)}"
            )
    return "\n".join(lines) + "\n"


def history_json(portal: str, key: str, entries: Sequence[HistoryEntry]) -> str:
    document = {
        "portal": portal,
        "key": key,
        "entries": [
            {
                "event": e.event,
                "snapshot_id": e.snapshot_id,
                "at": e.at.isoformat(),
                "last_seen": _stamp(e.last_seen),
                "canonical_hash": e.canonical_hash,
                "attribution": json_report.attribution_document(e.attribution),
                "changes": [json_report.change_document(c) for c in e.changes],
            }
            for e in entries
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _stamp(stamp: SnapshotStamp | None) -> dict[str, Any] | None:
    return None if stamp is None else {"id": stamp.id, "taken_at": stamp.taken_at.isoformat()}


# show -------------------------------------------------------------------------------------


def _item_name(item: ItemAtPoint) -> str | None:
    return Names({item.key: item.canonical}).name_of(item.key)


def show_text(item: ItemAtPoint, raw: bool = False) -> str:
    name = _item_name(item)
    named = f' "{terminal_safe(name)}"' if name else ""
    lines = [f"{terminal_safe(item.key)}{named} in {item.point.name}"]
    stand_in = item.point.stand_in_for(item.key)
    if stand_in is not None and item.point.snapshot is not None:
        lines.append(terminal_safe(stand_in.note(item.point.snapshot.id)))
    if item.first_seen is not None:
        lines.append(
            f"this version first seen in snapshot #{item.first_seen.id} "
            f"{when(item.first_seen.taken_at)}"
        )
    lines.append("raw JSON as HubSpot sent it:" if raw else "canonical form (what is compared):")
    body = json.dumps(item.raw if raw else item.canonical, indent=2, sort_keys=True)
    lines += [terminal_safe(line) for line in body.splitlines()]
    return "\n".join(lines) + "\n"


def show_json(item: ItemAtPoint) -> str:
    document = {
        "key": item.key,
        "name": _item_name(item),
        "point": _point(item.point),
        "first_seen": _stamp(item.first_seen),
        "canonical": item.canonical,
        "raw": item.raw,
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _point(point: Point) -> dict[str, Any]:
    if point.snapshot is not None:
        return {
            "snapshot_id": point.snapshot.id,
            "taken_at": point.snapshot.taken_at.isoformat(),
            "stand_ins": stand_ins_document(point),
        }
    assert point.baseline is not None
    return {
        "baseline_version": point.baseline.version,
        "status": point.baseline.status.value,
        "approved_at": None
        if point.baseline.approved_at is None
        else point.baseline.approved_at.isoformat(),
        "approved_by": point.baseline.approved_by,
    }


def stand_ins_document(point: Point) -> list[dict[str, Any]]:
    """The parts a snapshot point takes from earlier snapshots, for JSON."""
    return [
        {
            "scope": s.scope,
            "snapshot_id": None if s.snapshot is None else s.snapshot.id,
            "taken_at": None if s.snapshot is None else s.snapshot.taken_at.isoformat(),
            "failed": s.failed.reason,
        }
        for s in point.stand_ins
    ]


def stand_in_lines(point: Point) -> list[str]:
    """For a person: which parts of a snapshot point come from earlier snapshots, and why."""
    if not point.stand_ins or point.snapshot is None:
        return []
    return [
        f"{point.name} could not read every part; the latest complete read of each stands in:",
        *(f"  ? {terminal_safe(note)}" for note in point.notes()),
    ]


# diff -------------------------------------------------------------------------------------


def diff_text(diff: Diff) -> str:
    lines = [
        f"hubaudit diff: portal {terminal_safe(diff.portal)}",
        f"from {terminal_safe(diff.before.name)}",
        f"to   {terminal_safe(diff.after.name)}",
        *stand_in_lines(diff.before),
        *stand_in_lines(diff.after),
        "",
    ]
    if diff.changes:
        ops = Counter(op for _key, op in {(c.key, c.op) for c in diff.changes})
        lines.append(
            f"Changes: {len(diff.changes)} ({ops[ChangeOp.ADDED]} items added, "
            f"{ops[ChangeOp.MODIFIED]} modified, {ops[ChangeOp.REMOVED]} removed)"
        )
        lines.append("")
        lines += changes_lines(diff.changes)
    else:
        lines.append("No differences in the parts both sides read completely.")
        lines.append("")
    if diff.not_compared:
        lines.append("Not compared (read completely on one side only):")
        lines += [f"  ! {terminal_safe(scope)}" for scope in diff.not_compared]
        lines.append("")
    return "\n".join(lines)


def diff_json(diff: Diff) -> str:
    document = {
        "portal": diff.portal,
        "from": _point(diff.before),
        "to": _point(diff.after),
        "changes": [json_report.change_document(c) for c in diff.changes],
        "not_compared": list(diff.not_compared),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# impact -----------------------------------------------------------------------------------


def impact_document(impact: Impact) -> dict[str, Any]:
    snapshot = impact.snapshot
    return {
        "portal": impact.portal,
        "key": impact.key,
        "snapshot": {
            "id": snapshot.id,
            "taken_at": snapshot.taken_at.isoformat(),
            "stand_ins": stand_ins_document(impact.point),
        },
        "in_snapshot": impact.in_snapshot,
        "workflows": impact.workflows,
        "dependents": [json_report.dependency_document(d) for d in impact.direct],
        "tree": [
            {"level": level, **json_report.dependency_document(d)} for level, d in impact.tree
        ],
    }


def impact_json(impact: Impact) -> str:
    return json.dumps(impact_document(impact), indent=2) + "\n"


def impact_text(impact: Impact) -> str:
    snapshot = impact.snapshot
    named_as = f' "{terminal_safe(impact.label)}"' if impact.label else ""
    lines = [
        f"impact of {terminal_safe(impact.key)}{named_as} in snapshot #{snapshot.id} "
        f"({snapshot.taken_at:%Y-%m-%d %H:%M} UTC): {len(impact.direct)} direct dependents, "
        f"{impact.workflows} workflows",
        *(f"  {line}" for line in stand_in_lines(impact.point)),
    ]
    if not impact.in_snapshot:
        lines.append("  (the item is not in this snapshot; these still point to it)")
    if not impact.tree:
        lines.append("  nothing in this snapshot depends on it")
    for level, d in impact.tree:
        item_label = f' "{terminal_safe(d.label)}"' if d.label else ""
        detail = f" ({terminal_safe(d.detail)})" if d.detail else ""
        target = "" if level == 0 else f" {terminal_safe(d.target)}"
        lines.append(
            f"{'  ' * (level + 1)}← {terminal_safe(d.source)}{item_label} {d.relation}"
            f"{target}{detail}"
        )
    return "\n".join(lines) + "\n"
