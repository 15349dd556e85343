"""Run records and claims: how any number of workers share the nightly work through one database.

A round of a portal (its cron time) is queued once: ``(portal, scheduled_for)`` is unique, and a
partial unique index allows one open (queued or running) run per portal, so a round that comes
due while the last one is still open is coalesced into it. A worker claims a queued run, or a
running one whose claim expired (its worker died), with ``FOR UPDATE SKIP LOCKED`` on Postgres
(workers never wait for each other's candidates) and a conditional update that only one worker
can win on either database. The claim lasts ``lease`` and is renewed while the audit runs.

A claim names the process that holds it (:mod:`hubaudit.processes`): a running run whose
process was on this host and is gone (``kill -9``, a crash) is taken over at once; a claim made
on another host can only be judged by its lease.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hubaudit.errors import UsageError
from hubaudit.model.runs import RunRecord, RunStats, RunStatus, RunTrigger, WorkerInfo
from hubaudit.processes import ProcessIdentity, current_process, is_gone
from hubaudit.store.outcomes import mark_published
from hubaudit.store.repository import Store, insert_ignoring_conflicts
from hubaudit.store.tables import PortalRow, RunRow, WorkerRow

_OPEN = (RunStatus.QUEUED.value, RunStatus.RUNNING.value)


class Renewal(Enum):
    RENEWED = "renewed"
    ENDED = "ended"  # the run ended under this worker's own hand (finished or handed back)
    LOST = "lost"  # another worker took the run over: stop it


class RunStore:
    """Queue, claim, renew and finish audit runs; register workers' heartbeats.

    ``process`` is the process whose claims these are (default: this one)."""

    def __init__(self, store: Store, process: ProcessIdentity | None = None) -> None:
        self.store = store
        self.process = process or current_process()

    def enqueue(
        self, portal: str, scheduled_for: datetime, trigger: RunTrigger, now: datetime
    ) -> RunRecord | None:
        """Queue the portal's run for a round. ``None`` when that round is already queued or
        done, or another run of the portal is still open (the round is coalesced into it)."""
        with self.store.session() as session:
            portal_id = self.store.portal_id(session, portal, create=True)
            builder = insert_ignoring_conflicts(session.get_bind().dialect.name)
            inserted = session.scalar(
                builder(RunRow)
                .values(
                    portal_id=portal_id,
                    scheduled_for=scheduled_for,
                    trigger=trigger,
                    status=RunStatus.QUEUED.value,
                    attempts=0,
                    queued_at=now,
                    **_stats_values(RunStats()),
                )
                .on_conflict_do_nothing()
                .returning(RunRow.id)
            )
            if inserted is None:
                return None
            return _record(session.get_one(RunRow, inserted), portal)

    def claim_next(
        self,
        worker: str,
        now: datetime,
        lease: timedelta,
        portals: Collection[str],
        *,
        only: Collection[int] | None = None,
    ) -> RunRecord | None:
        """Claim the oldest claimable run of one of ``portals``; ``None`` if there is none.

        Claimable: a running run whose claim expired, or whose process on this host is gone
        (its worker died); a queued scheduled round; a run queued by hand (``audit``, ``audit
        --all``) only by its own process (``only``) or, once it has waited a whole lease (that
        process died), by anyone."""
        if not portals:
            return None
        queued = RunRow.status == RunStatus.QUEUED.value
        if only is not None:
            claimable = and_(RunRow.id.in_(list(only)), queued)
        else:
            claimable = and_(
                queued,
                or_(RunRow.trigger == RunTrigger.SCHEDULE.value, RunRow.queued_at < now - lease),
            )
        with self.store.session() as session:
            dead = self._dead_claims(session, portals, now)
            candidates = session.execute(
                select(
                    RunRow.id,
                    RunRow.status,
                    RunRow.worker,
                    RunRow.claim_expires_at,
                    RunRow.worker_pid,
                )
                .join(PortalRow, RunRow.portal_id == PortalRow.id)
                .where(
                    PortalRow.name.in_(list(portals)),
                    or_(
                        claimable,
                        and_(
                            RunRow.status == RunStatus.RUNNING.value,
                            or_(RunRow.claim_expires_at < now, RunRow.id.in_(dead)),
                        ),
                    ),
                )
                .order_by(RunRow.scheduled_for, RunRow.id)
                .limit(8)
                .with_for_update(skip_locked=True, of=RunRow)
            ).all()
            for candidate in candidates:
                taken_over = candidate.status == RunStatus.RUNNING.value
                values: dict[str, Any] = {
                    "status": RunStatus.RUNNING.value,
                    "worker": worker,
                    "attempts": RunRow.attempts + 1,
                    "started_at": now,
                    "claim_expires_at": now + lease,
                    **self._claimer(),
                }
                if taken_over and candidate.id in dead and candidate.claim_expires_at >= now:
                    values["error"] = (
                        f"taken over from {candidate.worker}, whose process "
                        f"{candidate.worker_pid} on this host is gone"
                    )
                elif taken_over:
                    values["error"] = (
                        f"taken over from {candidate.worker}, whose claim expired at "
                        f"{candidate.claim_expires_at:%Y-%m-%d %H:%M:%S} UTC"
                    )
                won = session.execute(
                    update(RunRow)
                    .where(
                        RunRow.id == candidate.id,
                        RunRow.status == candidate.status,
                        _same(RunRow.worker, candidate.worker),
                        _same(RunRow.claim_expires_at, candidate.claim_expires_at),
                    )
                    .values(values)
                    .returning(RunRow.id)
                ).first()
                if won is not None:
                    return self._get(session, candidate.id)
            return None

    def _claimer(self) -> dict[str, Any]:
        return {
            "worker_host": self.process.host,
            "worker_namespace": self.process.namespace,
            "worker_pid": self.process.pid,
            "worker_started": self.process.started,
        }

    def _dead_claims(self, session: Session, portals: Collection[str], now: datetime) -> list[int]:
        """Running runs of ``portals`` whose claim is still in force but whose process, on
        this host, is gone."""
        here = self.process
        held = session.execute(
            select(RunRow.id, RunRow.worker_pid, RunRow.worker_started)
            .join(PortalRow, RunRow.portal_id == PortalRow.id)
            .where(
                PortalRow.name.in_(list(portals)),
                RunRow.status == RunStatus.RUNNING.value,
                RunRow.claim_expires_at >= now,
                RunRow.worker_host == here.host,
                RunRow.worker_namespace == here.namespace,
                RunRow.worker_pid.is_not(None),
            )
        ).all()
        return [
            row.id
            for row in held
            if is_gone(
                ProcessIdentity(here.host, here.namespace, row.worker_pid, row.worker_started), here
            )
        ]

    def start_now(
        self, portal: str, trigger: RunTrigger, worker: str, now: datetime, lease: timedelta
    ) -> RunRecord:
        """A run started by hand (``audit``): claims the portal's queued run if there is one,
        else records a new one. Refused while another run of the portal is in progress."""
        for _attempt in range(3):
            self.enqueue(portal, now, trigger, now)
            waiting = self.open_run(portal)
            only = [waiting.id] if waiting and waiting.status is RunStatus.QUEUED else None
            claimed = self.claim_next(worker, now, lease, [portal], only=only)
            if claimed is not None:
                return claimed
            running = self.open_run(portal)
            if running is not None and running.status is RunStatus.RUNNING:
                raise UsageError(
                    f"portal {portal!r} is being audited right now (run #{running.id} by "
                    f"{running.worker}, started {running.started_at:%Y-%m-%d %H:%M} UTC); "
                    "one run per portal at a time"
                    + (
                        "; if its worker died on another host, the run is taken over when its "
                        f"claim expires at {running.claim_expires_at:%H:%M:%S} UTC"
                        if running.claim_expires_at is not None
                        else ""
                    )
                )
        raise UsageError(f"could not start a run of portal {portal!r}: try again")

    def open_run(self, portal: str) -> RunRecord | None:
        with self.store.session() as session:
            row = session.scalars(
                select(RunRow)
                .join(PortalRow, RunRow.portal_id == PortalRow.id)
                .where(PortalRow.name == portal, RunRow.status.in_(_OPEN))
            ).first()
            return None if row is None else _record(row, portal)

    def has_open(self, portals: Collection[str], only: Collection[int] | None = None) -> bool:
        """Is a run of ``portals`` (or, given ``only``, one of those runs) queued or running?"""
        query = (
            select(RunRow.id)
            .join(PortalRow, RunRow.portal_id == PortalRow.id)
            .where(RunRow.status.in_(_OPEN), PortalRow.name.in_(list(portals)))
            .limit(1)
        )
        if only is not None:
            query = query.where(RunRow.id.in_(list(only)))
        with self.store.session() as session:
            return session.scalar(query) is not None

    def renew(self, run_id: int, worker: str, now: datetime, lease: timedelta) -> Renewal:
        """Extend a claim. ``LOST`` when another worker took the run over (the caller must
        stop that run); ``ENDED`` when this worker has just finished it or handed it back (a
        renewal racing the end of its own run is no loss)."""
        with self.store.session() as session:
            renewed = session.execute(
                update(RunRow)
                .where(*_claimed_by(run_id, worker))
                .values(claim_expires_at=now + lease)
                .returning(RunRow.id)
            ).first()
            if renewed is not None:
                return Renewal.RENEWED
            holder = session.execute(
                select(RunRow.worker, RunRow.status).where(RunRow.id == run_id)
            ).first()
        if holder is None:
            return Renewal.LOST
        if holder.worker == worker and holder.status != RunStatus.RUNNING.value:
            return Renewal.ENDED
        if holder.worker is None and holder.status == RunStatus.QUEUED.value:
            return Renewal.ENDED  # handed back to the queue: only its holder does that
        return Renewal.LOST

    def finish(
        self,
        run_id: int,
        worker: str,
        status: RunStatus,
        stats: RunStats,
        now: datetime,
        error: str | None = None,
    ) -> bool:
        """Record how a run ended. False if the claim had been lost meanwhile."""
        with self.store.session() as session:
            done = session.execute(
                update(RunRow)
                .where(*_claimed_by(run_id, worker))
                .values(
                    status=status.value,
                    finished_at=now,
                    claim_expires_at=None,
                    # a success keeps the note of how it got here (taken over, requeued)
                    error=error if error is not None else RunRow.error,
                    **_stats_values(stats),
                )
                .returning(RunRow.id)
            ).first()
            return done is not None

    def holds(self, run_id: int, worker: str) -> bool:
        """Does ``worker`` still hold the run's claim (no other worker took it over)?"""
        with self.store.session() as session:
            return session.scalar(select(RunRow.id).where(*_claimed_by(run_id, worker))) is not None

    def published(self, run_id: int, now: datetime) -> None:
        """The run's outcome was published (report, files, notifications): later runs of the
        portal need not include it."""
        with self.store.session() as session:
            mark_published(session, run_id, now)

    def release(self, run_id: int, worker: str, now: datetime, reason: str) -> None:
        """Give a claimed run back to the queue (the worker is stopping): nothing of it was
        stored half-way, and the next free worker starts it afresh."""
        with self.store.session() as session:
            session.execute(
                update(RunRow)
                .where(*_claimed_by(run_id, worker))
                .values(
                    status=RunStatus.QUEUED.value,
                    worker=None,
                    claim_expires_at=None,
                    error=f"{reason} ({worker}, {now:%Y-%m-%d %H:%M:%S} UTC)",
                )
            )

    def runs(
        self, portal: str | None = None, limit: int = 50, statuses: Collection[RunStatus] = ()
    ) -> list[RunRecord]:
        """The newest runs first."""
        with self.store.session() as session:
            query = (
                select(RunRow, PortalRow.name)
                .join(PortalRow, RunRow.portal_id == PortalRow.id)
                .order_by(RunRow.scheduled_for.desc(), RunRow.id.desc())
                .limit(limit)
            )
            if portal is not None:
                query = query.where(PortalRow.name == portal)
            if statuses:
                query = query.where(RunRow.status.in_([s.value for s in statuses]))
            return [_record(row, name) for row, name in session.execute(query)]

    def run(self, portal: str, run_id: int) -> RunRecord | None:
        """One run of the portal (``None``: the portal has no such run)."""
        with self.store.session() as session:
            found = session.execute(
                select(RunRow, PortalRow.name)
                .join(PortalRow, RunRow.portal_id == PortalRow.id)
                .where(RunRow.id == run_id, PortalRow.name == portal)
            ).first()
            return None if found is None else _record(found[0], found[1])

    def _get(self, session: Session, run_id: int) -> RunRecord:
        row, name = session.execute(
            select(RunRow, PortalRow.name)
            .join(PortalRow, RunRow.portal_id == PortalRow.id)
            .where(RunRow.id == run_id)
        ).one()
        return _record(row, name)

    # workers --------------------------------------------------------------------------------

    def heartbeat(
        self,
        worker: str,
        host: str,
        pid: int,
        role: str,
        now: datetime,
        *,
        started: bool = False,
        stopped: bool = False,
    ) -> None:
        with self.store.session() as session:
            if started:  # a name seen before (a restarted process) starts afresh
                session.execute(
                    update(WorkerRow)
                    .where(WorkerRow.id == worker)
                    .values(pid=pid, started_at=now, stopped_at=None)
                )
            row = session.get(WorkerRow, worker)
            if row is None:
                try:
                    with session.begin_nested():
                        session.add(
                            WorkerRow(
                                id=worker,
                                host=host,
                                pid=pid,
                                role=role,
                                started_at=now,
                                heartbeat_at=now,
                            )
                        )
                except IntegrityError:
                    row = session.get(WorkerRow, worker)
            if row is not None:
                row.heartbeat_at = now
            if stopped:
                session.execute(
                    update(WorkerRow).where(WorkerRow.id == worker).values(stopped_at=now)
                )

    def workers(self) -> list[WorkerInfo]:
        with self.store.session() as session:
            return [
                WorkerInfo(r.id, r.host, r.pid, r.role, r.started_at, r.heartbeat_at, r.stopped_at)
                for r in session.scalars(select(WorkerRow).order_by(WorkerRow.heartbeat_at.desc()))
            ]


