"""The terminal report, plan-style: ``+`` added, ``~`` modified, ``-`` removed."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from itertools import groupby
from typing import Any

from hubaudit.model import (
    AuditResult,
    Change,
    ChangeOp,
    Classification,
    CoverageStatus,
    Dependency,
    Finding,
    FindingStatus,
    Kpis,
)
from hubaudit.report.escape import terminal_safe
from hubaudit.report.json_report import dependents_count
from hubaudit.report.sections import VENDOR_TITLE, VENDOR_WHY, no_unplanned_changes

_MARK = {ChangeOp.ADDED: "+", ChangeOp.REMOVED: "-", ChangeOp.MODIFIED: "~"}
_VALUE_WIDTH = 70
DEPENDENTS_SHOWN = 5


_RESET = "\x1b[0m"
_COLOURS = {
    "+": "\x1b[32m",
    "-": "\x1b[31m",
    "~": "\x1b[33m",
    "!": "\x1b[35m",
    "✓": "\x1b[32m",
    "critical": "\x1b[1;31m",
    "high": "\x1b[31m",
    "medium": "\x1b[33m",
    "low": "\x1b[36m",
    "info": "\x1b[2m",
}
_MARK_AT_START = re.compile(r"^(\s*)([+~\-!✓])(?= )")
_SEVERITY_TAG = re.compile(r"\[(critical|high|medium|low|info)\b")


def render_coloured(result: AuditResult) -> str:
    """The same report with colour for a terminal: marks and severities only. HubSpot's
    strings are made terminal-safe before, so no colour or escape of theirs gets through."""
    return colourise(render(result))


def colourise(text: str) -> str:
    def mark(match: re.Match[str]) -> str:
        return f"{match.group(1)}{_COLOURS[match.group(2)]}{match.group(2)}{_RESET}"

    def severity(match: re.Match[str]) -> str:
        return f"[{_COLOURS[match.group(1)]}{match.group(1)}{_RESET}"

    return "\n".join(
        _SEVERITY_TAG.sub(severity, _MARK_AT_START.sub(mark, line)) for line in text.split("\n")
    )


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
        lines.append(no_unplanned_changes(result))
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
    vendor = [c for c in result.changes if c.classification is Classification.VENDOR]
    if vendor:
        lines.append(f"{VENDOR_TITLE}: {len(vendor)} ({VENDOR_WHY})")
        lines.append("")
        lines += changes_lines(vendor)
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
    lines += findings_lines(result)
    lines += surface_lines(result)
    lines += kpis_lines(result.kpis)
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
    """Changes plan-style, one item per block, each field of a modified item on its own line,
    then what depends on the item."""
    lines: list[str] = []
    for key, group in groupby(changes, key=lambda c: c.key):
        items = list(group)
        first = items[0]
        label = f'  "{terminal_safe(first.label)}"' if first.label else ""
        if first.op is not ChangeOp.MODIFIED:
            lines.append(f"{_MARK[first.op]} {terminal_safe(key)}{label}  {_tag(first)}")
            lines += _note(first, "    ")
        else:
            lines.append(f"~ {terminal_safe(key)}{label}")
            for change in items:
                lines.append(f"{field_line(change)}  {_tag(change)}")
                lines += _note(change, "        ")
        lines += dependents_lines(items, "    ")
    lines.append("")
    return lines


def item_dependents(changes: Sequence[Change]) -> tuple[list[Dependency], int]:
    """What depends on the item of these changes (one item's), each once, and how many."""
    seen: dict[tuple[str, str, str], Dependency] = {}
    for change in changes:
        for d in change.dependents:
            seen.setdefault((d.source, d.relation, d.detail), d)
    total = max([len(seen), *(dependents_count(c) for c in changes)])
    return list(seen.values()), total


def dependents_lines(changes: Sequence[Change], indent: str) -> list[str]:
    """``← workflow:1 "Name" reads (enrollment criteria = x)``, the first few of them."""
    dependents, total = item_dependents(changes)
    if not total:
        return []
    verb = "depends" if total == 1 else "depend"
    lines = [f"{indent}{total} {verb} on it:"]
    for d in dependents[:DEPENDENTS_SHOWN]:
        label = f' "{terminal_safe(d.label)}"' if d.label else ""
        detail = f" ({terminal_safe(d.detail)})" if d.detail else ""
        off = "" if d.active else " [off]"
        lines.append(f"{indent}  ← {terminal_safe(d.source)}{label}{off} {d.relation}{detail}")
    if total > DEPENDENTS_SHOWN:
        lines.append(
            f"{indent}  … and {total - DEPENDENTS_SHOWN} more (hubaudit impact KEY lists them all)"
        )
    return lines


def kpis_lines(k: Kpis | None) -> list[str]:
    """Governance KPIs of a period (the twelve weeks before an audit)."""
    if k is None:
        return []
    lines = [
        f"Governance KPIs, {k.since:%Y-%m-%d} to {k.until:%Y-%m-%d}:",
        f"  changes: {k.unplanned} unplanned, {k.planned} planned ({percent(k.planned_share)} "
        f"planned), {k.vendor} by HubSpot itself",
        "  per week (unplanned/planned): "
        + ", ".join(f"{w.week} {w.unplanned}/{w.planned}" for w in k.weeks),
        f"  defects resolved: {k.resolved}, mean time to resolve "
        + (f"{k.mean_days_to_resolve:.1f} days" if k.mean_days_to_resolve is not None else "n/a"),
        "  open defects by age: " + ", ".join(f"{n} {age}" for age, n in k.open_by_age.items()),
        "  top changers: "
        + (", ".join(f"{terminal_safe(who)} ({n})" for who, n in k.top_changers) or "none known"),
        f"  documentation: {k.documented} of {k.custom_properties} custom properties described "
        f"({percent(k.documentation_coverage)})",
        f"  under baseline: {k.under_baseline} of {k.items} items ({percent(k.baseline_share)})",
        "",
    ]
    return lines


def percent(share: float | None) -> str:
    return "n/a" if share is None else f"{share:.0%}"


def findings_lines(result: AuditResult) -> list[str]:
    """Policy breaches in this snapshot, worst first; new and reopened ones marked."""
    if not result.findings and not result.resolved_findings:
        return []
    update = result.finding_update
    fresh = set(update.opened) | set(update.reopened)
    waived = sum(1 for f in result.findings if f.status is FindingStatus.WAIVED)
    lines = [
        f"Policy findings: {len(result.findings)} ({len(update.opened)} new, "
        f"{len(update.reopened)} reopened, {waived} waived, {len(update.resolved)} resolved)"
    ]
    for finding in result.findings:
        lines.append(finding_line(finding, "new" if finding.id in fresh else None))
    for finding in result.resolved_findings:
        lines.append(
            f"  ✓ finding #{finding.id} {finding.policy} {terminal_safe(finding.subject)}: "
            f"{terminal_safe(finding.resolution or '')}"
        )
    lines.append("")
    return lines


def finding_line(finding: Finding, mark: str | None = None) -> str:
    state = ", waived" if finding.status is FindingStatus.WAIVED else ""
    if mark:
        state += f", {mark}"
    return (
        f"  ! [{finding.severity.value}{state}] {finding.policy} "
        f"{terminal_safe(finding.key)}: {terminal_safe(finding.message)}  (finding #{finding.id})"
    )


def surface_lines(result: AuditResult) -> list[str]:
    """What hubaudit read, and the parts of the portal governed by manual sign-off."""
    if not result.surface:
        return []
    manual = [a for a in result.surface if a.governed == "manual"]
    signed = sum(1 for a in manual if a.status == "signed off")
    lines = [
        f"Governed surface: {sum(1 for a in result.surface if a.governed == 'read')} kinds "
        f"read by hubaudit; {signed} of {len(manual)} areas without an API signed off"
    ]
    for area in result.surface:
        if area.governed == "read" and area.status == "read":
            continue
        when = ""
        if area.signed_off_on is not None and area.due is not None:
            when = (
                f" by {terminal_safe(area.signed_off_by or '')} on "
                f"{area.signed_off_on:%Y-%m-%d}, due {area.due:%Y-%m-%d}"
            )
        lines.append(f"  {area.status:<16} {terminal_safe(area.name)}{when}")
    lines.append("")
    return lines


def _note(change: Change, indent: str) -> list[str]:
    """A defect's reason beyond "unplanned" (implemented differently than a CR approved)."""
    if change.note and change.classification in (
        Classification.DEFECT,
        Classification.WAIVED,
        Classification.VENDOR,
    ):
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
    if change.raised_by_impact:
        tag += f" (raised {change.raised_by_impact}: workflows depend on it)"
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
