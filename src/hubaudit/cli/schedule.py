"""``hubaudit schedule``: the nightly job (``run``, the container's process) and its timetable.

Two things stay here at the edge: SIGTERM/SIGINT stop the job cleanly, and one scheduler per
SQLite file (a second one is refused, not raced; Postgres shares the queue between any number
of workers)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hubaudit.cli.common import EXIT_OK, Session, format_option, pass_session

if TYPE_CHECKING:
    from hubaudit.store.repository import Store


@click.group()
def schedule() -> None:
    """The nightly job and its timetable."""


@schedule.command()
@pass_session
def run(session: Session) -> int:
    """Run the scheduler and a worker until SIGTERM/SIGINT (the container's job)."""
    from hubaudit.cli.signals import RUNS_END, stopping_on_signals
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.schedule import NightlyJob

    store = session.store()
    job = NightlyJob(store, session.config())
    with single_sqlite_scheduler(store), job:
        started = job.start()
        for next_run in started.next_runs:
            session.echo(
                f"{terminal_safe(next_run.portal)}: next run {_local(next_run.at)} "
                f"({next_run.cron}, {next_run.timezone})"
            )
        if started.caught_up:
            session.echo(f"queued {len(started.caught_up)} runs missed while no scheduler ran")
        session.out.flush()
        with stopping_on_signals(job.stop, RUNS_END):
            job.run()
    return EXIT_OK


@schedule.command("list")
@format_option("text", "json")
@pass_session
def list_(session: Session, output_format: str) -> int:
    """Each portal's schedule, its next run and its last run."""
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.runs import schedule_document, schedules

    rows = schedules(session.store(), session.config())
    if output_format == "json":
        session.echo(json.dumps(schedule_document(rows), indent=2))
        return EXIT_OK
    for row in rows:
        next_run, last = row.next_run, row.last_run
        utc = _local(next_run.at.astimezone(UTC) if next_run.at else None)
        done = f"last run #{last.id} {last.status.value}" if last else "never run"
        session.echo(
            f"{terminal_safe(next_run.portal):<24} {next_run.cron:<16} "
            f"{next_run.timezone:<20} next {_local(next_run.at)} ({utc})  {done}"
        )
    return EXIT_OK


def _local(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M %Z}"


@contextmanager
def single_sqlite_scheduler(store: Store) -> Iterator[None]:
    """SQLite is one process's database: a second scheduler on it is refused, not raced."""
    import fcntl

    from hubaudit.errors import UsageError

    url = store.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    lock_path = Path(f"{url.database}.scheduler.lock")
    with lock_path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            raise UsageError(
                f"another scheduler already runs on {url.database}: SQLite is single-process; "
                "use Postgres to run several workers"
            ) from exc
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
