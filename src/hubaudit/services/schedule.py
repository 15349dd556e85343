"""The nightly job in one process: cron schedules that queue each portal's round, and a worker
that runs them, until stopped. Signals and the one-scheduler-per-SQLite-file lock belong to the
edge that starts it (``schedule run``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apscheduler.schedulers.background import BackgroundScheduler

    from hubaudit.config import Config
    from hubaudit.model.runs import RunRecord
    from hubaudit.scheduler import NextRun
    from hubaudit.store.repository import Store


@dataclass(frozen=True)
class Started:
    """The schedules installed: each portal's next run, and the rounds missed while no
    scheduler ran that were queued now."""

    next_runs: tuple[NextRun, ...]
    caught_up: tuple[RunRecord, ...]


class NightlyJob:
    """``start()`` installs the schedules and queues missed rounds; ``run()`` works the queue
    until ``stop()``; ``close()`` removes the schedules. Use it as a context manager."""

    def __init__(self, store: Store, config: Config) -> None:
        from hubaudit.errors import UsageError
        from hubaudit.scheduler import Nightly, Worker, worker_name
        from hubaudit.store.runs import RunStore

        if not config.portals:
            raise UsageError("the config has no [[portals]] to schedule")
        runs = RunStore(store)
        self.worker = Worker(config, store, runs, worker_name("scheduler"), role="scheduler")
        self.nightly = Nightly(config, runs, on_queued=self.worker.wake.set)
        self._scheduler: BackgroundScheduler | None = None

    def start(self) -> Started:
        from apscheduler.schedulers.background import BackgroundScheduler

        from hubaudit.services.audit_run import utc_now

        self._scheduler = BackgroundScheduler(timezone=UTC)
        self.nightly.install(self._scheduler)
        self._scheduler.start()
        caught_up = self.nightly.catch_up()
        return Started(tuple(self.nightly.next_runs(utc_now())), tuple(caught_up))

    def run(self) -> None:
        self.worker.run()

    def stop(self) -> None:
        self.worker.stop()

    def close(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None

    def __enter__(self) -> NightlyJob:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
