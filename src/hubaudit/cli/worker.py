"""``hubaudit worker``: claim and run queued audits (on Postgres, any number of workers)."""

from __future__ import annotations

import click

from hubaudit.cli.common import EXIT_OK, Session, pass_session


@click.command()
@click.option("--exit-when-idle", is_flag=True, help="stop once nothing is queued or running")
@pass_session
def worker(session: Session, exit_when_idle: bool) -> int:
    """Claim and run queued audits (Postgres).

    Runs until SIGTERM/SIGINT; on Postgres any number of workers share the queue."""
    from hubaudit.cli.signals import RUNS_END, stopping_on_signals
    from hubaudit.errors import UsageError
    from hubaudit.services.runs import queue_worker, shares_processes

    store = session.store()
    if not shares_processes(store):
        raise UsageError(
            "SQLite is single-process: run one `hubaudit schedule run`, or use Postgres "
            "([database] url) to share the work between several workers"
        )
    claimer = queue_worker(store, session.config())
    with stopping_on_signals(claimer.stop, RUNS_END):
        claimer.run(exit_when_idle=exit_when_idle)
    session.echo(f"worker {claimer.name}: {len(claimer.outcomes)} runs")
    return EXIT_OK
