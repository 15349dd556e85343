"""The nightly job driven by a fake clock: cron times in several time zones, misfires,
coalescing, one run per portal at a time; claims, takeovers and clean stops of workers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import apscheduler.executors.base
import apscheduler.schedulers.base
import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.base import BaseScheduler

from hubaudit.config import Config, PortalConfig, ScheduleConfig, parse_config
from hubaudit.errors import ConfigError, UsageError
from hubaudit.model.runs import RunStats, RunStatus
from hubaudit.scheduler import Nightly, latest_fire_time, trigger_of
from hubaudit.store.repository import Store
from hubaudit.store.runs import Renewal, RunStore


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class ManualScheduler(BaseScheduler):
    """APScheduler's own job processing, stepped by the test instead of a thread."""

    def wakeup(self) -> None:
        pass

    def shutdown(self, wait: bool = True) -> None:
        super().shutdown(wait)

    def _create_default_executor(self) -> Any:
        return ThreadPoolExecutor(4)

    def tick(self) -> None:
        """Process what is due, then wait until every job it started has finished."""
        self._process_jobs()
        executor = self._lookup_executor("default")
        deadline = time.monotonic() + 30
        while any(executor._instances.values()) and time.monotonic() < deadline:
            time.sleep(0.005)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """One fake time for us and for APScheduler's scheduler and executors."""
    fake = FakeClock(datetime(2026, 6, 10, 12, 0, tzinfo=UTC))

    class FakeDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return fake.now.astimezone(tz) if tz is not None else fake.now.replace(tzinfo=None)

    monkeypatch.setattr(apscheduler.schedulers.base, "datetime", FakeDatetime)
    monkeypatch.setattr(apscheduler.executors.base, "datetime", FakeDatetime)
    return fake


def config_with(*portals: PortalConfig, grace_minutes: int = 120) -> Config:
    return Config(
        database_url="sqlite://",
        portals=portals,
        schedule=ScheduleConfig(misfire_grace_minutes=grace_minutes),
    )


def portal(name: str, schedule: str | None = None, timezone: str | None = None) -> PortalConfig:
    return PortalConfig(name=name, token_env="T", schedule=schedule, timezone=timezone)


@pytest.fixture
def scheduler(clock: FakeClock) -> Iterator[ManualScheduler]:
    manual = ManualScheduler(timezone=UTC)
    manual.start()
    yield manual
    manual.shutdown(wait=True)


def queued_rounds(runs: RunStore, name: str) -> list[datetime]:
    return sorted(r.scheduled_for for r in runs.runs(name, limit=1000))


def step(
    scheduler: ManualScheduler,
    clock: FakeClock,
    hours: float,
    minutes: int = 5,
    work: RunStore | None = None,
) -> None:
    """Advance the fake clock in small steps, letting APScheduler run what comes due; with
    ``work``, an instant worker finishes every queued run at each step."""
    for _ in range(int(hours * 60 / minutes)):
        clock.advance(minutes=minutes)
        scheduler.tick()
        while work is not None and (
            run := work.claim_next("instant", clock.now, timedelta(minutes=1), ALL)
        ):
            work.finish(run.id, "instant", RunStatus.SUCCEEDED, RunStats(), clock.now)


ALL = ("new-york", "paris", "utc", "busy", "slow", "acme")


def test_cron_times_follow_each_portals_time_zone(
    store: Store, clock: FakeClock, scheduler: ManualScheduler
) -> None:
    runs = RunStore(store)
    config = config_with(
        portal("new-york", "0 2 * * *", "America/New_York"),
        portal("paris", "30 1 * * *", "Europe/Paris"),
        portal("utc"),  # the default: 0 2 * * * in UTC
    )
    nightly = Nightly(config, runs, clock)
    summer = {n.portal: n.at for n in nightly.next_runs(clock.now)}
    assert {k: v.astimezone(UTC) for k, v in summer.items() if v} == {
        "new-york": datetime(2026, 6, 11, 6, 0, tzinfo=UTC),  # EDT, UTC-4
        "paris": datetime(2026, 6, 10, 23, 30, tzinfo=UTC),  # CEST, UTC+2
        "utc": datetime(2026, 6, 11, 2, 0, tzinfo=UTC),
    }
    winter = {n.portal: n.at for n in nightly.next_runs(datetime(2026, 12, 1, 12, tzinfo=UTC))}
    assert winter["new-york"] is not None
    assert winter["new-york"].astimezone(UTC) == datetime(2026, 12, 2, 7, 0, tzinfo=UTC)

    nightly.install(scheduler)
    step(scheduler, clock, hours=48, work=runs)
    assert queued_rounds(runs, "paris") == [
        datetime(2026, 6, 10, 23, 30, tzinfo=UTC),
        datetime(2026, 6, 11, 23, 30, tzinfo=UTC),
    ]
    assert queued_rounds(runs, "new-york") == [
        datetime(2026, 6, 11, 6, 0, tzinfo=UTC),
        datetime(2026, 6, 12, 6, 0, tzinfo=UTC),
    ]
    assert queued_rounds(runs, "utc") == [
        datetime(2026, 6, 11, 2, 0, tzinfo=UTC),
        datetime(2026, 6, 12, 2, 0, tzinfo=UTC),
    ]


