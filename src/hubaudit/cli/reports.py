"""``hubaudit report`` (a run's drift report in any format) and ``hubaudit kpis``."""

from __future__ import annotations

import click

from hubaudit.cli.common import (
    EXIT_OK,
    Session,
    format_option,
    output_option,
    pass_session,
    portal_option,
    reads_stored_data,
)

REPORT_FORMATS = ("text", "md", "html", "json", "csv", "sarif")
"""The report's formats (``hubaudit.report.FORMATS``; a test keeps the two equal), named here so
listing the commands imports no renderer."""
KPI_WEEKS = 12
"""The KPIs' default period in weeks (``services.kpis.DEFAULT_WEEKS``, checked by a test)."""


@click.command()
@portal_option
@click.option(
    "--run",
    "run_id",
    type=click.IntRange(min=1),
    metavar="ID",
    help="a run id (see `hubaudit runs`; default: the latest run with a report)",
)
@format_option(*REPORT_FORMATS)
@output_option
@pass_session
@reads_stored_data
def report(
    session: Session, portal: str | None, run_id: int | None, output_format: str, output: str | None
) -> int:
    """A run's drift report in any format.

    The latest run's report unless --run names another."""
    from hubaudit.report import render
    from hubaudit.services.reports import run_report

    name = session.portal_name(portal)
    result = run_report(session.reader(), name, run_id)
    colour = session.wants_colour(output)
    return session.emit(render(result, output_format, colour=colour), output)


@click.command()
@portal_option
@click.option(
    "--since",
    metavar="DATE",
    help=f"the period's start (default: {KPI_WEEKS} weeks before --until)",
)
@click.option("--until", metavar="DATE", help="the period's end, through that day (default: now)")
@format_option("text", "json")
@pass_session
@reads_stored_data
def kpis(
    session: Session, portal: str | None, since: str | None, until: str | None, output_format: str
) -> int:
    """Governance KPIs of a portal over a period."""
    import json
    from datetime import UTC, datetime

    from hubaudit.dates import parse_end, parse_start
    from hubaudit.report.history import stand_in_lines
    from hubaudit.report.json_report import kpis_document
    from hubaudit.report.text import kpis_lines
    from hubaudit.services.kpis import portal_kpis

    name = session.portal_name(portal)
    end = parse_end(until) if until else datetime.now(UTC)
    start = parse_start(since) if since else None
    if start is not None and start >= end:
        raise click.BadParameter("must be before --until (default: now)", param_hint="'--since'")
    found = portal_kpis(session.store(), name, start, end)
    if output_format == "json":
        session.echo(json.dumps(kpis_document(found.kpis), indent=2, ensure_ascii=False))
        return EXIT_OK
    session.echo(f"portal {name}")
    for line in stand_in_lines(found.point) if found.point is not None else []:
        session.echo(line)
    session.echo("\n".join(kpis_lines(found.kpis)).rstrip("\n"))
    return EXIT_OK
