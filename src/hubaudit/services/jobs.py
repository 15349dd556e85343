"""One recorded audit run: the unit of work of the nightly job, ``audit --all`` and ``audit``.

A run is claimed before it starts (so no portal is audited twice at once) and always ends in
its record: succeeded, failed with the reason, or handed back to the queue when its worker stops
(nothing of it was stored half-way: snapshots are atomic).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path

import structlog

from hubaudit.config import Config, ReportsConfig, resolve_token
from hubaudit.errors import HubauditError, RunStopped
from hubaudit.governance.ignore import load_ignore_rules
from hubaudit.hubspot.client import HubSpotClient
from hubaudit.logs import get_logger
from hubaudit.model.audit_result import AuditResult
from hubaudit.model.runs import RunRecord, RunStats, RunStatus, RunTrigger
from hubaudit.notify.dispatch import notify_run
from hubaudit.policies.severity import rules_with
from hubaudit.report import EXTENSIONS, render
from hubaudit.report.json_report import to_document
from hubaudit.services.audit_run import Clock, open_client, run_audit, utc_now
from hubaudit.services.promotion import pending_promotion_notes
from hubaudit.store.reports import ReportStore
from hubaudit.store.repository import Store
from hubaudit.store.runs import Renewal, RunStore

log = get_logger(__name__)

ClientFactory = Callable[[Config, str, threading.Event], HubSpotClient]


def default_client(config: Config, portal: str, stop: threading.Event) -> HubSpotClient:
    portal_config = config.portal(portal)
    return open_client(portal_config, resolve_token(portal_config), stop)


@dataclass(frozen=True)
class RunOutcome:
    run: RunRecord
    status: RunStatus  # succeeded, failed, or queued again (the worker stopped)
    result: AuditResult | None = None
    error: str | None = None


def execute_run(
    store: Store,
    runs: RunStore,
    config: Config,
    run: RunRecord,
    worker: str,
    stop: threading.Event,
    clock: Clock = utc_now,
    client_factory: ClientFactory = default_client,
) -> RunOutcome:
    """Audit the run's portal and record how it ended. Never raises for a failed audit."""
    with structlog.contextvars.bound_contextvars(run=run.id, portal=run.portal):
        log.info("run.started", worker=worker, round=run.scheduled_for.isoformat())
        client: HubSpotClient | None = None
        try:
            portal = config.portal(run.portal)
            ignore_file = config.ignore_file_of(portal)
            rules = load_ignore_rules(ignore_file) if ignore_file is not None else ()
            client = client_factory(config, run.portal, stop)
            result = run_audit(
                store,
                portal,
                client,
                clock=clock,
                severity_rules=rules_with(config.severity_overrides),
                ignore_rules=rules,
                policies=config.policies,
                impact=config.impact,
                min_read_share=config.audit.min_read_share,
                signoffs=config.signoffs_of(run.portal),
                vendor_governed=config.vendor_governed,
                run_id=run.id,
                expiring_days=config.reports.expiring_days,
            )
        except RunStopped:
            return stopped_run(runs, run, worker, clock(), client)
        except HubauditError as exc:
            return _failed(runs, run, worker, clock, client, str(exc))
        except Exception as exc:  # a bug must not kill the worker; its trace goes to the log
            log.exception("run.crashed")
            return _failed(runs, run, worker, clock, client, f"internal error: {exc!r}")
        finally:
            if client is not None:
                client.close()
        try:  # a paired sandbox's pending promotion: a line of the report, never a failed run
            result = replace(
                result,
                notes=(*result.notes, *pending_promotion_notes(store, config, run.portal)),
            )
        except Exception:
            log.exception("run.promotion_not_compared")
        stats = RunStats(
            snapshot_id=result.snapshot.id,
            api_calls=client.api_calls,
            rate_limited=client.transport.rate_limited,
            rate_limit_capped=client.transport.rate_limit_capped,
            items=result.snapshot.item_count,
            changes=len(result.unplanned),
            defects_opened=len(result.defects.opened) + len(result.defects.reopened),
            defects_resolved=len(result.defects.resolved),
            not_verified=len(result.not_verified),
        )
        # Publish before the run is finished: a run killed half-way through publishing is
        # still running, and the worker that takes it over publishes again (its outcome
        # includes this one; each target is notified once per run). A run already taken over
        # (this worker was presumed dead) is left to the worker that holds it now.
        if not runs.holds(run.id, worker):
            log.warning("run.claim_lost", detail="another worker took the run over")
            return RunOutcome(run, RunStatus.SUCCEEDED, result)
        try:
            result = publish(store, config, run, result)
            runs.published(run.id, clock())
        except Exception:  # publishing is after the fact: the audit itself succeeded
            log.exception("run.publish_failed")
        if not runs.finish(run.id, worker, RunStatus.SUCCEEDED, stats, clock()):
            log.warning("run.claim_lost", detail="another worker took the run over")
        log.info(
            "run.succeeded",
            snapshot=stats.snapshot_id,
            api_calls=stats.api_calls,
            rate_limited=stats.rate_limited,
            rate_limit_capped=stats.rate_limit_capped,
            changes=stats.changes,
            defects_opened=stats.defects_opened,
        )
        return RunOutcome(run, RunStatus.SUCCEEDED, result)


