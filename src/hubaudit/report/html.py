"""The HTML report: one self-contained file a RevOps lead opens on a laptop.

Summary first (new defects by severity, planned changes, parts not verified, coverage), then
the changes grouped by kind and object type with before and after side by side, who made each,
what depends on it and a link to it in HubSpot where one can be built; then findings, waivers,
the governed surface and the governance KPIs with a small inline chart. No script, no style
sheet, font or image is fetched: a Content-Security-Policy says so to the browser too.

Laid out by ``templates/report.html.j2`` from the report's view model, with autoescaping on:
no HubSpot-provided string reaches the page unescaped, whether or not a template remembers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hubaudit import __version__
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.kpis import Kpis
from hubaudit.report.templating import html_environment, render_template
from hubaudit.report.view import ReportView, build

VALUE_WIDTH = 400
DEPENDENTS_SHOWN = 10


@dataclass(frozen=True)
class ChartBar:
    """One week's stacked bar: heights in pixels, ``tick`` the axis label under some."""

    title: str
    x: float
    unplanned: float
    planned: float
    tick: str | None


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    top: int
    bar_width: float
    bars: tuple[ChartBar, ...]


def chart_of(k: Kpis, width: int = 640, height: int = 160) -> Chart:
    """Unplanned and planned changes per week, scaled to the busiest week."""
    weeks = k.weeks or ()
    top = max([w.unplanned + w.planned for w in weeks] + [1])
    slot = (width - 40) / max(len(weeks), 1)
    every = max(1, len(weeks) // 6)
    bars = tuple(
        ChartBar(
            title=f"{week.week}: {week.unplanned} unplanned, {week.planned} planned",
            x=35 + index * slot,
            unplanned=height * week.unplanned / top,
            planned=height * week.planned / top,
            # counted back from the last week, so that the axis always names its last bar
            tick=week.week[5:] if (len(weeks) - 1 - index) % every == 0 else None,
        )
        for index, week in enumerate(weeks)
    )
    return Chart(width, height, top, max(slot * 0.7, 2), bars)


def render(result: AuditResult) -> str:
    return render_view(build(result))


def render_view(view: ReportView) -> str:
    return render_template(
        html_environment(),
        "report.html.j2",
        view=view,
        chart=chart_of(view.kpis) if view.kpis is not None else None,
        version=__version__,
        value_width=VALUE_WIDTH,
        dependents_shown=DEPENDENTS_SHOWN,
    )


def digest_html(lines: Sequence[str]) -> str:
    """A notification's lines as the HTML part of an email: a paragraph each, blank lines as
    breaks, every line escaped."""
    return render_template(html_environment(), "digest.html.j2", lines=lines)
