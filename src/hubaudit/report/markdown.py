"""The Markdown report: for a pull request, a wiki page or a ticket.

Every HubSpot-provided string goes through :func:`markdown_safe`, so no emphasis, link, table
cell or HTML tag of a portal user's making survives into the page."""

from __future__ import annotations

from collections.abc import Sequence

from hubaudit.model import AuditResult, Change, Classification, FindingStatus
from hubaudit.report.escape import markdown_safe as md
from hubaudit.report.json_report import dependents_count
from hubaudit.report.links import record_url
from hubaudit.report.sections import (
    VENDOR_TITLE,
    VENDOR_WHY,
    by_group,
    coverage_parts,
    ignored_by_rule,
    no_unplanned_changes,
    of_class,
    severity_summary,
    value_json,
    who,
)
from hubaudit.report.text import item_dependents, percent

VALUE_WIDTH = 80
DEPENDENTS_SHOWN = 10


def render(result: AuditResult) -> str:
    lines: list[str] = []
    add = lines.append
    add(f"# hubaudit drift report: portal {md(result.portal)}")
    add("")
    add(
        f"Snapshot #{result.snapshot.id} taken {_when(result.snapshot.taken_at)} "
        f"({result.snapshot.item_count} items) against baseline v{result.baseline.version}, "
        f"approved by {md(result.baseline.approved_by or '')} on {_when(result.baseline.moment)}."
    )
    add("")
    lines += _summary(result)
    unplanned = result.unplanned
    add("## Unplanned changes")
    add("")
    if unplanned:
        lines += _changes(result, unplanned)
    else:
        add(no_unplanned_changes(result))
        add("")
    if result.expired_waivers:
        add("## Waivers expired")
        add("")
        add("These defects are open again:")
        add("")
        for d in result.expired_waivers:
            said = ""
            if d.waiver is not None:
                said = (
                    f": waived by {md(d.waiver.waived_by)} until {_when(d.waiver.until)} "
                    f"({md(d.waiver.reason)})"
                )
            add(f"- defect #{d.id} {md(d.key)} {md(d.field or '')}{said}")
        add("")
    for classification, title, why in (
        (Classification.PLANNED, "Planned changes", "approved change requests, in their window"),
        (Classification.WAIVED, "Waived", "defects tolerated until their waiver ends"),
        (Classification.VENDOR, VENDOR_TITLE, VENDOR_WHY),
    ):
        changes = of_class(result, classification)
        if changes:
            add(f"## {title}")
            add("")
            add(f"{len(changes)} changes: {why}.")
            add("")
            lines += _changes(result, changes)
    ignored = ignored_by_rule(result)
    if ignored:
        add("## Ignored")
        add("")
        add("| Changes | Rule |")
        add("|---:|---|")
        lines += [f"| {count} | {md(note)} |" for note, count in ignored]
        add("")
    if result.not_verified:
        add("## Not verified")
        add("")
        add("Not read completely; nothing in these parts is reported.")
        add("")
        for part in result.not_verified:
            reason = f": {md(part.reason)}" if part.reason else ""
            add(f"- **{md(part.scope)}**: {part.status.value}{reason}")
        add("")
    if result.resolved_defects:
        add("## Resolved since the last audit")
        add("")
        for d in result.resolved_defects:
            add(f"- defect #{d.id} {md(d.key)} {md(d.field or '')}: {md(d.resolution or '')}")
        add("")
    lines += _findings(result)
    lines += _surface(result)
    lines += _kpis(result)
    if result.notes:
        add("## Notes")
        add("")
        lines += [f"- {md(note)}" for note in result.notes]
        add("")
    return "\n".join(lines).rstrip("\n") + "\n"


def _summary(result: AuditResult) -> list[str]:
    update = result.defects
    unplanned = result.unplanned
    coverage = ", ".join(
        f"{kind} {complete}/{parts}"
        + (f" ({failed} failed)" if failed else "")
        + (f" ({unsupported} unsupported)" if unsupported else "")
        for kind, complete, parts, failed, unsupported in coverage_parts(result)
    )
    findings = result.finding_update
    rows = [
        ("Unplanned changes", f"{len(unplanned)} ({severity_summary(unplanned) or 'none'})"),
        (
            "Defects",
            f"{len(update.opened)} new, {len(update.seen_again)} seen again, "
            f"{len(update.reopened)} reopened, {len(update.resolved)} resolved",
        ),
        ("Planned changes", str(len(of_class(result, Classification.PLANNED)))),
        ("Waived", str(len(of_class(result, Classification.WAIVED)))),
        ("Ignored", str(len(of_class(result, Classification.IGNORED)))),
        (VENDOR_TITLE, str(len(of_class(result, Classification.VENDOR)))),
        ("Waivers expired", str(len(result.expired_waivers))),
        (
            "Not verified",
            ", ".join(md(p.scope) for p in result.not_verified) or "none",
        ),
        (
            "Policy findings",
            f"{len(result.findings)} ({len(findings.opened)} new, {len(findings.reopened)} "
            f"reopened, {len(findings.resolved)} resolved)",
        ),
        ("Parts read completely", md(coverage) or "nothing was read"),
    ]
    return ["## Summary", "", "| | |", "|---|---|", *[f"| {a} | {b} |" for a, b in rows], ""]