def _stats_values(stats: RunStats) -> dict[str, Any]:
    return {
        "snapshot_id": stats.snapshot_id,
        "api_calls": stats.api_calls,
        "rate_limited": stats.rate_limited,
        "rate_limit_capped": stats.rate_limit_capped,
        "items": stats.items,
        "changes": stats.changes,
        "defects_opened": stats.defects_opened,
        "defects_resolved": stats.defects_resolved,
        "not_verified": stats.not_verified,
    }


def _claimed_by(run_id: int, worker: str) -> tuple[Any, ...]:
    """The run, while ``worker`` still holds its claim."""
    return (
        RunRow.id == run_id,
        RunRow.worker == worker,
        RunRow.status == RunStatus.RUNNING.value,
    )


def _same(column: Any, value: Any) -> Any:
    return column.is_(None) if value is None else column == value


def _record(row: RunRow, portal: str) -> RunRecord:
    return RunRecord(
        id=row.id,
        portal=portal,
        scheduled_for=row.scheduled_for,
        trigger=RunTrigger(row.trigger),
        status=RunStatus(row.status),
        worker=row.worker,
        attempts=row.attempts,
        queued_at=row.queued_at,
        started_at=row.started_at,
        claim_expires_at=row.claim_expires_at,
        finished_at=row.finished_at,
        stats=RunStats(
            snapshot_id=row.snapshot_id,
            api_calls=row.api_calls,
            rate_limited=row.rate_limited,
            rate_limit_capped=row.rate_limit_capped,
            items=row.items,
            changes=row.changes,
            defects_opened=row.defects_opened,
            defects_resolved=row.defects_resolved,
            not_verified=row.not_verified,
        ),
        error=row.error,
    )
