"""``hubaudit health``: the container's probe."""

from __future__ import annotations

import sys

import click

from hubaudit.cli.common import EXIT_ERROR, EXIT_OK, Session, pass_session


@click.command()
@click.option(
    "--stale-after",
    type=click.IntRange(min=0),
    default=180,
    show_default=True,
    metavar="SECONDS",
    help="a worker's heartbeat older than this is dead",
)
@click.option("--database-only", is_flag=True, help="check the database, not the workers")
@pass_session
def health(session: Session, stale_after: int, database_only: bool) -> int:
    """Container probe: database and live workers.

    Exit 0 when the database answers and a scheduler or worker on this host has a fresh
    heartbeat; 1 otherwise."""
    from datetime import timedelta

    from hubaudit.services.runs import check_health

    store = session.store()  # the schema check: the database answered
    session.echo("database: ok")
    if database_only:
        return EXIT_OK
    found = check_health(store, timedelta(seconds=stale_after))
    if not found.alive:
        print(f"hubaudit: error: no live scheduler or worker on {found.host}", file=sys.stderr)
        return EXIT_ERROR
    for live in found.alive:
        age = live.heartbeat_age.total_seconds()
        session.echo(f"{live.worker.role} {live.worker.id}: heartbeat {age:.0f}s ago")
    return EXIT_OK
