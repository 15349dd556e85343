"""The nightly job: cron schedules that queue each portal's round, and workers that run them.

``Nightly`` puts one APScheduler 3 cron job per portal (its ``schedule`` in its ``timezone``)
whose only work is to queue that portal's round in the database; misfires within the grace
period still queue, several missed times coalesce into one, and a job never overlaps itself.
``Worker`` claims queued rounds through the database and audits up to ``parallel_portals`` at a
time, each paced by its own portal's rate limit. ``schedule run`` is both in one process; on
Postgres any number of ``worker`` processes, on any machines, share the queue. A round is
queued once however many schedulers see it come due, a portal has one open run at a time, and
a claim its worker stops renewing (the process died) expires and is taken over.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger

from hubaudit.config import Config, PortalConfig
from hubaudit.errors import DatabaseError
from hubaudit.logs import get_logger
from hubaudit.model.runs import RunRecord, RunTrigger
from hubaudit.services.audit_run import Clock, utc_now
from hubaudit.services.jobs import (
    ClientFactory,
    RunOutcome,
    claims_renewed,
    default_client,
    execute_run,
)
from hubaudit.store.repository import Store
from hubaudit.store.runs import RunStore

log = get_logger(__name__)


def worker_name(role: str = "worker") -> str:
    """Unique per process start: host, process id, role and a random tag (in a container the
    process id is the same after every restart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{role}:{uuid.uuid4().hex[:8]}"


def trigger_of(config: Config, portal: PortalConfig) -> CronTrigger:
    cron, zone = config.schedule_of(portal)
    return CronTrigger.from_crontab(cron, timezone=ZoneInfo(zone))


def latest_fire_time(trigger: CronTrigger, now: datetime, horizon: timedelta) -> datetime | None:
    """The last time ``trigger`` fired at or before ``now``, looking back at most ``horizon``.

    Steps are taken in UTC: a local time on the night the clocks go back is ambiguous, and
    stepping it in local time would find the same fire time again, for ever. The search starts
    a day early: on the night the clocks go forward, a time in the skipped hour moves to after
    it, and searching from inside the horizon would step over it."""
    earliest = now - horizon
    last = None
    fire = trigger.get_next_fire_time(None, earliest - timedelta(days=1))
    while fire is not None and fire <= now:
        if fire >= earliest:
            last = fire
        fire = trigger.get_next_fire_time(fire, fire.astimezone(UTC) + timedelta(microseconds=1))
    return None if last is None else last.astimezone(UTC)


@dataclass(frozen=True)
class NextRun:
    portal: str
    cron: str
    timezone: str
    at: datetime | None  # in the portal's time zone


class Nightly:
    """Queues each portal's rounds on its cron schedule."""

    def __init__(
        self,
        config: Config,
        runs: RunStore,
        clock: Clock = utc_now,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self.config = config
        self.runs = runs
        self.clock = clock
        self.on_queued = on_queued
        self.grace = timedelta(minutes=config.schedule.misfire_grace_minutes)

    def install(self, scheduler: BaseScheduler) -> None:
        for portal in self.config.portals:
            scheduler.add_job(
                self.queue_round,
                trigger=trigger_of(self.config, portal),
                args=[portal.name],
                id=portal.name,
                name=f"audit {portal.name}",
                misfire_grace_time=int(self.grace.total_seconds()),
                coalesce=True,
                max_instances=1,
                replace_existing=True,
            )

    def queue_round(self, portal: str) -> RunRecord | None:
        """Queue the portal's latest due round (if still within the grace period)."""
        now = self.clock()
        due = latest_fire_time(trigger_of(self.config, self.config.portal(portal)), now, self.grace)
        if due is None:
            return None
        queued = self.runs.enqueue(portal, due, RunTrigger.SCHEDULE, now)
        if queued is not None:
            log.info("run.queued", portal=portal, run=queued.id, round=due.isoformat())
            self.on_queued()
        return queued

    def catch_up(self) -> list[RunRecord]:
        """At start: queue every round that came due while no scheduler was running, within
        the grace period. A round already queued or done is not queued again."""
        return [r for p in self.config.portals if (r := self.queue_round(p.name)) is not None]

    def next_runs(self, now: datetime) -> list[NextRun]:
        result = []
        for portal in self.config.portals:
            cron, zone = self.config.schedule_of(portal)
            at = trigger_of(self.config, portal).get_next_fire_time(None, now)
            result.append(NextRun(portal.name, cron, zone, at))
        return result


class Worker:
    """Claims queued runs of the config's portals and audits them, ``parallel_portals`` at a
    time, renewing its claims while they run. ``stop()`` ends it: no new claim, and runs in
    flight stop at their next HubSpot request and go back to the queue."""

    def __init__(
        self,
        config: Config,
        store: Store,
        runs: RunStore,
        name: str,
        *,
        role: str = "worker",
        clock: Clock = utc_now,
        poll_seconds: float = 5.0,
        client_factory: ClientFactory = default_client,
        on_outcome: Callable[[RunOutcome], None] | None = None,
    ) -> None:
        self.on_outcome = on_outcome
        self.config = config
        self.store = store
        self.runs = runs
        self.name = name
        self.role = role
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.client_factory = client_factory
        self.lease = timedelta(seconds=config.schedule.lease_seconds)
        self.wake = threading.Event()
        self._stopping = threading.Event()
        self._active: dict[int, threading.Event] = {}
        self._lock = threading.Lock()
        self.outcomes: list[RunOutcome] = []

    def stop(self) -> None:
        self._stopping.set()
        self.wake.set()

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self, *, exit_when_idle: bool = False, only: Collection[int] | None = None) -> None:
        """Claim and run until stopped. ``exit_when_idle``: until nothing is queued or running
        (another worker's claim may yet expire and be taken over). ``only``: just these runs
        (``audit --all``'s own); otherwise scheduled rounds, and any run left behind by a
        process that died."""
        portals = [p.name for p in self.config.portals]
        slots = self.config.schedule.parallel_portals
        self._beat(started=True)
        log.info("worker.started", worker=self.name, portals=len(portals), slots=slots)
        try:
            with (
                claims_renewed(
                    self.runs, self.name, self.lease, self._active_runs, self.clock, self._beat
                ),
                ThreadPoolExecutor(slots, thread_name_prefix="hubaudit-run") as pool,
            ):
                while not self.stopping:
                    self.wake.clear()
                    try:
                        self._claim(pool, slots, portals, only)
                        if (
                            exit_when_idle
                            and not self._active
                            and not self.runs.has_open(portals, only)
                        ):
                            break  # nothing queued, and no claim of another worker to take over
                    except DatabaseError as exc:  # the database went away for a moment
                        log.error("worker.database_unavailable", worker=self.name, error=str(exc))
                    self.wake.wait(self.poll_seconds)
                with self._lock:
                    for stop in self._active.values():
                        stop.set()
        finally:
            self._stopping.set()
            try:
                self._beat(stopped=True)
            except DatabaseError as exc:
                log.error("worker.database_unavailable", worker=self.name, error=str(exc))
            log.info("worker.stopped", worker=self.name, runs=len(self.outcomes))

    def _claim(
        self,
        pool: ThreadPoolExecutor,
        slots: int,
        portals: list[str],
        only: Collection[int] | None,
    ) -> None:
        while len(self._active) < slots and not self.stopping:
            claimed = self.runs.claim_next(self.name, self.clock(), self.lease, portals, only=only)
            if claimed is None:
                return
            stop = threading.Event()
            with self._lock:
                self._active[claimed.id] = stop
            pool.submit(self._execute, claimed, stop)

    def _execute(self, run: RunRecord, stop: threading.Event) -> None:
        try:
            outcome = execute_run(
                self.store,
                self.runs,
                self.config,
                run,
                self.name,
                stop,
                self.clock,
                self.client_factory,
            )
            with self._lock:  # without the audit result: a scheduler runs for months
                self.outcomes.append(replace(outcome, result=None))
            if self.on_outcome is not None:
                self.on_outcome(outcome)
        finally:
            with self._lock:
                self._active.pop(run.id, None)
            self.wake.set()

    def _active_runs(self) -> dict[int, threading.Event]:
        with self._lock:
            return dict(self._active)

    def _beat(self, *, started: bool = False, stopped: bool = False) -> None:
        self.runs.heartbeat(
            self.name,
            socket.gethostname(),
            os.getpid(),
            self.role,
            self.clock(),
            started=started,
            stopped=stopped,
        )
