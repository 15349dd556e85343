"""The terminal report, plan-style: ``+`` added, ``~`` modified, ``-`` removed."""

from __future__ import annotations

import re
from collections.abc import Sequence

from hubaudit.model.audit_result import AuditResult
from hubaudit.model.changes import Change, ChangeOp, Classification
from hubaudit.model.findings import Finding, FindingStatus
from hubaudit.model.items import JSONValue
from hubaudit.model.kpis import Kpis
from hubaudit.report.escape import terminal_safe
from hubaudit.report.sections import cut, percent, plural, value_json
from hubaudit.report.view import (
    ChangeRow,
    ChangeSection,
    DefectRow,
    FindingRow,
    ItemRow,
    ReportView,
    build,
    change_row,
    finding_row,
    items_in_order,
    summary_text,
    when,
)

_VALUE_WIDTH = 70
_NAMED_WIDTH = 240  # names are worth more room than JSON: a team's members by email
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
    return render_view(build(result))


def render_view(view: ReportView) -> str:
    """The terminal report laid out from the view model; every HubSpot string made inert."""
    lines = [
        f"hubaudit drift report: portal {terminal_safe(view.portal)}",
        view.summary_line,
        f"snapshot #{view.snapshot_id} taken {when(view.taken_at)} "
        f"({plural(view.item_count, 'item')})",
        f"baseline v{view.baseline_version} approved by "
        f"{terminal_safe(view.approved_by)} on {when(view.approved_at)}",
        "parts read completely: " + view.coverage_line,
        "",
    ]
    unplanned = view.unplanned
    if unplanned.count:
        lines.append(f"Unplanned changes: {unplanned.count} ({unplanned.severity_line})")
    else:
        lines.append(view.clean_bill)
    lines.append("")
    for section in view.triage:
        lines += _section_lines(section)
    if view.handled:
        lines += [view.handled_line, ""]
        for section in view.handled:
            lines += _section_lines(section)
    if view.expired_waivers:
        lines.append("Waivers expired (these defects are open again):")
        for defect in view.expired_waivers:
            said = (
                f": waived by {terminal_safe(defect.waived_by)} until "
                f"{when(defect.waived_until)} ({terminal_safe(defect.waiver_reason or '')})"
                if defect.waived_by is not None and defect.waived_until is not None
                else ""
            )
            lines.append(f"  ! defect #{defect.id} {terminal_safe(_where(defect))}{said}")
        lines.append("")
    lines += _expiring_lines(view)
    lines += _people_lines(view)
    if view.not_verified:
        lines.append("Not verified (not read completely; nothing in these parts is reported):")
        for part in view.not_verified:
            lines.append(
                f"  ! {terminal_safe(part.scope)}: {part.status}"
                + (f": {terminal_safe(part.reason)}" if part.reason else "")
            )
        lines.append("")
    if view.resolved_defects:
        lines.append("Resolved since the last audit:")
        for defect in view.resolved_defects:
            resolution = terminal_safe(defect.resolution or "")
            lines.append(f"  ✓ defect #{defect.id} {terminal_safe(_where(defect))}: {resolution}")
        lines.append("")
    lines += _findings_lines(view)
    lines += _surface_lines(view)
    lines += kpis_lines(view.kpis)
    if view.notes:
        lines.append("Notes:")
        lines += [f"  - {terminal_safe(note)}" for note in view.notes]
        lines.append("")
    d = view.defects
    lines.append(
        f"Defects: {d.opened} new, {d.seen_again} seen again, "
        f"{d.reopened} reopened, {d.resolved} resolved."
    )
    lines.append(view.items_line)
    lines.append(view.summary_line)
    return "\n".join(lines) + "\n"


def _section_lines(section: ChangeSection) -> list[str]:
    if not section.items:
        return []
    severities = f"; {section.severity_line}" if section.severity_line else ""
    return [
        f"{section.title}: {section.count_line}{severities} ({section.why})",
        "",
        *items_lines(section.items),
    ]


