"""The terminal report, plan-style: ``+`` added, ``~`` modified, ``-`` removed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from hubaudit.model import AuditResult, Change, ChangeOp, Classification, CoverageStatus
from hubaudit.report.escape import terminal_safe

_MARK = {ChangeOp.ADDED: "+", ChangeOp.REMOVED: "-", ChangeOp.MODIFIED: "~"}
_VALUE_WIDTH = 70


def render(result: AuditResult) -> str:
    lines = [
        f"hubaudit drift report: portal {terminal_safe(result.portal)}",
        f"snapshot #{result.snapshot.id} taken {_when(result.snapshot.taken_at)} "
        f"({result.snapshot.item_count} items)",
        f"baseline v{result.baseline.version} approved by "
        f"{terminal_safe(result.baseline.approved_by or '')} on {_when(result.baseline.moment)}",
        "parts read completely: " + _coverage_line(result),
        "",
    ]
    unplanned = result.unplanned
    if unplanned:
        counts = Counter(c.severity for c in unplanned)
        by_severity = ", ".join(
            f"{counts[s]} {s.value}" for s in sorted(counts, key=lambda s: -s.rank)
        )
        lines.append(f"Unplanned changes: {len(unplanned)} ({by_severity})")
        lines.append("")
        lines += changes_lines(unplanned)
    else:
        lines.append("No unplanned changes: the portal matches the approved baseline.")
        lines.append("")
    if result.expired_waivers:
        lines.append("Waivers expired (these defects are open again):")
        for defect in result.expired_waivers:
            where = defect.key + (f" {defect.field}" if defect.field else "")
            waiver = defect.waiver
            said = (
                f": waived by {terminal_safe(waiver.waived_by)} until {_when(waiver.until)} "
                f"({terminal_safe(waiver.reason)})"
                if waiver is not None
                else ""
            )
            lines.append(f"  ! defect #{defect.id} {terminal_safe(where)}{said}")
        lines.append("")
    planned = [c for c in result.changes if c.classification is Classification.PLANNED]
    if planned:
        lines.append(f"Planned changes: {len(planned)} (approved change requests, in their window)")
        lines.append("")
        lines += changes_lines(planned)
    waived = [c for c in result.changes if c.classification is Classification.WAIVED]
    if waived:
        lines.append(f"Waived: {len(waived)} (defects tolerated until their waiver ends)")
        lines.append("")
        lines += changes_lines(waived)
    ignored = Counter(
        c.note or "" for c in result.changes if c.classification is Classification.IGNORED
    )
    if ignored:
        lines.append(f"Ignored: {sum(ignored.values())} changes, by ignore rules")
        for note, count in sorted(ignored.items()):
            lines.append(f"  {count:>4}  {terminal_safe(note)}")
        lines.append("")
    if result.not_verified:
        lines.append("Not verified (not read completely; nothing in these parts is reported):")
        for part in result.not_verified:
            lines.append(
                f"  ! {terminal_safe(part.scope)}: {part.status.value}"
                + (f": {terminal_safe(part.reason)}" if part.reason else "")
            )
        lines.append("")
    if result.resolved_defects:
        lines.append("Resolved since the last audit:")
        for defect in result.resolved_defects:
            where = defect.key + (f" {defect.field}" if defect.field else "")
            resolution = terminal_safe(defect.resolution or "")
            lines.append(f"  ✓ defect #{defect.id} {terminal_safe(where)}: {resolution}")
        lines.append("")
    if result.notes:
        lines.append("Notes:")
        lines += [f"  - {terminal_safe(note)}" for note in result.notes]
        lines.append("")
    update = result.defects
    lines.append(
        f"Defects: {len(update.opened)} new, {len(update.seen_again)} seen again, "
        f"{len(update.reopened)} reopened, {len(update.resolved)} resolved."
    )
    keys_by_op = Counter(op for _key, op in {(c.key, c.op) for c in unplanned})
    lines.append(
        f"Items changed without a plan since baseline v{result.baseline.version}: "
        f"{keys_by_op[ChangeOp.ADDED]} added, {keys_by_op[ChangeOp.MODIFIED]} modified, "
        f"{keys_by_op[ChangeOp.REMOVED]} removed."
    )
    return "\n".join(lines) + "\n"


def changes_lines(changes: Sequence[Change]) -> list[str]:
    """Changes plan-style, one item per block, each field of a modified item on its own line."""
    lines: list[str] = []
    for key, group in groupby(changes, key=lambda c: c.key):
        items = list(group)
        first = items[0]
        label = f'  "{terminal_safe(first.label)}"' if first.label else ""
        if first.op is not ChangeOp.MODIFIED:
            lines.append(f"{_MARK[first.op]} {terminal_safe(key)}{label}  {_tag(first)}")
            lines += _note(first, "    ")
            continue
        lines.append(f"~ {terminal_safe(key)}{label}")
        for change in items:
            lines.append(f"{field_line(change)}  {_tag(change)}")
            lines += _note(change, "        ")
    lines.append("")
    return lines


def _note(change: Change, indent: str) -> list[str]:
    """A defect's reason beyond "unplanned" (implemented differently than a CR approved)."""
    if change.note and change.classification in (Classification.DEFECT, Classification.WAIVED):
        return [f"{indent}! {terminal_safe(change.note)}"]
    return []


def field_line(change: Change) -> str:
    """One field of a modified item: ``    ~ label: "Old" → "New"``."""
    return (
        f"    {_field_mark(change)} {terminal_safe(change.field or '')}: "
        f"{_value(change.before)} → {_value(change.after)}"
    )


def _field_mark(change: Change) -> str:
    if change.before is None:
        return "+"
    if change.after is None:
        return "-"
    return "~"


def _tag(change: Change) -> str:
    tag = f"[{change.severity.value}"
    who = change.attribution.user_email or change.attribution.user_id
    if who:
        when = f" {change.attribution.at:%Y-%m-%d %H:%M}" if change.attribution.at else ""
        tag += f", by {terminal_safe(who)}{when}"
    if change.defect_id is not None:
        tag += f", defect #{change.defect_id}"
    if change.classification is not Classification.DEFECT:
        tag += f", {change.classification.value}"
    if change.classification is Classification.PLANNED and change.change_request is not None:
        tag += f" by CR-{change.change_request}"
    return tag + "]"


def _value(value: Any) -> str:
    if value is None:
        return "(none)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    if len(text) > _VALUE_WIDTH:
        text = text[: _VALUE_WIDTH - 1] + "…"
    return terminal_safe(text)


def _coverage_line(result: AuditResult) -> str:
    counts: dict[str, Counter[CoverageStatus]] = {}
    for part in result.snapshot.coverage:
        counts.setdefault(part.kind.value, Counter())[part.status] += 1
    if not counts:
        return "nothing was read"
    described = []
    for kind, statuses in sorted(counts.items()):
        text = f"{kind} {statuses[CoverageStatus.COMPLETE]}/{sum(statuses.values())}"
        for status in (CoverageStatus.FAILED, CoverageStatus.UNSUPPORTED):
            if statuses[status]:
                text += f" ({statuses[status]} {status.value})"
        described.append(text)
    return ", ".join(described)


def _when(moment: Any) -> str:
    return str(moment.strftime("%Y-%m-%d %H:%M UTC"))