def _changes(result: AuditResult, changes: Sequence[Change]) -> list[str]:
    lines: list[str] = []
    for title, items in by_group(changes):
        lines += [f"### {md(title)}", ""]
        lines.append("| Item | Field | Before | After | Severity | By | Defect | Dependents |")
        lines.append("|---|---|---|---|---|---|---|---:|")
        dependents_notes: list[str] = []
        for key, group in items:
            first = group[0]
            url = record_url(result, key)
            item = f"[{md(key)}]({url})" if url else md(key)
            if first.label:
                item += f" {md(first.label)}"
            for change in group:
                severity = change.severity.value
                if change.raised_by_impact:
                    severity += f" (raised {change.raised_by_impact})"
                note = f"<br>{md(change.note)}" if change.note else ""
                lines.append(
                    f"| {item} | {md(change.field or change.op.value)}{note} | "
                    f"{md(value_json(change.before, VALUE_WIDTH))} | "
                    f"{md(value_json(change.after, VALUE_WIDTH))} | {severity} | "
                    f"{md(who(change))} | {_defect(change)} | {dependents_count(change)} |"
                )
            dependents, total = item_dependents(group)
            if total:
                shown = "; ".join(
                    f"{md(d.source)}{' ' + md(d.label) if d.label else ''}"
                    f"{'' if d.active else ' (off)'} {d.relation}"
                    + (f" ({md(d.detail)})" if d.detail else "")
                    for d in dependents[:DEPENDENTS_SHOWN]
                )
                more = f"; and {total - DEPENDENTS_SHOWN} more" if total > DEPENDENTS_SHOWN else ""
                verb = "depends" if total == 1 else "depend"
                dependents_notes.append(f"- {md(key)}: {total} {verb} on it: {shown}{more}")
        lines.append("")
        if dependents_notes:
            lines += ["What depends on these items:", "", *dependents_notes, ""]
    return lines


def _defect(change: Change) -> str:
    text = f"#{change.defect_id}" if change.defect_id is not None else ""
    if change.classification is Classification.PLANNED and change.change_request is not None:
        text = f"CR-{change.change_request}"
    return text


def _findings(result: AuditResult) -> list[str]:
    if not result.findings and not result.resolved_findings:
        return []
    fresh = set(result.finding_update.opened) | set(result.finding_update.reopened)
    lines = ["## Policy findings", ""]
    if result.findings:
        lines.append("| Severity | Policy | Item | Finding | Status | # |")
        lines.append("|---|---|---|---|---|---:|")
        for f in result.findings:
            status = f.status.value + (", new" if f.id in fresh else "")
            if f.status is FindingStatus.WAIVED and f.waiver is not None:
                status += f" until {f.waiver.until:%Y-%m-%d}"
            url = record_url(result, f.key)
            item = f"[{md(f.key)}]({url})" if url else md(f.key)
            lines.append(
                f"| {f.severity.value} | {md(f.policy)} | {item} | {md(f.message)} | "
                f"{status} | {f.id} |"
            )
        lines.append("")
    for f in result.resolved_findings:
        lines.append(
            f"- resolved: finding #{f.id} {md(f.policy)} {md(f.subject)}: {md(f.resolution or '')}"
        )
    if result.resolved_findings:
        lines.append("")
    return lines


def _surface(result: AuditResult) -> list[str]:
    if not result.surface:
        return []
    lines = [
        "## Governed surface",
        "",
        "| Area | Governed | Status | Detail |",
        "|---|---|---|---|",
    ]
    for area in result.surface:
        detail = md(area.detail)
        if area.signed_off_on is not None and area.due is not None:
            detail += (
                f" (signed off by {md(area.signed_off_by or '')} on "
                f"{area.signed_off_on:%Y-%m-%d}, due {area.due:%Y-%m-%d})"
            )
        governed = "by hubaudit" if area.governed == "read" else "manual sign-off"
        lines.append(f"| {md(area.name)} | {governed} | {area.status} | {detail} |")
    return [*lines, ""]


def _kpis(result: AuditResult) -> list[str]:
    k = result.kpis
    if k is None:
        return []
    lines = [
        "## Governance KPIs",
        "",
        f"From {k.since:%Y-%m-%d} to {k.until:%Y-%m-%d}.",
        "",
        "| Measure | Value |",
        "|---|---|",
        f"| Unplanned changes | {k.unplanned} |",
        f"| Planned changes | {k.planned} ({percent(k.planned_share)} of all) |",
        f"| {VENDOR_TITLE} | {k.vendor} |",
        f"| Defects resolved | {k.resolved} |",
        "| Mean time to resolve | "
        + (f"{k.mean_days_to_resolve:.1f} days" if k.mean_days_to_resolve is not None else "n/a")
        + " |",
        "| Open defects by age | "
        + ", ".join(f"{n} {age}" for age, n in k.open_by_age.items())
        + " |",
        "| Top changers | "
        + (", ".join(f"{md(person)} ({n})" for person, n in k.top_changers) or "none known")
        + " |",
        f"| Documentation coverage | {k.documented} of {k.custom_properties} custom properties "
        f"({percent(k.documentation_coverage)}) |",
        f"| Under baseline | {k.under_baseline} of {k.items} items ({percent(k.baseline_share)}) |",
        "",
        "| Week | Unplanned | Planned |",
        "|---|---:|---:|",
        *[f"| {w.week} | {w.unplanned} | {w.planned} |" for w in k.weeks],
        "",
    ]
    return lines


def _when(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
