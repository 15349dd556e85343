"""``hubaudit history``, ``show`` and ``diff``: a portal's stored past, read offline."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

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

if TYPE_CHECKING:
    from hubaudit.model.changes import Change


def without_names(changes: Iterable[Change]) -> tuple[Change, ...]:
    """``--keys``: the changes as hubaudit compares them, raw paths and values only."""
    return tuple(replace(c, names=None) for c in changes)


POINT_HELP = "a snapshot id, 'latest', a date (2026-03-31) or time, 'baseline' or 'baseline:N'"
"""How a point in time is named (``hubaudit.services.timetravel`` reads it)."""


@click.command()
@click.argument("key")
@portal_option
@format_option("text", "json")
@click.option("--keys", is_flag=True, help="raw field paths and values, without names")
@pass_session
@reads_stored_data
def history(session: Session, key: str, portal: str | None, output_format: str, keys: bool) -> int:
    """Every stored version of one item.

    KEY is an item key, e.g. property:deals:amount."""
    from hubaudit.report.history import history_json, history_text
    from hubaudit.services import history as service

    name = session.portal_name(portal)
    found = service.history(session.reader(), name, key)
    entries = found.entries
    if keys:
        entries = tuple(replace(e, changes=without_names(e.changes)) for e in entries)
    render = history_json if output_format == "json" else history_text
    session.out.write(render(found.portal, found.key, entries))
    return EXIT_OK


def _point(at: str | None, snapshot: str | None, baseline: str | None) -> str:
    """The point ``show`` reads, from its one of ``--at``, ``--snapshot`` and ``--baseline``."""
    given = [
        name
        for name, value in (("--at", at), ("--snapshot", snapshot), ("--baseline", baseline))
        if value is not None
    ]
    if len(given) > 1:
        raise click.UsageError(f"{' and '.join(given)} name different points: give one")
    if at is not None:
        if at.strip().isdigit() or at.strip() in ("latest", "baseline"):
            raise click.UsageError(f"--at takes a date or time, not {at!r}")
        return at
    if baseline is not None:
        if not (baseline.isascii() and baseline.strip().isdigit()):
            raise click.UsageError(f"--baseline takes a baseline version, not {baseline!r}")
        return f"baseline:{baseline.strip()}"
    ref = snapshot or "latest"
    if not (ref == "latest" or (ref.isascii() and ref.isdigit())):
        raise click.UsageError(f"--snapshot takes a snapshot id or 'latest', not {ref!r}")
    return ref


@click.command()
@click.argument("key")
@portal_option
@click.option("--at", metavar="WHEN", help="the last snapshot at or before this date or time")
@click.option("--snapshot", metavar="ID", help="a snapshot id or 'latest' (default)")
@click.option("--baseline", metavar="N", help="a baseline version")
@click.option("--raw", is_flag=True, help="HubSpot's raw JSON, not the canonical form")
@format_option("text", "json")
@pass_session
@reads_stored_data
def show(
    session: Session,
    key: str,
    portal: str | None,
    at: str | None,
    snapshot: str | None,
    baseline: str | None,
    raw: bool,
    output_format: str,
) -> int:
    """One item as a snapshot or baseline holds it.

    KEY is an item key, e.g. pipeline:deals:default."""
    from hubaudit.report.history import show_json, show_text
    from hubaudit.services import history as service

    name = session.portal_name(portal)
    point = _point(at, snapshot, baseline)
    item = service.show(session.reader(), name, key, point)
    session.out.write(show_json(item) if output_format == "json" else show_text(item, raw=raw))
    return EXIT_OK


@click.command()
@click.argument("before", metavar="FROM")
@click.argument("after", metavar="TO")
@portal_option
@format_option("text", "json")
@output_option
@click.option("--keys", is_flag=True, help="raw field paths and values, without names")
@pass_session
def diff(
    session: Session,
    before: str,
    after: str,
    portal: str | None,
    output_format: str,
    output: str | None,
    keys: bool,
) -> int:
    """Changes between two stored points in time.

    FROM and TO are each a snapshot id, 'latest', a date (2026-03-31) or time, 'baseline' (the
    latest approved version) or 'baseline:N'."""
    from hubaudit.report.history import diff_json, diff_text
    from hubaudit.services import history as service

    name = session.portal_name(portal)
    config = session.config()
    changes = service.diff(session.reader(), name, before, after, config.severity_overrides)
    if keys:
        changes = replace(changes, changes=without_names(changes.changes))
    return session.emit(
        diff_json(changes) if output_format == "json" else diff_text(changes), output
    )