def _expiring_lines(view: ReportView) -> list[str]:
    if not view.expiring:
        return []
    lines = [f"Waivers expiring within {plural(view.expiring_days, 'day')}:"]
    for row in view.expiring:
        label = f' "{terminal_safe(row.label)}"' if row.label else ""
        lines.append(
            f"  ! {row.subject} {terminal_safe(row.key)}{label}: waived by "
            f"{terminal_safe(row.by)} until {when(row.until)} ({terminal_safe(row.reason)}), "
            f"{row.left}"
        )
    return [*lines, ""]


def _people_lines(view: ReportView) -> list[str]:
    if not view.people:
        return []
    lines = ["By person (HubSpot's attribution):"]
    lines += [f"  {terminal_safe(person.line)}" for person in view.people]
    return [*lines, ""]


def _where(defect: DefectRow) -> str:
    return defect.key + (f" {defect.field}" if defect.field else "")


def changes_lines(changes: Sequence[Change]) -> list[str]:
    """Changes plan-style, one item per block, each field of a modified item on its own line,
    then what depends on the item."""
    return items_lines(items_in_order(changes), statuses=False)


def items_lines(items: Sequence[ItemRow], statuses: bool = True) -> list[str]:
    lines: list[str] = []
    for item in items:
        first = item.changes[0]
        label = f'  "{terminal_safe(item.label)}"' if item.label and item.label != item.key else ""
        status = f"  — {terminal_safe(item.status)}" if statuses else ""
        if item.op is not ChangeOp.MODIFIED:
            lines.append(f"{item.mark} {terminal_safe(item.key)}{label}  {_tag(first)}{status}")
            if item.summary:
                lines.append("    " + terminal_safe(summary_text(item.summary)))
            lines += _note(first, "    ")
        else:
            lines.append(f"~ {terminal_safe(item.key)}{label}{status}")
            for change in item.changes:
                lines.append(f"{_field_line(change)}  {_tag(change)}")
                lines += _note(change, "        ")
        if statuses:
            lines += _revert_lines(item)
        lines += _dependents_lines(item, "    ")
    lines.append("")
    return lines


def _revert_lines(item: ItemRow) -> list[str]:
    """``↩ put back: set label back to "Old"; …`` and the item's page in HubSpot."""
    back = "; ".join(cut(c.revert, _NAMED_WIDTH) for c in item.changes)
    lines = ["    ↩ put back: " + terminal_safe(back)]
    if item.url:
        lines.append(f"      in HubSpot: {terminal_safe(item.url)}")
    return lines


def _dependents_lines(item: ItemRow, indent: str) -> list[str]:
    """``← workflow:1 "Name" reads (enrollment criteria = x)``, the first few of them."""
    total = item.dependents_total
    if not total:
        return []
    lines = [f"{indent}{plural(total, 'depends', 'depend')} on it:"]
    for d in item.dependents[:DEPENDENTS_SHOWN]:
        label = f' "{terminal_safe(d.label)}"' if d.label else ""
        detail = f" ({terminal_safe(d.detail)})" if d.detail else ""
        off = "" if d.active else " [off]"
        lines.append(
            f"{indent}  ← {terminal_safe(d.source)}{label}{off} {terminal_safe(d.relation)}{detail}"
        )
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
        + ", ".join(f"{terminal_safe(w.week)} {w.unplanned}/{w.planned}" for w in k.weeks),
        f"  defects resolved: {k.resolved}, mean time to resolve "
        + (f"{k.mean_days_to_resolve:.1f} days" if k.mean_days_to_resolve is not None else "n/a"),
        "  open defects by age: "
        + ", ".join(f"{n} {terminal_safe(age)}" for age, n in k.open_by_age.items()),
        "  top changers: "
        + (", ".join(f"{terminal_safe(who)} ({n})" for who, n in k.top_changers) or "none known"),
        f"  documentation: {k.documented} of {k.custom_properties} custom properties described "
        f"({percent(k.documentation_coverage)})",
        f"  under baseline: {k.under_baseline} of {k.items} items ({percent(k.baseline_share)})",
        "",
    ]
    return lines


