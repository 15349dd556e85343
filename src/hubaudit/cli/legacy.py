"""The command line: arguments, terminal output and exit codes live here and nowhere else.

Exit codes follow ``terraform plan -detailed-exitcode``: 0 nothing unplanned, 2 unplanned drift,
1 an error (with a one-line message, never a traceback for a problem the user can fix). An audit
that saw no drift but could not read every part it governs exits 1: it is not a clean bill.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TextIO

from apscheduler.schedulers.background import BackgroundScheduler

from hubaudit import __version__
from hubaudit.audit import (
    check_portal,
    open_client,
    portal_view,
    record_findings,
    require_baseline,
    take_snapshot,
    utc_now,
)
from hubaudit.cli_architecture import HANDLERS as ARCHITECTURE_HANDLERS
from hubaudit.cli_architecture import add_commands as add_architecture_commands
from hubaudit.cli_governance import HANDLERS as GOVERNANCE_HANDLERS
from hubaudit.cli_governance import add_commands as add_governance_commands
from hubaudit.cli_governance import add_defect_decisions, defect_decision, emit
from hubaudit.config import Config, PortalConfig, find_config_path, load_config, resolve_token
from hubaudit.demo import run_demo
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import HubauditError, UsageError
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.jobs import RunOutcome, claims_renewed, execute_run, stopped_run
from hubaudit.logs import configure_logging
from hubaudit.model import (
    AuditResult,
    CoverageStatus,
    Defect,
    DefectStatus,
    Kind,
    KindCoverage,
    RunRecord,
    RunStatus,
    Severity,
)
from hubaudit.report import EXTENSIONS, FORMATS, render
from hubaudit.report.escape import terminal_safe
from hubaudit.report.json_report import defect_document
from hubaudit.scheduler import Nightly, Worker, worker_name
from hubaudit.secrets import scrub
from hubaudit.store.engine import (
    make_engine,
    require_current_schema,
)
from hubaudit.store.repository import Store
from hubaudit.store.runs import RunStore

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hubaudit", description="HubSpot configuration drift and governance auditor."
    )
    parser.add_argument("--version", action="version", version=f"hubaudit {__version__}")
    parser.add_argument(
        "--config", help="config file (default: $HUBAUDIT_CONFIG or ./hubaudit.toml)"
    )
    parser.add_argument(
        "--log-format", choices=("console", "json"), help="overrides [logging] format"
    )
    parser.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        help="overrides [logging] level",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    snapshot = commands.add_parser("snapshot", help="read a portal and store a snapshot")
    snapshot.add_argument("--portal", required=True)
    snapshot.add_argument("--json", action="store_true", help="print JSON instead of text")

    add_governance_commands(commands)
    add_architecture_commands(commands)

    audit = commands.add_parser(
        "audit", help="snapshot a portal and report drift from its baseline"
    )
    which = audit.add_mutually_exclusive_group(required=True)
    which.add_argument("--portal")
    which.add_argument(
        "--all", action="store_true", help="every portal in the config, concurrently"
    )
    audit.add_argument("--format", choices=FORMATS, default="text")
    audit.add_argument(
        "--output",
        help="write the report to this file instead of stdout (with --all: a folder, one "
        "report per portal)",
    )
    audit.add_argument(
        "--fail-on",
        choices=[s.value for s in Severity],
        default=Severity.INFO.value,
        help="exit 2 only for unplanned drift at or above this severity (default: any)",
    )

    schedule = commands.add_parser("schedule", help="the nightly job").add_subparsers(
        dest="schedule_command", required=True, metavar="ACTION"
    )
    schedule.add_parser(
        "run", help="run the scheduler and a worker until SIGTERM/SIGINT (the container's job)"
    )
    schedule_list = schedule.add_parser("list", help="each portal's schedule and next run")
    schedule_list.add_argument("--json", action="store_true")
    worker = commands.add_parser(
        "worker", help="claim and run queued audits (Postgres: any number of workers)"
    )
    worker.add_argument(
        "--exit-when-idle", action="store_true", help="stop once nothing is queued or running"
    )
    runs = commands.add_parser("runs", help="recent audit runs, newest first")
    runs.add_argument("--portal")
    runs.add_argument("--limit", type=_positive, default=30)
    runs.add_argument("--json", action="store_true")
    health = commands.add_parser(
        "health", help="container probe: database reachable, a worker here is alive"
    )
    health.add_argument(
        "--stale-after",
        type=int,
        default=180,
        metavar="SECONDS",
        help="a worker's heartbeat older than this is dead (default 180)",
    )
    health.add_argument(
        "--database-only", action="store_true", help="check the database, not the workers"
    )

    defects = commands.add_parser("defects", help="architecture defects").add_subparsers(
        dest="defects_command", required=True, metavar="ACTION"
    )
    listing = defects.add_parser("list", help="list a portal's defects")
    listing.add_argument("--portal", required=True)
    listing.add_argument(
        "--status",
        action="append",
        choices=("open", "acknowledged", "resolved", "waived", "accepted"),
        help="only these statuses (repeatable); default: all",
    )
    listing.add_argument(
        "--severity", action="append", choices=[s.value for s in Severity], help="repeatable"
    )
    listing.add_argument("--kind", action="append", choices=[k.value for k in Kind])
    listing.add_argument("--since", help="last seen on or after this date (YYYY-MM-DD) or time")
    listing.add_argument("--json", action="store_true")
    show = defects.add_parser("show", help="one defect with its timeline")
    show.add_argument("id", type=int)
    show.add_argument("--portal", required=True)
    show.add_argument("--json", action="store_true")
    for name, text in (
        ("ack", "acknowledge open defects: known, being handled"),
        ("resolve", "mark defects resolved by hand (the next audit reopens any still present)"),
    ):
        decision = defects.add_parser(name, help=text)
        decision.add_argument("ids", type=int, nargs="+", metavar="ID")
        decision.add_argument("--portal", required=True)
        decision.add_argument("--by", required=True, help="who decided")
        decision.add_argument("--note", default="", required=name == "resolve")
    add_defect_decisions(defects)

    portals = commands.add_parser("portals", help="the portals in the config").add_subparsers(
        dest="portals_command", required=True, metavar="ACTION"
    )
    check = portals.add_parser("check", help="which kinds the token can read; missing scopes")
    check.add_argument("--portal", required=True)
    check.add_argument("--json", action="store_true")

    demo = commands.add_parser("demo", help="the whole story on a bundled demo portal")
    demo.add_argument("--dir", default="hubaudit-demo", help="where the demo keeps its files")

    emulator = commands.add_parser("emulator", help="serve a portal folder over HTTP")
    emulator.add_argument("--fixtures", required=True, help="a portal folder (see fixtures/demo)")
    emulator.add_argument("--port", type=int, default=8089)
    emulator.add_argument("--token", help="the bearer token to accept (default: the demo token)")
    return parser


def _positive(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 0 < int(text) <= 100_000:
        raise argparse.ArgumentTypeError(f"must be a whole number from 1 to 100000, not {text!r}")
    return int(text)


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    stdout = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        return _dispatch(args, stdout)
    except HubauditError as exc:
        print(f"hubaudit: error: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("hubaudit: interrupted; nothing half-written was kept", file=sys.stderr)
        return 130


def _dispatch(args: argparse.Namespace, out: TextIO) -> int:
    if args.command == "demo":
        configure_logging(args.log_format or "console", args.log_level or "warning")
        return _demo(args, out)
    if args.command == "emulator":
        configure_logging(args.log_format or "console", args.log_level or "info")
        return _emulator(args, out)
    config = load_config(find_config_path(args.config))
    configure_logging(
        args.log_format or config.logging.format, args.log_level or config.logging.level
    )
    if getattr(args, "portal", None) is not None:
        config.portal(args.portal)  # every --portal: a typo is an error, never a new portal
    if args.command == "portals":
        return _portals_check(args, config, out)

    engine = make_engine(config.database_url)
    try:
        require_current_schema(engine)

        store = Store(engine)
        handler = {
            "snapshot": _snapshot,
            "audit": _audit,
            "defects": _defects,
            "schedule": _schedule,
            "worker": _worker,
            "runs": _runs,
            "health": _health,
            **GOVERNANCE_HANDLERS,
            **ARCHITECTURE_HANDLERS,
        }[args.command]
        return handler(args, config, store, out)
    finally:
        engine.dispose()


def _wants_colour(out: TextIO) -> bool:
    """Colour for a person at a terminal; none when piped, or when NO_COLOR is set."""
    return bool(getattr(out, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")


def _client(config: Config, portal_name: str) -> tuple[PortalConfig, HubSpotClient]:
    portal = config.portal(portal_name)
    return portal, open_client(portal, resolve_token(portal))


def _snapshot(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    portal, client = _client(config, args.portal)
    try:
        snapshot = take_snapshot(store, portal, client, min_read_share=config.audit.min_read_share)
    finally:
        client.close()
    found, findings, _resolved = record_findings(
        store, portal_view(store, snapshot), config.policies
    )
    if args.json:
        document = {
            "id": snapshot.id,
            "portal": snapshot.portal,
            "taken_at": snapshot.taken_at.isoformat(),
            "item_count": snapshot.item_count,
            "api_calls": client.api_calls,
            "findings": len(findings),
            "findings_opened": len(found.opened) + len(found.reopened),
            "coverage": [
                {
                    "kind": c.kind.value,
                    "scope": c.scope,
                    "status": c.status.value,
                    "items": c.items,
                    "reason": c.reason,
                }
                for c in snapshot.coverage
            ],
        }
        print(json.dumps(document, indent=2), file=out)
        return EXIT_OK

    print(
        f"snapshot {snapshot.id} of {snapshot.portal}: {snapshot.item_count} items, "
        f"{client.api_calls} API calls",
        file=out,
    )
    for part in snapshot.coverage:
        reason = f"  {terminal_safe(part.reason)}" if part.reason else ""
        scope = terminal_safe(part.scope)  # custom object names come from HubSpot
        print(f"  {scope:<32} {part.status.value:<11} {part.items:>6}{reason}", file=out)
    print(
        f"policy findings: {len(findings)} ({len(found.opened) + len(found.reopened)} new); "
        f"`hubaudit findings list --portal {portal.name}` lists them",
        file=out,
    )
    return EXIT_OK


def _audit(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    if args.all:
        return _audit_all(args, config, store, out)
    require_baseline(store, args.portal)
    config.portal(args.portal)
    runs = RunStore(store)
    name = worker_name("cli")
    lease = timedelta(seconds=config.schedule.lease_seconds)
    run = runs.start_now(args.portal, "cli", name, utc_now(), lease)
    stop = threading.Event()
    try:
        with (
            claims_renewed(runs, name, lease, lambda: {run.id: stop}),
            _signals_set(stop),
        ):
            outcome = execute_run(store, runs, config, run, name, stop)
    except KeyboardInterrupt:  # a second Ctrl-C, or one outside the HubSpot requests
        stopped_run(runs, run, name, utc_now())
        raise
    if outcome.status is RunStatus.ABANDONED:
        print("hubaudit: stopped; nothing half-written was kept", file=sys.stderr)
        return 130
    if outcome.result is None:
        print(f"hubaudit: error: {terminal_safe(scrub(outcome.error or ''))}", file=sys.stderr)
        return EXIT_ERROR
    result = outcome.result
    colour = not args.output and _wants_colour(out)
    if emit(render(result, args.format, colour=colour), args.output, out) != EXIT_OK:
        return EXIT_ERROR
    if _drifted(result, args.fail_on):
        return EXIT_DRIFT
    if result.not_verified:
        # Nothing unplanned was seen, but not everything could be looked at: not a clean bill.
        parts = ", ".join(p.scope for p in result.not_verified)
        print(
            f"hubaudit: error: not verified: {terminal_safe(parts)} (see the report)",
            file=sys.stderr,
        )
        return EXIT_ERROR
    return EXIT_OK


def _drifted(result: AuditResult, fail_on: str) -> bool:
    threshold = Severity(fail_on).rank
    return any(change.severity.rank >= threshold for change in result.unplanned)


def _audit_all(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    """Every portal, ``parallel_portals`` at a time, each paced by its own limit."""
    if not config.portals:
        raise UsageError("the config has no [[portals]]")
    folder = Path(args.output) if args.output else None
    if folder is not None:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UsageError(
                f"--output {folder}: with --all it is a folder for one report per portal "
                f"({exc.strerror})"
            ) from exc
    runs = RunStore(store)
    now = utc_now()
    mine: list[int] = []
    for portal in config.portals:
        queued = runs.enqueue(portal.name, now, "all", now)
        waiting = queued or runs.open_run(portal.name)
        if waiting is not None and waiting.status is RunStatus.QUEUED:
            mine.append(waiting.id)  # a round already waiting is taken over, not doubled
    total = len(config.portals)
    done: list[RunOutcome] = []
    progress = sys.stderr.isatty()

    def finished(outcome: RunOutcome) -> None:
        done.append(outcome)
        if progress:
            print(f"[{len(done)}/{total}] {_outcome_line(outcome, args.fail_on)}", file=sys.stderr)

    worker = Worker(config, store, runs, worker_name("cli"), poll_seconds=1.0, on_outcome=finished)
    with _stopping_on_signals(worker):
        worker.run(exit_when_idle=True, only=mine)
    if worker.stopping and len(done) < total and _interrupted.is_set():
        print("hubaudit: interrupted; unfinished runs are queued again", file=sys.stderr)
    code = EXIT_OK
    outcomes = {o.run.portal: o for o in done}
    for portal in config.portals:
        outcome = outcomes.get(portal.name)
        if outcome is None:
            busy = runs.open_run(portal.name)
            why = (
                f"being audited by {busy.worker} (run #{busy.id})"
                if busy is not None and busy.status is RunStatus.RUNNING
                else "stopped before it started"
            )
            print(f"{terminal_safe(portal.name)}: not run: {terminal_safe(why)}", file=out)
            code = EXIT_ERROR
            continue
        print(_outcome_line(outcome, args.fail_on), file=out)
        if outcome.result is None:
            code = EXIT_ERROR
            continue
        if folder is not None:
            target = folder / f"{portal.name}.{EXTENSIONS[args.format]}"
            if emit(render(outcome.result, args.format), str(target), out) != EXIT_OK:
                code = EXIT_ERROR
        if _drifted(outcome.result, args.fail_on) and code == EXIT_OK:
            code = EXIT_DRIFT
    if code == EXIT_OK and any(o.result and o.result.not_verified for o in done):
        code = EXIT_ERROR
    return code


def _outcome_line(outcome: RunOutcome, fail_on: str) -> str:
    name = terminal_safe(outcome.run.portal)
    if outcome.result is None:
        return f"{name}: {outcome.status.value} (run #{outcome.run.id}): " + terminal_safe(
            outcome.error or ""
        )
    result = outcome.result
    state = "drift" if _drifted(result, fail_on) else "clean"
    if result.not_verified and state == "clean":
        state = "not verified"
    return (
        f"{name}: {state} (run #{outcome.run.id}): {len(result.unplanned)} unplanned changes, "
        f"{len(result.defects.opened)} new defects, {len(result.not_verified)} parts not verified"
    )


_interrupted = threading.Event()


@contextmanager
def _on_signals(stop: Callable[[], None], what: str) -> Iterator[None]:
    """SIGTERM and SIGINT call ``stop`` (and say ``what`` happens next) while inside."""

    def handle(signum: int, _frame: object) -> None:
        _interrupted.set()
        print(f"hubaudit: {signal.Signals(signum).name}: stopping; {what}", file=sys.stderr)
        stop()

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _signals_set(stop: threading.Event) -> AbstractContextManager[None]:
    return _on_signals(stop.set, "the run ends at its next HubSpot request")


def _stopping_on_signals(worker: Worker) -> AbstractContextManager[None]:
    return _on_signals(worker.stop, "runs in flight end at their next HubSpot request")


def _schedule(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    runs = RunStore(store)
    if args.schedule_command == "list":
        return _schedule_list(args, config, runs, out)
    if not config.portals:
        raise UsageError("the config has no [[portals]] to schedule")
    with _single_sqlite_scheduler(store):
        worker = Worker(config, store, runs, worker_name("scheduler"), role="scheduler")
        nightly = Nightly(config, runs, on_queued=worker.wake.set)
        scheduler = BackgroundScheduler(timezone=UTC)
        nightly.install(scheduler)
        scheduler.start()
        try:
            caught_up = nightly.catch_up()
            for next_run in nightly.next_runs(utc_now()):
                print(
                    f"{terminal_safe(next_run.portal)}: next run {_local(next_run.at)} "
                    f"({next_run.cron}, {next_run.timezone})",
                    file=out,
                )
            if caught_up:
                print(f"queued {len(caught_up)} runs missed while no scheduler ran", file=out)
            out.flush()
            with _stopping_on_signals(worker):
                worker.run()
        finally:
            scheduler.shutdown(wait=False)
    return EXIT_OK


def _local(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M %Z}"


def _schedule_list(args: argparse.Namespace, config: Config, runs: RunStore, out: TextIO) -> int:
    rows = []
    for next_run in Nightly(config, runs).next_runs(utc_now()):
        latest = runs.runs(next_run.portal, limit=1)
        rows.append(
            {
                "portal": next_run.portal,
                "cron": next_run.cron,
                "timezone": next_run.timezone,
                "next_run": next_run.at.isoformat() if next_run.at else None,
                "next_run_utc": next_run.at.astimezone(UTC).isoformat() if next_run.at else None,
                "last_run": {"id": latest[0].id, "status": latest[0].status.value}
                if latest
                else None,
            }
        )
        if not args.json:
            utc = _local(next_run.at.astimezone(UTC) if next_run.at else None)
            done = f"last run #{latest[0].id} {latest[0].status.value}" if latest else "never run"
            print(
                f"{terminal_safe(next_run.portal):<24} {next_run.cron:<16} "
                f"{next_run.timezone:<20} next {_local(next_run.at)} ({utc})  {done}",
                file=out,
            )
    if args.json:
        print(json.dumps(rows, indent=2), file=out)
    return EXIT_OK


@contextmanager
def _single_sqlite_scheduler(store: Store) -> Iterator[None]:
    """SQLite is one process's database: a second scheduler on it is refused, not raced."""
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


