"""``hubaudit runs``: recent audit runs, newest first, with what each cost and found."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from hubaudit.cli.common import EXIT_OK, Session, format_option, pass_session

if TYPE_CHECKING:
    from hubaudit.model.runs import RunRecord

MAX_LIMIT = 100_000


class Count(click.ParamType[int]):
    """A whole number from 1 to ``MAX_LIMIT`` (``-1`` or ``1e3`` is a usage error)."""

    name = "N"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> int:
        text = str(value)
        if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= MAX_LIMIT:
            self.fail(f"must be a whole number from 1 to {MAX_LIMIT}, not {text!r}", param, ctx)
        return int(text)


@click.command()
@click.option(
    "--portal",
    metavar="NAME",
    help="only this portal, as named in the config (default: every portal)",
)
@click.option("--limit", type=Count(), default=30, show_default=True, help="at most this many runs")
@format_option("text", "json")
@pass_session
def runs(session: Session, portal: str | None, limit: int, output_format: str) -> int:
    """Recent audit runs, newest first."""
    from hubaudit.services.runs import recent_runs, run_document

    if portal is not None:
        session.config().portal(portal)  # a typo is an error, never an empty list
    records = recent_runs(session.store(), portal, limit)
    if output_format == "json":
        session.echo(json.dumps([run_document(r) for r in records], indent=2))
        return EXIT_OK
    if not records:
        session.echo("no runs yet")
        return EXIT_OK
    for record in records:
        session.echo(_run_line(record))
    return EXIT_OK


def _run_line(r: RunRecord) -> str:
    from hubaudit.report.escape import terminal_safe

    took = (
        f"{(r.finished_at - r.started_at).total_seconds():.0f}s"
        if r.finished_at and r.started_at
        else "-"
    )
    return (
        f"#{r.id:<5} {terminal_safe(r.portal):<20} {r.scheduled_for:%Y-%m-%d %H:%M} "
        f"{r.trigger:<8} {r.status.value:<10} {took:>6}  calls {r.stats.api_calls} "
        f"(429s {r.stats.rate_limited}{_capped(r.stats.rate_limit_capped)})  "
        f"items {r.stats.items}  changes {r.stats.changes}  "
        f"new defects {r.stats.defects_opened}"
        + (f"  not verified {r.stats.not_verified}" if r.stats.not_verified else "")
        + f"  by {terminal_safe(r.worker or '-')}"
        + (f"\n       {terminal_safe(r.error)}" if r.error else "")
    )


def _capped(headers: int) -> str:
    """Rate-limit headers held to hubaudit's caps, when there were any."""
    return f", {headers} rate-limit header{'s' if headers != 1 else ''} capped" if headers else ""
