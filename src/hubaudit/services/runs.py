"""The record of audit runs and of the processes that run them: recent runs, each portal's
schedule, whether a scheduler or worker is alive, and the workers that share the queue."""

from __future__ import annotations

import socket
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hubaudit.model.runs import RunRecord, WorkerInfo

if TYPE_CHECKING:
    from hubaudit.config import Config
    from hubaudit.scheduler import NextRun, Worker
    from hubaudit.store.repository import Store


def recent_runs(store: Store, portal: str | None = None, limit: int = 30) -> list[RunRecord]:
    """The newest runs first, of one portal or of all."""
    from hubaudit.store.runs import RunStore

    return RunStore(store).runs(portal, limit=limit)


def run_of(store: Store, portal: str, run_id: int) -> RunRecord | None:
    """One run of the portal (``None``: it has no such run)."""
    from hubaudit.store.runs import RunStore

    return RunStore(store).run(portal, run_id)


def run_document(run: RunRecord) -> dict[str, Any]:
    """One run, as ``runs --json`` lists it."""
    return {
        "id": run.id,
        "portal": run.portal,
        "scheduled_for": run.scheduled_for.isoformat(),
        "trigger": run.trigger,
        "status": run.status.value,
        "worker": run.worker,
        "attempts": run.attempts,
        "queued_at": _moment(run.queued_at),
        "started_at": _moment(run.started_at),
        "finished_at": _moment(run.finished_at),
        "snapshot_id": run.stats.snapshot_id,
        "api_calls": run.stats.api_calls,
        "rate_limited": run.stats.rate_limited,
        "rate_limit_capped": run.stats.rate_limit_capped,
        "items": run.stats.items,
        "changes": run.stats.changes,
        "defects_opened": run.stats.defects_opened,
        "defects_resolved": run.stats.defects_resolved,
        "not_verified": run.stats.not_verified,
        "error": run.error,
    }


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


@dataclass(frozen=True)
class LiveWorker:
    worker: WorkerInfo
    heartbeat_age: timedelta


@dataclass(frozen=True)
class Health:
    """The database answered; these schedulers and workers on ``host`` beat recently."""

    host: str
    alive: tuple[LiveWorker, ...]


def check_health(
    store: Store, stale_after: timedelta, now: datetime | None = None, host: str | None = None
) -> Health:
    """Which schedulers and workers on this host (or ``host``) have a heartbeat fresher than
    ``stale_after`` and have not stopped. Reading them is itself the database's check."""
    from hubaudit.store.runs import RunStore

    host = host or socket.gethostname()
    now = now or datetime.now(UTC)
    alive = tuple(
        LiveWorker(w, now - w.heartbeat_at)
        for w in RunStore(store).workers()
        if w.host == host and w.stopped_at is None and now - w.heartbeat_at <= stale_after
    )
    return Health(host, alive)


@dataclass(frozen=True)
class PortalSchedule:
    """A portal's cron schedule, its next run and its latest run."""

    next_run: NextRun
    last_run: RunRecord | None


def schedules(store: Store, config: Config, now: datetime | None = None) -> list[PortalSchedule]:
    """Every portal of the config: when its next round is due and how its last run went."""
    from hubaudit.scheduler import Nightly
    from hubaudit.store.runs import RunStore

    runs = RunStore(store)
    rows = []
    for next_run in Nightly(config, runs).next_runs(now or datetime.now(UTC)):
        latest = runs.runs(next_run.portal, limit=1)
        rows.append(PortalSchedule(next_run, latest[0] if latest else None))
    return rows


def schedule_document(rows: list[PortalSchedule]) -> list[dict[str, Any]]:
    """``schedule list --json``."""
    return [
        {
            "portal": row.next_run.portal,
            "cron": row.next_run.cron,
            "timezone": row.next_run.timezone,
            "next_run": _moment(row.next_run.at),
            "next_run_utc": _moment(row.next_run.at.astimezone(UTC) if row.next_run.at else None),
            "last_run": (
                {"id": row.last_run.id, "status": row.last_run.status.value}
                if row.last_run
                else None
            ),
        }
        for row in rows
    ]


def queue_worker(store: Store, config: Config, poll_seconds: float = 2.0) -> Worker:
    """A worker that claims queued runs of the config's portals (``run()`` until ``stop()``).
    Several share the queue only on a database several processes can use (Postgres)."""
    from hubaudit.scheduler import Worker, worker_name
    from hubaudit.store.runs import RunStore

    return Worker(config, store, RunStore(store), worker_name("worker"), poll_seconds=poll_seconds)


def shares_processes(store: Store) -> bool:
    """Can several processes share this database's queue? (SQLite is one process's.)"""
    return store.engine.url.get_backend_name() != "sqlite"
