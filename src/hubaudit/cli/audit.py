"""``hubaudit audit``: snapshot a portal (or every portal) and report drift from its baseline.

Exit codes: 0 nothing unplanned, 2 unplanned drift at or above ``--fail-on``, 1 an error or a
part not verified, 130 stopped by a signal (nothing half-written is kept)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from hubaudit.cli.common import (
    EXIT_DRIFT,
    EXIT_ERROR,
    EXIT_OK,
    Session,
    format_option,
    pass_session,
    portal_option,
)

if TYPE_CHECKING:
    from hubaudit.model.changes import Severity
    from hubaudit.services.audit import AllAudited
    from hubaudit.services.jobs import RunOutcome

# The report's formats and the severities, spelled here so that `--help` imports neither the
# renderers nor the model (a test keeps them equal to hubaudit.report.FORMATS and Severity).
REPORT_FORMATS = ("text", "md", "html", "json", "csv", "sarif")
SEVERITIES = ("critical", "high", "medium", "low", "info")
EXIT_INTERRUPTED = 130


@click.command()
@portal_option
@click.option(
    "--all",
    "every_portal",
    is_flag=True,
    help="every portal in the config, concurrently (instead of --portal)",
)
@format_option(*REPORT_FORMATS)
@click.option(
    "--output",
    "--out",
    "output",
    metavar="PATH",
    help="write the report to this file instead of the terminal (with --all: a folder, one "
    "report per portal)",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES),
    default="info",
    show_default=True,
    help="exit 2 only for unplanned drift at or above this severity (info: any)",
)
@pass_session
def audit(
    session: Session,
    portal: str | None,
    every_portal: bool,
    output_format: str,
    output: str | None,
    fail_on: str,
) -> int:
    """Snapshot a portal and report drift from its baseline.

    Exit 0: nothing unplanned; 2: unplanned drift at or above --fail-on; 1: an error, or a
    part it governs not verified; 130: stopped (nothing half-written is kept)."""
    from hubaudit.model.changes import Severity

    if every_portal and portal is not None:
        raise click.UsageError("--portal and --all: choose one")
    threshold = Severity(fail_on)
    if every_portal:
        return _audit_all(session, output_format, output, threshold)
    return _audit_one(session, portal, output_format, output, threshold)


def _audit_one(
    session: Session, portal: str | None, fmt: str, output: str | None, threshold: Severity
) -> int:
    import threading

    from hubaudit.cli.signals import RUN_ENDS, stopping_on_signals
    from hubaudit.model.runs import RunStatus
    from hubaudit.report import render
    from hubaudit.report.escape import terminal_safe
    from hubaudit.secrets import scrub
    from hubaudit.services.audit import Verdict, audit_portal, verdict

    name = session.portal_name(portal)
    store = session.store()
    stop = threading.Event()
    with stopping_on_signals(stop.set, RUN_ENDS):
        outcome = audit_portal(store, session.config(), name, stop)
    if outcome.status is RunStatus.ABANDONED:
        print("hubaudit: stopped; nothing half-written was kept", file=sys.stderr)
        return EXIT_INTERRUPTED
    if outcome.result is None:
        print(f"hubaudit: error: {terminal_safe(scrub(outcome.error or ''))}", file=sys.stderr)
        return EXIT_ERROR
    result = outcome.result
    if session.emit(render(result, fmt, colour=session.wants_colour(output)), output) != EXIT_OK:
        return EXIT_ERROR
    found = verdict(result, threshold)
    if found is Verdict.DRIFT:
        return EXIT_DRIFT
    if found is Verdict.NOT_VERIFIED:
        # Nothing unplanned was seen, but not everything could be looked at: not a clean bill.
        parts = ", ".join(part.scope for part in result.not_verified)
        print(
            f"hubaudit: error: not verified: {terminal_safe(parts)} (see the report)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK


def _audit_all(session: Session, fmt: str, output: str | None, threshold: Severity) -> int:
    """Every portal, ``parallel_portals`` at a time, each paced by its own limit."""
    from hubaudit.cli.signals import RUNS_END, stopping_on_signals
    from hubaudit.errors import UsageError
    from hubaudit.report import EXTENSIONS, render
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.audit import AllPortalsAudit, Verdict, verdict

    config = session.config()
    folder = Path(output) if output else None
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"--output {folder}: with --all it is a folder for one report per portal "
                f"({exc.strerror})"
            ) from exc
    progress = sys.stderr.isatty()
    every: AllPortalsAudit | None = None

    def finished(outcome: RunOutcome) -> None:
        if progress and every is not None:
            line = _outcome_line(outcome, threshold)
            print(f"[{every.done}/{every.total}] {line}", file=sys.stderr)

    every = AllPortalsAudit(session.store(), config, on_outcome=finished)
    with stopping_on_signals(every.stop, RUNS_END):
        done: AllAudited = every.run()
    if done.stopped_early:
        print("hubaudit: interrupted; unfinished runs are queued again", file=sys.stderr)
    code = EXIT_OK
    for round_ in done.rounds:
        if round_.outcome is None:
            why = terminal_safe(round_.not_run or "")
            session.echo(f"{terminal_safe(round_.portal)}: not run: {why}")
            code = EXIT_ERROR
            continue
        session.echo(_outcome_line(round_.outcome, threshold))
        result = round_.outcome.result
        if result is None:
            code = EXIT_ERROR
            continue
        if folder is not None:
            target = folder / f"{round_.portal}.{EXTENSIONS[fmt]}"
            if session.emit(render(result, fmt), str(target)) != EXIT_OK:
                code = EXIT_ERROR
        if verdict(result, threshold) is Verdict.DRIFT and code == EXIT_OK:
            code = EXIT_DRIFT
    if code == EXIT_OK and any(r.result and r.result.not_verified for r in done.rounds):
        code = EXIT_ERROR
    return code


def _outcome_line(outcome: RunOutcome, threshold: Severity) -> str:
    from hubaudit.report.escape import terminal_safe
    from hubaudit.services.audit import verdict

    name = terminal_safe(outcome.run.portal)
    result = outcome.result
    if result is None:
        error = terminal_safe(outcome.error or "")
        return f"{name}: {outcome.status.value} (run #{outcome.run.id}): {error}"
    return (
        f"{name}: {verdict(result, threshold).value} (run #{outcome.run.id}): "
        f"{len(result.unplanned)} unplanned changes, {len(result.defects.opened)} new defects, "
        f"{len(result.not_verified)} parts not verified"
    )