def test_a_late_run_starts_within_the_grace_period_and_is_skipped_after_it(
    store: Store, clock: FakeClock, scheduler: ManualScheduler
) -> None:
    runs = RunStore(store)
    nightly = Nightly(config_with(portal("utc"), grace_minutes=120), runs, clock)
    nightly.install(scheduler)
    missed: list[JobExecutionEvent] = []
    scheduler.add_listener(missed.append, EVENT_JOB_MISSED)

    clock.now = datetime(2026, 6, 11, 3, 30, tzinfo=UTC)  # 90 minutes late: still runs
    scheduler.tick()
    step(scheduler, clock, hours=0.1)
    assert queued_rounds(runs, "utc") == [datetime(2026, 6, 11, 2, 0, tzinfo=UTC)]
    runs.finish(
        runs.claim_next("w", clock.now, timedelta(minutes=5), ["utc"]).id,  # type: ignore[union-attr]
        "w",
        RunStatus.SUCCEEDED,
        RunStats(),
        clock.now,
    )

    clock.now = datetime(2026, 6, 12, 5, 0, tzinfo=UTC)  # three hours late: skipped
    scheduler.tick()
    step(scheduler, clock, hours=0.1)
    assert queued_rounds(runs, "utc") == [datetime(2026, 6, 11, 2, 0, tzinfo=UTC)]
    assert len(missed) == 1


def test_missed_times_coalesce_into_one_run(
    store: Store, clock: FakeClock, scheduler: ManualScheduler
) -> None:
    runs = RunStore(store)
    nightly = Nightly(config_with(portal("busy", "*/15 * * * *")), runs, clock)
    nightly.install(scheduler)
    executed: list[JobExecutionEvent] = []
    scheduler.add_listener(executed.append, EVENT_JOB_EXECUTED)
    clock.advance(minutes=61)  # four due times pass while nothing runs
    scheduler.tick()
    step(scheduler, clock, hours=0.05, minutes=1)
    assert len(executed) == 1
    assert queued_rounds(runs, "busy") == [datetime(2026, 6, 10, 13, 0, tzinfo=UTC)]


def test_a_portal_never_has_two_runs_open(
    store: Store, clock: FakeClock, scheduler: ManualScheduler
) -> None:
    runs = RunStore(store)
    nightly = Nightly(config_with(portal("slow", "0 * * * *")), runs, clock)
    nightly.install(scheduler)
    step(scheduler, clock, hours=1)
    first = runs.claim_next("w", clock.now, timedelta(hours=3), ["slow"])
    assert first is not None and first.scheduled_for == datetime(2026, 6, 10, 12, tzinfo=UTC)
    step(scheduler, clock, hours=2)  # 14:00 and 15:00 come due while 12:00 still runs
    assert queued_rounds(runs, "slow") == [first.scheduled_for]
    assert runs.claim_next("w2", clock.now, timedelta(hours=3), ["slow"]) is None
    with pytest.raises(UsageError, match="is being audited right now"):
        runs.start_now("slow", "cli", "w3", clock.now, timedelta(minutes=5))
    runs.finish(first.id, "w", RunStatus.SUCCEEDED, RunStats(), clock.now)
    step(scheduler, clock, hours=1)
    assert queued_rounds(runs, "slow")[-1] == datetime(2026, 6, 10, 16, tzinfo=UTC)


