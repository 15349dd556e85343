"""The HTML report: one self-contained file a RevOps lead opens on a laptop.

Summary first (new defects by severity, planned changes, parts not verified, coverage), then
the changes grouped by kind and object type with before and after side by side, who made each,
what depends on it and a link to it in HubSpot where one can be built; then findings, waivers,
the governed surface and the governance KPIs with a small inline chart. No script, no style
sheet, font or image is fetched: a Content-Security-Policy says so to the browser too. Every
HubSpot-provided string goes through :func:`html_safe`."""

from __future__ import annotations

from collections.abc import Sequence

from hubaudit import __version__
from hubaudit.model import AuditResult, Change, Classification, FindingStatus, Kpis
from hubaudit.report.escape import html_safe as h
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
    severity_counts,
    value_json,
    who,
)
from hubaudit.report.text import item_dependents, percent

VALUE_WIDTH = 1200
DEPENDENTS_SHOWN = 10

STYLE = """
body{font:14px/1.45 -apple-system,BlinkMacSystemFont,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;
color:#1f2933;margin:0;background:#f5f7fa}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px}
h3{font-size:15px;margin:18px 0 6px;color:#3e4c59}
.meta{color:#52606d;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:12px}
.card{background:#fff;border:1px solid #d9e2ec;border-radius:8px;padding:12px 16px;min-width:150px}
.card b{display:block;font-size:24px}
.chip{display:inline-block;border-radius:10px;padding:0 8px;margin:2px 2px 0 0;font-size:12px;
color:#fff}
.critical{background:#ab091e}.high{background:#d64545}.medium{background:#cb6e17}
.low{background:#2186eb}.info{background:#7b8794}
table{border-collapse:collapse;width:100%;background:#fff;border:1px solid #d9e2ec}
th,td{border-bottom:1px solid #e4e7eb;padding:6px 8px;vertical-align:top;text-align:left}
th{background:#f0f4f8;font-weight:600}
pre{margin:0;white-space:pre-wrap;word-break:break-word;font:12px/1.4 ui-monospace,Menlo,monospace}
.before{background:#fff5f5}.after{background:#f0fff4}
.key{font:12px ui-monospace,Menlo,monospace}
.deps{color:#52606d;font-size:12px;margin:4px 0 0}
.note{color:#8d2b0b;font-size:12px}
ul{margin:4px 0 0;padding-left:20px}
footer{color:#7b8794;font-size:12px;margin-top:32px}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'none'"


def render(result: AuditResult) -> str:
    body: list[str] = []
    add = body.append
    add(f"<h1>Drift report: portal {h(result.portal)}</h1>")
    add(
        f'<p class="meta">Snapshot #{result.snapshot.id} taken {_when(result.snapshot.taken_at)}'
        f" ({result.snapshot.item_count} items) · baseline v{result.baseline.version} approved "
        f"by {h(result.baseline.approved_by or '')} on {_when(result.baseline.moment)}</p>"
    )
    body += _summary(result)
    add("<h2>Unplanned changes</h2>")
    unplanned = result.unplanned
    if unplanned:
        body += _changes(result, unplanned)
    else:
        add(f"<p>{no_unplanned_changes(result)}</p>")
    if result.expired_waivers:
        add("<h2>Waivers expired</h2><p>These defects are open again:</p><ul>")
        for d in result.expired_waivers:
            said = ""
            if d.waiver is not None:
                said = (
                    f": waived by {h(d.waiver.waived_by)} until {_when(d.waiver.until)} "
                    f"({h(d.waiver.reason)})"
                )
            where = f'<span class="key">{h(d.key)} {h(d.field or "")}</span>'
            add(f"<li>defect #{d.id} {where}{said}</li>")
        add("</ul>")
    for classification, title, why in (
        (Classification.PLANNED, "Planned changes", "approved change requests, in their window"),
        (Classification.WAIVED, "Waived", "defects tolerated until their waiver ends"),
        (Classification.VENDOR, VENDOR_TITLE, VENDOR_WHY),
    ):
        changes = of_class(result, classification)
        if changes:
            add(f"<h2>{title}</h2><p>{len(changes)} changes: {why}.</p>")
            body += _changes(result, changes)
    ignored = ignored_by_rule(result)
    if ignored:
        add("<h2>Ignored</h2><table><tr><th>Changes</th><th>Rule</th></tr>")
        body += [f"<tr><td>{count}</td><td>{h(note)}</td></tr>" for note, count in ignored]
        add("</table>")
    if result.not_verified:
        add("<h2>Not verified</h2><p>Not read completely; nothing in these parts is reported.</p>")
        add("<ul>")
        for part in result.not_verified:
            reason = f": {h(part.reason)}" if part.reason else ""
            add(f'<li><span class="key">{h(part.scope)}</span>: {part.status.value}{reason}</li>')
        add("</ul>")
    if result.resolved_defects:
        add("<h2>Resolved since the last audit</h2><ul>")
        for d in result.resolved_defects:
            add(
                f'<li>defect #{d.id} <span class="key">{h(d.key)} {h(d.field or "")}</span>: '
                f"{h(d.resolution or '')}</li>"
            )
        add("</ul>")
    body += _findings(result)
    body += _surface(result)
    body += _kpis(result)
    if result.notes:
        add("<h2>Notes</h2><ul>")
        body += [f"<li>{h(note)}</li>" for note in result.notes]
        add("</ul>")
    add(f"<footer>hubaudit {h(__version__)} · report schema in the JSON format</footer>")
    return (
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        f"<title>hubaudit drift report: {h(result.portal)}</title>"
        f"<style>{STYLE}</style></head>\n<body><main>\n"
        + "\n".join(body)
        + "\n</main></body></html>\n"
    )


def _chips(changes: Sequence[Change]) -> str:
    return "".join(
        f'<span class="chip {s.value}">{n} {s.value}</span>' for s, n in severity_counts(changes)
    )


def _summary(result: AuditResult) -> list[str]:
    update = result.defects
    unplanned = result.unplanned
    new = [c for c in unplanned if c.defect_id in set(update.opened) | set(update.reopened)]
    cards = [
        ("Unplanned changes", str(len(unplanned)), _chips(unplanned)),
        (
            "New defects",
            str(len(update.opened) + len(update.reopened)),
            _chips(new)
            + f"<br>{len(update.seen_again)} seen again, {len(update.resolved)} resolved",
        ),
        ("Planned changes", str(len(of_class(result, Classification.PLANNED))), ""),
        (VENDOR_TITLE, str(len(of_class(result, Classification.VENDOR))), ""),
        (
            "Not verified",
            str(len(result.not_verified)),
            "<br>".join(h(p.scope) for p in result.not_verified),
        ),
        (
            "Policy findings",
            str(len(result.findings)),
            f"{len(result.finding_update.opened)} new, {len(result.finding_update.resolved)} "
            "resolved",
        ),
        ("Waivers expired", str(len(result.expired_waivers)), ""),
    ]
    lines = ['<section class="cards">']
    for title, number, detail in cards:
        lines.append(f'<div class="card">{title}<b>{number}</b>{detail}</div>')
    lines.append("</section>")
    coverage = ", ".join(
        f"{h(kind)} {complete}/{parts}"
        + (f" ({failed} failed)" if failed else "")
        + (f" ({unsupported} unsupported)" if unsupported else "")
        for kind, complete, parts, failed, unsupported in coverage_parts(result)
    )
    lines.append(f'<p class="meta">Parts read completely: {coverage or "nothing was read"}</p>')
    return lines


def _changes(result: AuditResult, changes: Sequence[Change]) -> list[str]:
    lines: list[str] = []
    for title, items in by_group(changes):
        lines.append(f"<h3>{h(title)}</h3>")
        lines.append(
            "<table><tr><th>Item</th><th>Field</th><th>Before</th><th>After</th>"
            "<th>Severity</th><th>Who</th><th>Defect</th></tr>"
        )
        for key, group in items:
            url = record_url(result, key)
            name = f'<span class="key">{h(key)}</span>'
            if url:
                name = f'<a href="{h(url)}" rel="noopener noreferrer" target="_blank">{name}</a>'
            if group[0].label:
                name += f"<br>{h(group[0].label)}"
            dependents, total = item_dependents(group)
            if total:
                shown = "".join(
                    f'<li><span class="key">{h(d.source)}</span> {h(d.label or "")}'
                    + ("" if d.active else " (off)")
                    + f" {d.relation}"
                    + (f" ({h(d.detail)})" if d.detail else "")
                    + "</li>"
                    for d in dependents[:DEPENDENTS_SHOWN]
                )
                more = (
                    f"<li>and {total - DEPENDENTS_SHOWN} more</li>"
                    if total > DEPENDENTS_SHOWN
                    else ""
                )
                verb = "depends" if total == 1 else "depend"
                name += f'<div class="deps">{total} {verb} on it:<ul>{shown}{more}</ul></div>'
            for index, change in enumerate(group):
                item_cell = f'<td rowspan="{len(group)}">{name}</td>' if index == 0 else ""
                raised = f" (raised {change.raised_by_impact})" if change.raised_by_impact else ""
                note = f'<div class="note">{h(change.note)}</div>' if change.note else ""
                when = f"<br>{_when(change.attribution.at)}" if change.attribution.at else ""
                defect = f"#{change.defect_id}" if change.defect_id is not None else ""
                if change.change_request is not None:
                    defect += f" CR-{change.change_request}"
                before = h(value_json(change.before, VALUE_WIDTH))
                after = h(value_json(change.after, VALUE_WIDTH))
                many = dependents_count(change)
                noun = "dependent" if many == 1 else "dependents"
                count = f" ({many} {noun})" if index == 0 and total else ""
                lines.append(
                    f"<tr>{item_cell}<td>{h(change.field or change.op.value)}{note}</td>"
                    f'<td class="before"><pre>{before}</pre></td>'
                    f'<td class="after"><pre>{after}</pre></td>'
                    f'<td><span class="chip {change.severity.value}">{change.severity.value}</span>'
                    f"{raised}</td><td>{h(who(change))}{when}</td><td>{defect}{count}</td></tr>"
                )
        lines.append("</table>")
    return lines


def _findings(result: AuditResult) -> list[str]:
    if not result.findings and not result.resolved_findings:
        return []
    fresh = set(result.finding_update.opened) | set(result.finding_update.reopened)
    lines = ["<h2>Policy findings</h2>"]
    if result.findings:
        lines.append(
            "<table><tr><th>Severity</th><th>Policy</th><th>Item</th><th>Finding</th>"
            "<th>Status</th><th>#</th></tr>"
        )
        for f in result.findings:
            status = f.status.value + (", new" if f.id in fresh else "")
            if f.status is FindingStatus.WAIVED and f.waiver is not None:
                status += f" until {f.waiver.until:%Y-%m-%d} ({h(f.waiver.reason)})"
            url = record_url(result, f.key)
            item = f'<span class="key">{h(f.key)}</span>'
            if url:
                item = f'<a href="{h(url)}" rel="noopener noreferrer" target="_blank">{item}</a>'
            lines.append(
                f'<tr><td><span class="chip {f.severity.value}">{f.severity.value}</span></td>'
                f"<td>{h(f.policy)}</td><td>{item}</td><td>{h(f.message)}"
                f'<div class="deps">{h(f.reason)}</div></td><td>{status}</td><td>{f.id}</td></tr>'
            )
        lines.append("</table>")
    if result.resolved_findings:
        lines.append("<ul>")
        lines += [
            f'<li>resolved: finding #{f.id} {h(f.policy)} <span class="key">{h(f.subject)}</span>: '
            f"{h(f.resolution or '')}</li>"
            for f in result.resolved_findings
        ]
        lines.append("</ul>")
    return lines


def _surface(result: AuditResult) -> list[str]:
    if not result.surface:
        return []
    lines = [
        "<h2>Governed surface</h2>",
        "<table><tr><th>Area</th><th>Governed</th><th>Status</th><th>Detail</th></tr>",
    ]
    for area in result.surface:
        detail = h(area.detail)
        if area.signed_off_on is not None and area.due is not None:
            detail += (
                f"<br>signed off by {h(area.signed_off_by or '')} on "
                f"{area.signed_off_on:%Y-%m-%d}, due {area.due:%Y-%m-%d}"
            )
        governed = "by hubaudit" if area.governed == "read" else "manual sign-off"
        lines.append(
            f"<tr><td>{h(area.name)}</td><td>{governed}</td><td>{h(area.status)}</td>"
            f"<td>{detail}</td></tr>"
        )
    lines.append("</table>")
    return lines


def chart(k: Kpis, width: int = 640, height: int = 160) -> str:
    """Unplanned (red) and planned (green) changes per week, stacked bars, as inline SVG."""
    weeks = k.weeks or ()
    top = max([w.unplanned + w.planned for w in weeks] + [1])
    slot = (width - 40) / max(len(weeks), 1)
    bar = max(slot * 0.7, 2)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 30}" '
        f'viewBox="0 0 {width} {height + 30}" role="img" aria-label="changes per week">',
        f'<line x1="30" y1="{height}" x2="{width}" y2="{height}" stroke="#9aa5b1"/>',
        f'<text x="0" y="12" font-size="11" fill="#52606d">{top}</text>',
    ]
    for index, week in enumerate(weeks):
        x = 35 + index * slot
        unplanned_h = height * week.unplanned / top
        planned_h = height * week.planned / top
        label = f"{week.week}: {week.unplanned} unplanned, {week.planned} planned"
        parts.append(
            f"<g><title>{h(label)}</title>"
            f'<rect x="{x:.1f}" y="{height - unplanned_h:.1f}" width="{bar:.1f}" '
            f'height="{unplanned_h:.1f}" fill="#d64545"/>'
            f'<rect x="{x:.1f}" y="{height - unplanned_h - planned_h:.1f}" width="{bar:.1f}" '
            f'height="{planned_h:.1f}" fill="#3ebd93"/></g>'
        )
        if index % max(1, len(weeks) // 6) == 0:
            parts.append(
                f'<text x="{x:.1f}" y="{height + 16}" font-size="10" fill="#52606d">'
                f"{h(week.week[5:])}</text>"
            )
    parts.append("</svg>")
    return "".join(parts)


def _kpis(result: AuditResult) -> list[str]:
    k = result.kpis
    if k is None:
        return []
    mean = f"{k.mean_days_to_resolve:.1f} days" if k.mean_days_to_resolve is not None else "n/a"
    changers = ", ".join(f"{h(person)} ({n})" for person, n in k.top_changers) or "none known"
    ages = ", ".join(f"{n} {age}" for age, n in k.open_by_age.items())
    return [
        "<h2>Governance KPIs</h2>",
        f'<p class="meta">From {k.since:%Y-%m-%d} to {k.until:%Y-%m-%d}: unplanned (red) and '
        "planned (green) changes per week.</p>",
        chart(k),
        "<table>",
        f"<tr><th>Unplanned changes</th><td>{k.unplanned}</td></tr>",
        f"<tr><th>Planned changes</th><td>{k.planned} "
        f"({percent(k.planned_share)} of all)</td></tr>",
        f"<tr><th>{VENDOR_TITLE}</th><td>{k.vendor}</td></tr>",
        f"<tr><th>Defects resolved</th><td>{k.resolved}, mean time to resolve {mean}</td></tr>",
        f"<tr><th>Open defects by age</th><td>{ages}</td></tr>",
        f"<tr><th>Top changers</th><td>{changers}</td></tr>",
        f"<tr><th>Documentation coverage</th><td>{k.documented} of {k.custom_properties} custom "
        f"properties described ({percent(k.documentation_coverage)})</td></tr>",
        f"<tr><th>Under baseline</th><td>{k.under_baseline} of {k.items} items "
        f"({percent(k.baseline_share)})</td></tr>",
        "</table>",
    ]


def _when(moment: object) -> str:
    return f"{moment:%Y-%m-%d %H:%M} UTC"