def publish(store: Store, config: Config, run: RunRecord, result: AuditResult) -> AuditResult:
    """Keep the run's report (``hubaudit report --run``), write its files to ``[reports]
    folder`` and send its notifications. None of it can fail the audit: a problem is logged."""
    result = replace(result, run_id=run.id)
    try:
        ReportStore(store).save_report(run.id, run.portal, to_document(result), utc_now())
    except HubauditError as exc:
        log.error("report.not_stored", error=str(exc))
    files = write_reports(config.reports, result)
    report_url = None
    if config.reports.url is not None:
        first = files[0].name if files else ""
        report_url = config.reports.url.format(portal=run.portal, run=run.id, file=first)
    targets = config.notify_of(run.portal)
    if targets:
        try:
            notify_run(store, run.id, targets, result, report_url)
        except Exception:  # a notifier's bug must not fail the run it reports
            log.exception("notify.crashed")
    return result


def report_name(result: AuditResult, fmt: str) -> str:
    return f"{result.portal}-run{result.run_id}.{EXTENSIONS[fmt]}"


def write_reports(reports: ReportsConfig, result: AuditResult) -> list[Path]:
    """Each configured format into the reports folder, written whole or not at all."""
    if reports.folder is None:
        return []
    written = []
    for fmt in reports.formats:
        target = reports.folder / report_name(result, fmt)
        try:
            reports.folder.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.partial")
            partial.write_text(render(result, fmt), encoding="utf-8")
            os.replace(partial, target)
            written.append(target)
        except OSError as exc:
            log.error("report.not_written", file=str(target), error=exc.strerror)
    return written


def stopped_run(
    runs: RunStore,
    run: RunRecord,
    worker: str,
    now: datetime,
    client: HubSpotClient | None = None,
) -> RunOutcome:
    """A run stopped half-way (nothing half-stored): a scheduled round goes back to the queue
    for the next free worker; a run started by hand is recorded as abandoned."""
    if run.trigger is RunTrigger.SCHEDULE:
        runs.release(run.id, worker, now, "abandoned: its worker stopped")
        log.warning("run.abandoned", reason="the worker is stopping; queued again")
        return RunOutcome(run, RunStatus.QUEUED, error="stopped; queued again")
    runs.finish(
        run.id, worker, RunStatus.ABANDONED, _calls(client), now, "stopped before it finished"
    )
    log.warning("run.abandoned", reason="stopped before it finished")
    return RunOutcome(run, RunStatus.ABANDONED, error="stopped before it finished")


def _calls(client: HubSpotClient | None) -> RunStats:
    """What a run that ended early had spent."""
    if client is None:
        return RunStats()
    return RunStats(
        api_calls=client.api_calls,
        rate_limited=client.transport.rate_limited,
        rate_limit_capped=client.transport.rate_limit_capped,
    )


def _failed(
    runs: RunStore,
    run: RunRecord,
    worker: str,
    clock: Clock,
    client: HubSpotClient | None,
    error: str,
) -> RunOutcome:
    runs.finish(run.id, worker, RunStatus.FAILED, _calls(client), clock(), error)
    log.error("run.failed", error=error)
    return RunOutcome(run, RunStatus.FAILED, error=error)


@contextmanager
def claims_renewed(
    runs: RunStore,
    worker: str,
    lease: timedelta,
    active: Callable[[], Mapping[int, threading.Event]],
    clock: Clock = utc_now,
    beat: Callable[[], None] = lambda: None,
) -> Iterator[None]:
    """While inside, renew the claims of the ``active()`` runs every third of ``lease`` (and
    call ``beat``). A claim taken over by another worker stops its run; a run that ended under
    this worker's hand meanwhile (finished, handed back) is left alone."""
    done = threading.Event()

    def renew() -> None:
        # often enough for the lease, and for `health` to see a fresh heartbeat
        while not done.wait(min(30.0, max(1.0, lease.total_seconds() / 3))):
            try:
                beat()
                for run_id, stop in list(active().items()):
                    if runs.renew(run_id, worker, clock(), lease) is Renewal.LOST:
                        log.warning("run.claim_lost", run=run_id, worker=worker)
                        stop.set()
            except Exception:  # a database hiccup: the next renewal tries again
                log.exception("worker.renew_failed", worker=worker)

    thread = threading.Thread(target=renew, name="hubaudit-renew", daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(timeout=10)