def test_a_round_is_queued_once_however_many_schedulers_see_it(
    store: Store, clock: FakeClock
) -> None:
    runs = RunStore(store)
    config = config_with(portal("acme"))
    clock.now = datetime(2026, 6, 11, 2, 0, 1, tzinfo=UTC)
    results = [Nightly(config, runs, clock).queue_round("acme") for _ in range(3)]
    assert sum(r is not None for r in results) == 1
    # a restarted scheduler catches up on a round missed within the grace period, once
    clock.now = datetime(2026, 6, 12, 3, 0, tzinfo=UTC)
    runs.finish(
        runs.claim_next("w", clock.now, timedelta(minutes=5), ["acme"]).id,  # type: ignore[union-attr]
        "w",
        RunStatus.SUCCEEDED,
        RunStats(),
        clock.now,
    )
    assert [r.scheduled_for for r in Nightly(config, runs, clock).catch_up()] == [
        datetime(2026, 6, 12, 2, 0, tzinfo=UTC)
    ]
    assert Nightly(config, runs, clock).catch_up() == []


def test_latest_fire_time_looks_back_only_as_far_as_asked() -> None:
    config = config_with(portal("p", "0 2 * * *", "Asia/Tokyo"))
    trigger = trigger_of(config, config.portals[0])
    now = datetime(2026, 6, 10, 18, 0, tzinfo=UTC)  # 03:00 in Tokyo
    assert latest_fire_time(trigger, now, timedelta(hours=2)) == datetime(
        2026, 6, 10, 17, 0, tzinfo=UTC
    )
    assert latest_fire_time(trigger, now, timedelta(minutes=30)) is None


def test_claims_expire_and_are_taken_over(store: Store) -> None:
    runs = RunStore(store)
    now = datetime(2026, 6, 11, 2, tzinfo=UTC)
    runs.enqueue("acme", now, "schedule", now)
    first = runs.claim_next("dead", now, timedelta(seconds=30), ["acme"])
    assert first is not None and first.attempts == 1
    assert (
        runs.claim_next("alive", now + timedelta(seconds=10), timedelta(seconds=30), ["acme"])
        is None
    )
    later = now + timedelta(seconds=31)
    taken = runs.claim_next("alive", later, timedelta(seconds=30), ["acme"])
    assert taken is not None and taken.id == first.id
    assert (taken.worker, taken.attempts) == ("alive", 2)
    assert taken.error is not None and "taken over from dead" in taken.error
    # the dead worker, were it only slow, can no longer renew or finish the run
    assert runs.renew(first.id, "dead", later, timedelta(seconds=30)) is Renewal.LOST
    assert not runs.finish(first.id, "dead", RunStatus.SUCCEEDED, RunStats(), later)
    assert runs.finish(taken.id, "alive", RunStatus.SUCCEEDED, RunStats(items=5), later)
    assert runs.runs("acme")[0].status is RunStatus.SUCCEEDED


def test_concurrent_claims_give_each_run_to_one_worker(store: Store) -> None:
    runs = RunStore(store)
    now = datetime(2026, 6, 11, 2, tzinfo=UTC)
    portals = [f"p{i}" for i in range(12)]
    for name in portals:
        runs.enqueue(name, now, "schedule", now)
    claimed: list[tuple[str, int]] = []
    lock = threading.Lock()

    def worker(name: str) -> None:
        while (run := runs.claim_next(name, now, timedelta(minutes=5), portals)) is not None:
            with lock:
                claimed.append((name, run.id))

    threads = [threading.Thread(target=worker, args=(f"w{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(run_id for _, run_id in claimed) == sorted(r.id for r in runs.runs(limit=100))
    assert len(claimed) == 12


def test_schedule_and_timezone_in_the_config_are_checked_with_their_line() -> None:
    config = parse_config(
        '[schedule]\ncron = "15 3 * * 1-5"\ntimezone = "Europe/Paris"\n\n'
        '[[portals]]\nname = "a"\ntoken_env = "T"\nschedule = "0 1 * * *"\n'
        'timezone = "America/Chicago"\n\n'
        '[[portals]]\nname = "b"\ntoken_env = "T"\n'
    )
    assert config.schedule_of(config.portals[0]) == ("0 1 * * *", "America/Chicago")
    assert config.schedule_of(config.portals[1]) == ("15 3 * * 1-5", "Europe/Paris")
    with pytest.raises(ConfigError) as bad_cron:
        parse_config('[[portals]]\nname = "a"\ntoken_env = "T"\nschedule = "every night"\n')
    assert "<config>:4: [portals[0].schedule]" in str(bad_cron.value)
    with pytest.raises(ConfigError) as bad_zone:
        parse_config('[schedule]\ntimezone = "Mars/Olympus"\n')
    assert "<config>:2: [schedule.timezone] not a time zone" in str(bad_zone.value)
