"""Workers over real emulated portals: recorded runs, clean stops, and three worker processes
sharing twenty portals on the Postgres server, one of them killed half-way."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubaudit.config import Config, PortalConfig, ScheduleConfig, Secret
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.model.runs import RunStatus
from hubaudit.scheduler import Worker
from hubaudit.services.audit_run import approve_baseline, open_client, take_snapshot
from hubaudit.store.engine import make_engine, upgrade
from hubaudit.store.repository import Store
from hubaudit.store.runs import RunStore

from .conftest import DEMO, FAST_LIMIT, postgres_schema

TOKEN_ENV = "HUBAUDIT_WORKER_TEST_TOKEN"


def portals_on(emulators: list[PortalEmulator], prefix: str = "p") -> tuple[PortalConfig, ...]:
    return tuple(
        PortalConfig(
            name=f"{prefix}{i:02d}",
            base_url=e.base_url,
            token_env=TOKEN_ENV,
            rate_limit_per_10s=FAST_LIMIT,
        )
        for i, e in enumerate(emulators)
    )


def approve_all(store: Store, portals: tuple[PortalConfig, ...]) -> None:
    for portal in portals:
        client = open_client(portal, Secret(DEMO_TOKEN))
        try:
            snapshot = take_snapshot(store, portal, client)
        finally:
            client.close()
        approve_baseline(store, portal.name, snapshot, "Council", "v1")


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)


def test_a_worker_runs_every_queued_portal_and_records_each_run(
    store: Store, emulator: PortalEmulator, portal_dirs: dict[str, Path], token: None
) -> None:
    portals = portals_on([emulator] * 3)
    approve_all(store, portals)
    emulator.load(portal_dirs["night2"])
    config = Config("unused", portals, schedule=ScheduleConfig(parallel_portals=2))
    runs = RunStore(store)
    round_ = datetime.now(UTC)
    for portal in portals:
        assert runs.enqueue(portal.name, round_, "schedule", round_) is not None
    worker = Worker(config, store, runs, "w1", poll_seconds=0.1)
    worker.run(exit_when_idle=True)
    records = sorted(runs.runs(limit=10), key=lambda r: r.portal)
    assert [(r.portal, r.status, r.worker, r.attempts) for r in records] == [
        (p.name, RunStatus.SUCCEEDED, "w1", 1) for p in portals
    ]
    for record in records:
        assert record.stats.items == 478 and record.stats.changes == 27  # night 2: +3 -1
        assert record.stats.defects_opened == 18 and record.stats.api_calls > 50
        assert record.stats.snapshot_id is not None and record.finished_at is not None
    assert {w.id for w in runs.workers()} == {"w1"}
    assert runs.workers()[0].stopped_at is not None


def test_a_failing_portal_is_recorded_and_the_others_still_run(
    store: Store, emulator: PortalEmulator, token: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    portals = portals_on([emulator] * 2)
    approve_all(store, portals)
    broken = PortalConfig(
        name="p01", base_url=emulator.base_url, token_env="HUBAUDIT_NO_SUCH_TOKEN"
    )
    config = Config("unused", (portals[0], broken))
    runs = RunStore(store)
    now = datetime.now(UTC)
    for portal in config.portals:
        runs.enqueue(portal.name, now, "schedule", now)
    Worker(config, store, runs, "w1", poll_seconds=0.1).run(exit_when_idle=True)
    by_portal = {r.portal: r for r in runs.runs(limit=10)}
    assert by_portal["p00"].status is RunStatus.SUCCEEDED
    assert by_portal["p01"].status is RunStatus.FAILED
    assert "HUBAUDIT_NO_SUCH_TOKEN" in (by_portal["p01"].error or "")


def test_a_stopping_worker_hands_its_runs_back_to_the_queue(
    store: Store, portal_dirs: dict[str, Path], token: None
) -> None:
    with PortalEmulator(
        portal_dirs["night1"], rate_limit_per_10s=FAST_LIMIT, latency_seconds=0.05
    ) as slow:
        portals = portals_on([slow])
        approve_all(store, portals)
        before = store.latest_snapshot("p00")
        slow.requests_served = 0
        config = Config("unused", portals)
        runs = RunStore(store)
        now = datetime.now(UTC)
        runs.enqueue("p00", now, "schedule", now)
        worker = Worker(config, store, runs, "w1", poll_seconds=0.1)
        thread = threading.Thread(target=worker.run)
        thread.start()
        deadline = time.monotonic() + 30
        while slow.requests_served < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.stop()
        thread.join(timeout=30)
        assert not thread.is_alive()
    (record,) = runs.runs(limit=10)
    assert record.status is RunStatus.QUEUED and record.worker is None
    assert "abandoned: its worker stopped" in (record.error or "")
    assert store.latest_snapshot("p00") == before  # nothing half-stored


# three processes on Postgres ----------------------------------------------------------------


@pytest.fixture
def postgres_url() -> Iterator[str]:
    with postgres_schema() as url:
        yield url


def test_three_workers_share_twenty_portals_and_survive_a_killed_one(
    postgres_url: str, tmp_path: Path, token: None
) -> None:
    engine = make_engine(postgres_url)
    upgrade(engine)
    store = Store(engine)
    with ExitStack() as stack:
        emulators = [
            stack.enter_context(
                PortalEmulator(DEMO / "night1", rate_limit_per_10s=FAST_LIMIT, latency_seconds=0.01)
            )
            for _ in range(20)
        ]
        portals = portals_on(emulators)
        approve_all(store, portals)
        config_path = tmp_path / "hubaudit.toml"
        config_path.write_text(
            f'[database]\nurl = "{postgres_url}"\n\n[logging]\nlevel = "warning"\n\n'
            "[schedule]\nparallel_portals = 2\nlease_seconds = 10\n\n"
            + "".join(
                f'[[portals]]\nname = "{p.name}"\nbase_url = "{p.base_url}"\n'
                f'token_env = "{TOKEN_ENV}"\nrate_limit_per_10s = {FAST_LIMIT}\n\n'
                for p in portals
            ),
            encoding="utf-8",
        )
        runs = RunStore(store)
        round_ = datetime(2026, 6, 11, 2, tzinfo=UTC)
        for portal in portals:
            runs.enqueue(portal.name, round_, "schedule", datetime.now(UTC))
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        command = [sys.executable, "-m", "hubaudit", "--config", str(config_path), "worker"]
        logs = [stack.enter_context((tmp_path / f"worker{i}.log").open("w")) for i in range(3)]
        workers = [
            subprocess.Popen(
                [*command, "--exit-when-idle"], env=env, stdout=subprocess.DEVNULL, stderr=log
            )
            for log in logs
        ]
        try:
            victim = workers[0]
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:  # kill it while it holds a claim
                held = [
                    r
                    for r in runs.runs(limit=100, statuses=(RunStatus.RUNNING,))
                    if r.worker and r.worker.split(":")[1] == str(victim.pid)
                ]
                if held:
                    break
                time.sleep(0.02)
            assert held, "the first worker never claimed a run"
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=30)
            for index, worker in enumerate(workers[1:], start=1):
                code = worker.wait(timeout=240)
                assert code == 0, (tmp_path / f"worker{index}.log").read_text()
        finally:
            for worker in workers:
                if worker.poll() is None:
                    worker.kill()
                    worker.wait()
        records = runs.runs(limit=100)
    engine.dispose()
    assert len(records) == 20  # one run per portal for the round, none lost
    assert {r.portal for r in records} == {p.name for p in portals}
    assert {r.scheduled_for for r in records} == {round_}
    assert {r.status for r in records} == {RunStatus.SUCCEEDED}
    # the runs the victim held when it died (at least the one seen; it may have claimed
    # another just before the kill) were finished by another worker, on a second attempt
    taken_over = [r for r in records if r.attempts == 2]
    assert {h.id for h in held} <= {r.id for r in taken_over}
    assert all(f"taken over from {held[0].worker}" in (r.error or "") for r in taken_over)
    assert all(r.worker and r.worker.split(":")[1] != str(victim.pid) for r in taken_over)
    assert all(r.attempts == 1 for r in records if r not in taken_over)


def test_every_log_event_of_a_run_names_the_run_and_the_portal(
    store: Store, emulator: PortalEmulator, token: None
) -> None:
    import io
    import json

    from hubaudit.logs import configure_logging

    portals = portals_on([emulator])
    approve_all(store, portals)
    emulator.inject("/crm/v3/properties/deals", status=503, times=1)  # a retry: one warning
    runs = RunStore(store)
    now = datetime.now(UTC)
    queued = runs.enqueue("p00", now, "schedule", now)
    assert queued is not None
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)
    Worker(Config("unused", portals), store, runs, "w1", poll_seconds=0.1).run(exit_when_idle=True)
    events = [json.loads(line) for line in stream.getvalue().splitlines()]
    during = [e for e in events if not e["event"].startswith("worker.")]
    names = {e["event"] for e in during}
    assert {"run.started", "hubspot.retry", "snapshot.stored", "run.succeeded"} <= names
    assert all(e.get("run") == queued.id and e.get("portal") == "p00" for e in during), [
        e for e in during if e.get("run") != queued.id
    ]