def _worker(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    if store.engine.url.get_backend_name() == "sqlite":
        raise UsageError(
            "SQLite is single-process: run one `hubaudit schedule run`, or use Postgres "
            "([database] url) to share the work between several workers"
        )
    runs = RunStore(store)
    worker = Worker(config, store, runs, worker_name("worker"), poll_seconds=2.0)
    with _stopping_on_signals(worker):
        worker.run(exit_when_idle=args.exit_when_idle)
    print(f"worker {worker.name}: {len(worker.outcomes)} runs", file=out)
    return EXIT_OK


def _runs(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    records = RunStore(store).runs(args.portal, limit=args.limit)
    if args.json:
        print(json.dumps([_run_document(r) for r in records], indent=2), file=out)
        return EXIT_OK
    if not records:
        print("no runs yet", file=out)
        return EXIT_OK
    for r in records:
        took = (
            f"{(r.finished_at - r.started_at).total_seconds():.0f}s"
            if r.finished_at and r.started_at
            else "-"
        )
        print(
            f"#{r.id:<5} {terminal_safe(r.portal):<20} {r.scheduled_for:%Y-%m-%d %H:%M} "
            f"{r.trigger:<8} {r.status.value:<10} {took:>6}  calls {r.stats.api_calls} "
            f"(429s {r.stats.rate_limited}{_capped(r.stats.rate_limit_capped)})  "
            f"items {r.stats.items}  changes {r.stats.changes}  "
            f"new defects {r.stats.defects_opened}"
            + (f"  not verified {r.stats.not_verified}" if r.stats.not_verified else "")
            + f"  by {terminal_safe(r.worker or '-')}"
            + (f"\n       {terminal_safe(r.error)}" if r.error else ""),
            file=out,
        )
    return EXIT_OK


def _capped(headers: int) -> str:
    """Rate-limit headers held to hubaudit's caps, when there were any."""
    return f", {headers} rate-limit header{'s' if headers != 1 else ''} capped" if headers else ""


def _run_document(r: RunRecord) -> dict[str, Any]:
    def moment(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": r.id,
        "portal": r.portal,
        "scheduled_for": r.scheduled_for.isoformat(),
        "trigger": r.trigger,
        "status": r.status.value,
        "worker": r.worker,
        "attempts": r.attempts,
        "queued_at": moment(r.queued_at),
        "started_at": moment(r.started_at),
        "finished_at": moment(r.finished_at),
        "snapshot_id": r.stats.snapshot_id,
        "api_calls": r.stats.api_calls,
        "rate_limited": r.stats.rate_limited,
        "rate_limit_capped": r.stats.rate_limit_capped,
        "items": r.stats.items,
        "changes": r.stats.changes,
        "defects_opened": r.stats.defects_opened,
        "defects_resolved": r.stats.defects_resolved,
        "not_verified": r.stats.not_verified,
        "error": r.error,
    }


def _health(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    """The database answered (the schema check before this) and, unless --database-only, a
    scheduler or worker on this host has a fresh heartbeat."""
    print("database: ok", file=out)
    if args.database_only:
        return EXIT_OK
    host = socket.gethostname()
    now = utc_now()
    alive = [
        w
        for w in RunStore(store).workers()
        if w.host == host
        and w.stopped_at is None
        and (now - w.heartbeat_at).total_seconds() <= args.stale_after
    ]
    if not alive:
        print(f"hubaudit: error: no live scheduler or worker on {host}", file=sys.stderr)
        return EXIT_ERROR
    for w in alive:
        age = (now - w.heartbeat_at).total_seconds()
        print(f"{w.role} {w.id}: heartbeat {age:.0f}s ago", file=out)
    return EXIT_OK


def _defects(args: argparse.Namespace, config: Config, store: Store, out: TextIO) -> int:
    config.portal(args.portal)
    if args.defects_command in ("waive", "accept"):
        return defect_decision(args, config, store, out)
    if args.defects_command == "show":
        return _defect_show(args, store, out)
    if args.defects_command in ("ack", "resolve"):
        status, allowed = {
            "ack": (DefectStatus.ACKNOWLEDGED, {DefectStatus.OPEN}),
            "resolve": (DefectStatus.RESOLVED, {DefectStatus.OPEN, DefectStatus.ACKNOWLEDGED}),
        }[args.defects_command]
        if not args.by.strip():
            raise UsageError("--by needs the name of who decided")
        changed = store.set_defect_status(
            args.portal, args.ids, status, allowed, args.by.strip(), args.note.strip(), utc_now()
        )
        for d in changed:
            print(f"defect {d.id} {terminal_safe(_where(d))}: {d.status.value}", file=out)
        return EXIT_OK
    defects = store.defects(
        args.portal,
        [DefectStatus(s) for s in args.status] if args.status else None,
        severities=[Severity(s) for s in args.severity] if args.severity else None,
        kinds=[Kind(k) for k in args.kind] if args.kind else None,
        since=_moment(args.since) if args.since else None,
    )
    if args.json:
        print(json.dumps([defect_document(d) for d in defects], indent=2), file=out)
        return EXIT_OK
    if not defects:
        print(f"no defects for {args.portal}", file=out)
        return EXIT_OK
    print(
        f"{'id':>5}  {'status':<12} {'severity':<8}  {'seen':>4}  {'last seen':<16}  item", file=out
    )
    for d in defects:
        print(
            f"{d.id:>5}  {d.status.value:<12} {d.severity.value:<8}  {d.occurrences:>4}  "
            f"{d.last_seen_at:%Y-%m-%d %H:%M}  {terminal_safe(_where(d))}{_decision(d)}",
            file=out,
        )
    return EXIT_OK


def _decision(defect: Defect) -> str:
    if defect.waiver is not None and defect.status is DefectStatus.WAIVED:
        return f"  (waived until {defect.waiver.until:%Y-%m-%d})"
    if defect.accepted_version is not None and defect.status is not DefectStatus.ACCEPTED:
        return f"  (proposed for v{defect.accepted_version})"
    return ""


def _where(defect: Defect) -> str:
    return defect.key + (f" {defect.field}" if defect.field else f" ({defect.op.value})")


def _defect_show(args: argparse.Namespace, store: Store, out: TextIO) -> int:
    defect = store.defect(args.portal, args.id)
    events = store.defect_events(defect.id)
    if args.json:
        document = defect_document(defect) | {
            "timeline": [
                {
                    "at": e.at.isoformat(),
                    "event": e.event,
                    "detail": e.detail,
                    "snapshot_id": e.snapshot_id,
                }
                for e in events
            ]
        }
        print(json.dumps(document, indent=2), file=out)
        return EXIT_OK
    label = f'  "{terminal_safe(defect.label)}"' if defect.label else ""
    lines = [
        f"defect #{defect.id}: {terminal_safe(_where(defect))}{label}",
        f"  status {defect.status.value}, severity {defect.severity.value}, "
        f"seen {defect.occurrences} times, against baseline v{defect.baseline_version}",
        f"  first seen {defect.first_seen_at:%Y-%m-%d %H:%M}, last seen "
        f"{defect.last_seen_at:%Y-%m-%d %H:%M} UTC",
        f"  before: {terminal_safe(json.dumps(defect.before, sort_keys=True))}",
        f"  after:  {terminal_safe(json.dumps(defect.after, sort_keys=True))}",
    ]
    if defect.note:
        lines.append(f"  note: {terminal_safe(defect.note)}")
    if defect.waiver is not None and defect.status is DefectStatus.WAIVED:
        lines.append(
            f"  waived by {terminal_safe(defect.waiver.waived_by)} until "
            f"{defect.waiver.until:%Y-%m-%d %H:%M} UTC: {terminal_safe(defect.waiver.reason)}"
        )
    if defect.accepted_version is not None and defect.status is not DefectStatus.ACCEPTED:
        lines.append(f"  proposed for acceptance in baseline v{defect.accepted_version}")
    if defect.resolution:
        lines.append(f"  resolution: {terminal_safe(defect.resolution)}")
    lines.append("  timeline:")
    for e in events:
        detail = ", ".join(f"{k}={json.dumps(v, sort_keys=True)}" for k, v in e.detail.items())
        lines.append(f"    {e.at:%Y-%m-%d %H:%M}  {e.event:<12} {terminal_safe(detail)}")
    print("\n".join(lines), file=out)
    return EXIT_OK


def _moment(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        raise UsageError(f"--since takes a date such as 2026-11-01, not {text!r}") from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _portals_check(args: argparse.Namespace, config: Config, out: TextIO) -> int:
    portal, client = _client(config, args.portal)
    try:
        coverage = check_portal(portal, client)
        calls = client.api_calls
    finally:
        client.close()
    failed = [c for c in coverage if c.status is CoverageStatus.FAILED]
    missing = sorted({scope for c in failed for scope in c.scopes})
    if args.json:
        document = {
            "portal": portal.name,
            "api_calls": calls,
            "readable": not failed,
            "missing_scopes": missing,
            "parts": [
                {
                    "kind": c.kind.value,
                    "scope": c.scope,
                    "status": c.status.value,
                    "items": c.items,
                    "reason": c.reason,
                    "scopes": list(c.scopes),
                }
                for c in coverage
            ],
        }
        print(json.dumps(document, indent=2), file=out)
        return EXIT_ERROR if failed else EXIT_OK
    by_kind: dict[str, list[KindCoverage]] = {}
    for part in coverage:
        by_kind.setdefault(part.kind.value, []).append(part)
    print(f"portal {portal.name}: {len(coverage)} parts read in {calls} API calls", file=out)
    for kind, parts in by_kind.items():
        statuses = {p.status for p in parts}
        worst = (
            CoverageStatus.FAILED
            if CoverageStatus.FAILED in statuses
            else CoverageStatus.UNSUPPORTED
            if statuses == {CoverageStatus.UNSUPPORTED}
            else CoverageStatus.COMPLETE
        )
        mark = {"complete": "ok", "failed": "NO", "unsupported": "--"}[worst.value]
        print(f"  {mark:<3} {kind:<18} {sum(p.items for p in parts):>6} items", file=out)
        for part in parts:
            if part.status is not CoverageStatus.COMPLETE:
                reason = terminal_safe(part.reason or "")
                print(
                    f"        {terminal_safe(part.scope)}: {part.status.value}: {reason}", file=out
                )
    if missing:
        print("Scopes HubSpot asked for: " + ", ".join(missing), file=out)
    return EXIT_ERROR if failed else EXIT_OK


def _demo(args: argparse.Namespace, out: TextIO) -> int:
    invoked = Path(sys.argv[0]).name == "hubaudit"
    run_demo(Path(args.dir).resolve(), out, command=sys.argv[0] if invoked else "hubaudit")
    return EXIT_OK


def _emulator(args: argparse.Namespace, out: TextIO) -> int:
    fixtures = Path(args.fixtures)
    if not fixtures.is_dir():
        raise UsageError(f"--fixtures {args.fixtures}: not a portal folder (see fixtures/demo)")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port {args.port}: a port is a number from 0 to 65535")
    try:
        emulator = PortalEmulator(fixtures, token=args.token or DEMO_TOKEN, port=args.port)
    except OSError as exc:
        raise UsageError(
            f"cannot serve on 127.0.0.1:{args.port}: {exc.strerror or exc} "
            "(another emulator? choose another --port)"
        ) from exc
    print(f"serving {args.fixtures} at {emulator.base_url} (Ctrl-C stops)", file=out, flush=True)
    try:
        emulator.serve_forever()
    except KeyboardInterrupt:
        return EXIT_OK
    return EXIT_OK