def _findings_lines(view: ReportView) -> list[str]:
    """Policy breaches in this snapshot, worst first; new and reopened ones marked."""
    if not view.findings and not view.resolved_findings:
        return []
    c = view.finding_counts
    lines = [
        f"Policy findings: {c.total} ({c.opened} new, "
        f"{c.reopened} reopened, {c.waived} waived, {c.resolved} resolved)"
    ]
    for finding in view.findings:
        lines.append(_finding_line(finding, "new" if finding.fresh else None))
    for finding in view.resolved_findings:
        lines.append(
            f"  ✓ finding #{finding.id} {terminal_safe(finding.policy)} "
            f"{terminal_safe(finding.subject)}: "
            f"{terminal_safe(finding.resolution or '')}"
        )
    lines.append("")
    return lines


def finding_line(finding: Finding, mark: str | None = None) -> str:
    return _finding_line(finding_row(finding, None, False), mark)


def _finding_line(finding: FindingRow, mark: str | None) -> str:
    state = ", waived" if finding.status is FindingStatus.WAIVED else ""
    label = f' "{terminal_safe(finding.label)}"' if finding.label else ""
    if mark:
        state += f", {mark}"
    return (
        f"  ! [{finding.severity.value}{state}] {terminal_safe(finding.policy)} "
        f"{terminal_safe(finding.key)}{label}: {terminal_safe(finding.message)}  "
        f"(finding #{finding.id})"
    )


def _surface_lines(view: ReportView) -> list[str]:
    """What hubaudit read, and the parts of the portal governed by manual sign-off."""
    if not view.surface:
        return []
    manual = [a for a in view.surface if a.governed == "manual"]
    signed = sum(1 for a in manual if a.status == "signed off")
    lines = [
        f"Governed surface: {plural(sum(1 for a in view.surface if a.governed == 'read'), 'kind')}"
        f" read by hubaudit; {signed} of {plural(len(manual), 'area')} without an API signed off"
    ]
    for area in view.surface:
        if area.governed == "read" and area.status == "read":
            continue
        signed_off = ""
        if area.signed_off_on is not None and area.due is not None:
            signed_off = (
                f" by {terminal_safe(area.signed_off_by or '')} on "
                f"{area.signed_off_on:%Y-%m-%d}, due {area.due:%Y-%m-%d}"
            )
        lines.append(f"  {terminal_safe(area.status):<16} {terminal_safe(area.name)}{signed_off}")
    lines.append("")
    return lines


def _note(change: ChangeRow, indent: str) -> list[str]:
    """A defect's reason beyond "unplanned" (implemented differently than a CR approved)."""
    if change.note:
        return [f"{indent}! {terminal_safe(change.note)}"]
    return []


def field_line(change: Change) -> str:
    """One field of a modified item: ``    ~ label: "Old" → "New"``."""
    return _field_line(change_row(change))


def _field_line(change: ChangeRow) -> str:
    return (
        f"    {change.field_mark} {terminal_safe(change.field_label or change.field or '')}: "
        f"{_named(change.before_text, change.before)} → {_named(change.after_text, change.after)}"
    )


def _named(text: str, value: JSONValue) -> str:
    """A value with names where it has them (``ana@acme.com (Ana Lima)``: names are worth more
    room), else as JSON."""
    width = _VALUE_WIDTH if text == value_json(value) else _NAMED_WIDTH
    return terminal_safe(cut(text, width))


def _tag(change: ChangeRow) -> str:
    tag = f"[{change.severity.value}"
    if change.raised_by_impact:
        tag += f" (raised {change.raised_by_impact}: workflows depend on it)"
    if change.who:
        at = f" {change.at:%Y-%m-%d %H:%M}" if change.at else ""
        tag += (
            f", by {terminal_safe(change.who)}{at} ({terminal_safe(change.confidence)} confidence)"
        )
    if change.defect_id is not None:
        tag += f", defect #{change.defect_id}"
    if change.classification is not Classification.DEFECT:
        tag += f", {change.classification.value}"
    if change.planned_by is not None:
        tag += f" by CR-{change.planned_by}"
    return tag + "]"
