"""The nightly job's edges, found in review: clock changes, restarts, stops during waits,
database blips, `audit --all` beside a running scheduler, signals, bad input."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from hubaudit.cli import main
from hubaudit.config import Config, PortalConfig, ScheduleConfig, Secret, load_config
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import DatabaseError, RunStopped
from hubaudit.hubspot.transport import Transport
from hubaudit.logs import configure_logging, get_logger
from hubaudit.model.runs import RunRecord, RunStatus
from hubaudit.scheduler import Nightly, Worker, trigger_of
from hubaudit.services.jobs import RunOutcome
from hubaudit.store.engine import make_engine, upgrade
from hubaudit.store.repository import Store
from hubaudit.store.runs import RunStore

from .conftest import FAST_LIMIT, postgres_schema

TOKEN_ENV = "HUBAUDIT_EDGE_TOKEN"


def in_thread(function: Callable[[], Any], timeout: float) -> tuple[bool, list[Any]]:
    result: list[Any] = []
    thread = threading.Thread(target=lambda: result.append(function()), daemon=True)
    thread.start()
    thread.join(timeout)
    return not thread.is_alive(), result


def one_portal(cron: str, zone: str, grace: int = 120) -> Config:
    portal = PortalConfig(name="p", token_env="T", schedule=cron, timezone=zone)
    return Config("unused", (portal,), schedule=ScheduleConfig(misfire_grace_minutes=grace))


@pytest.mark.parametrize(
    ("cron", "zone", "now", "expected"),
    [
        # 01:30 comes twice in New York on 2026-11-01: 05:30Z (EDT), then 06:30Z (EST)
        (
            "30 1 * * *",
            "America/New_York",
            datetime(2026, 11, 1, 6, 30, 5, tzinfo=UTC),
            datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
        ),
        # the default cron in Paris: 02:00 comes twice on 2026-10-25
        (
            "0 2 * * *",
            "Europe/Paris",
            datetime(2026, 10, 25, 1, 0, 5, tzinfo=UTC),
            datetime(2026, 10, 25, 1, 0, tzinfo=UTC),
        ),
    ],
)
def test_the_night_the_clocks_go_back_queues_its_round(
    store: Store, cron: str, zone: str, now: datetime, expected: datetime
) -> None:
    nightly = Nightly(one_portal(cron, zone), RunStore(store), clock=lambda: now)
    finished, result = in_thread(lambda: nightly.queue_round("p"), 10)
    assert finished, "queue_round never returned"
    assert result[0] is not None and result[0].scheduled_for == expected


def test_the_night_the_clocks_go_forward_a_late_start_still_queues_its_round(
    store: Store,
) -> None:
    config = one_portal("30 2 * * *", "America/New_York")
    # 02:30 does not exist in New York on 2026-03-08: APScheduler fires at 03:30 EDT
    fired = trigger_of(config, config.portals[0]).get_next_fire_time(
        None, datetime(2026, 3, 8, 0, 0, tzinfo=UTC)
    )
    now = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)  # 90 minutes later, within the grace
    queued = Nightly(config, RunStore(store), clock=lambda: now).catch_up()
    assert [r.scheduled_for for r in queued] == [fired.astimezone(UTC)]


def test_a_restarted_worker_is_alive_for_health(
    store: Store, tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In a container hubaudit is PID 1 and keeps its hostname across restarts."""
    runs = RunStore(store)
    config = Config("unused", (), schedule=ScheduleConfig())
    Worker(config, store, runs, "box:1:scheduler", poll_seconds=0.05).run(exit_when_idle=True)
    restarted = Worker(config, store, runs, "box:1:scheduler", poll_seconds=0.05)
    thread = threading.Thread(target=restarted.run)
    thread.start()
    try:
        deadline = time.monotonic() + 10
        while runs.workers()[0].stopped_at is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)
        path = tmp_path / "h.toml"
        path.write_text(f'[database]\nurl = "{database_url}"\n', encoding="utf-8")
        assert main(["--config", str(path), "health"], out=io.StringIO()) == 0
    finally:
        restarted.stop()
        thread.join(10)


def test_a_stop_ends_a_rate_limit_wait_at_once() -> None:
    def refuse(_request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": "60"}, json={"message": "slow down"})

    stop = threading.Event()
    with httpx.Client(transport=httpx.MockTransport(refuse)) as http:
        transport = Transport("https://api.example", Secret("x"), portal="p", stop=stop, http=http)
        threading.Timer(0.5, stop.set).start()

        def request() -> str:
            try:
                transport.get_json("/x")
            except RunStopped:
                return "stopped"
            return "answered"

        started = time.monotonic()
        finished, result = in_thread(request, 10)
    assert finished and result == ["stopped"]
    assert time.monotonic() - started < 5


class Proxy:
    """A TCP proxy to the local Postgres that can be cut: a network blip, a restart."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(50)
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.connections: list[socket.socket] = []
        self.opened: list[socket.socket] = []
        self.pipes: list[threading.Thread] = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", 5432))
            self.connections += [client, upstream]
            self.opened += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                pipe = threading.Thread(target=self._pipe, args=(a, b), daemon=True)
                self.pipes.append(pipe)
                pipe.start()

    @staticmethod
    def _pipe(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for end in (a, b):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        for connection in self.connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.connections.clear()

    def close(self) -> None:
        self.cut()
        self.listener.shutdown(socket.SHUT_RDWR)
        self.listener.close()
        self.acceptor.join(10)
        for pipe in self.pipes:  # each ends once both of its ends are shut
            pipe.join(10)
        for connection in self.opened:
            connection.close()


class WatchedRuns(RunStore):
    """The worker's run store, telling the test what the worker's polls met."""

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self.answered = threading.Event()  # a poll reached the database
        self.refused = threading.Event()  # a poll found the database gone

    def claim_next(self, *args: Any, **kwargs: Any) -> RunRecord | None:
        try:
            claimed = super().claim_next(*args, **kwargs)
        except DatabaseError:
            self.refused.set()
            raise
        self.answered.set()
        return claimed


def test_a_database_blip_does_not_end_the_worker() -> None:
    """The database goes away under a polling worker and comes back: the worker lives through
    the failed polls and then claims and runs the next round."""
    with postgres_schema() as url:
        proxy = Proxy()
        engine = make_engine(url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}"))
        direct = make_engine(url)
        try:
            upgrade(engine)
            store = Store(engine)
            runs = WatchedRuns(store)
            config = Config("unused", (PortalConfig(name="p", token_env="T"),))
            outcomes: list[RunOutcome] = []
            ran = threading.Event()

            def on_outcome(outcome: RunOutcome) -> None:
                outcomes.append(outcome)
                ran.set()

            worker = Worker(config, store, runs, "w", poll_seconds=0.05, on_outcome=on_outcome)
            errors: list[BaseException] = []

            def target() -> None:
                try:
                    worker.run()
                except BaseException as exc:  # reported below
                    errors.append(exc)

            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            try:
                assert runs.answered.wait(30), "the worker never polled"
                proxy.cut()
                assert runs.refused.wait(30), "no poll met the cut database"
                runs.answered.clear()
                proxy.up = True
                assert runs.answered.wait(30), "no poll reached the database again"
                assert thread.is_alive() and not errors, errors
                queued = RunStore(Store(direct)).enqueue(
                    "p", datetime.now(UTC), "schedule", datetime.now(UTC)
                )
                assert queued is not None
                assert ran.wait(60), "the worker never ran the round queued after the blip"
            finally:
                worker.stop()
                thread.join(10)
        finally:
            engine.dispose()
            direct.dispose()
            proxy.close()
    assert not thread.is_alive() and not errors, errors
    assert [o.run.id for o in outcomes] == [queued.id]


def write_config(path: Path, database_url: str, base_url: str, portals: int) -> str:
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n[logging]\nlevel = "warning"\n\n'
        "[schedule]\nparallel_portals = 1\n\n"
        + "".join(
            f'[[portals]]\nname = "p{i}"\nbase_url = "{base_url}"\n'
            f'token_env = "{TOKEN_ENV}"\nrate_limit_per_10s = {FAST_LIMIT}\n\n'
            for i in range(portals)
        ),
        encoding="utf-8",
    )
    config = str(path)
    assert main(["--config", config, "db", "upgrade"], out=io.StringIO()) == 0
    for i in range(portals):
        assert main(["--config", config, "snapshot", "--portal", f"p{i}"], out=io.StringIO()) == 0
        approved = main(
            [
                *("--config", config, "baseline", "approve", "--portal", f"p{i}"),
                *("--from-snapshot", "latest", "--by", "A", "--note", "n"),
            ],
            out=io.StringIO(),
        )
        assert approved == 0
    return config


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)


def test_audit_all_beside_a_running_scheduler_audits_every_portal(
    tmp_path: Path, database_url: str, emulator: PortalEmulator, token: None
) -> None:
    config = write_config(tmp_path / "hubaudit.toml", database_url, emulator.base_url, 3)
    engine = make_engine(database_url)
    store = Store(engine)
    nightly = Worker(load_config(Path(config)), store, RunStore(store), "n", poll_seconds=0.05)
    thread = threading.Thread(target=nightly.run)
    thread.start()
    try:
        out = io.StringIO()
        code = main(["--config", config, "audit", "--all", "--output", str(tmp_path / "r")], out)
    finally:
        nightly.stop()
        thread.join(30)
        engine.dispose()
    assert code == 0, out.getvalue()
    assert "not run" not in out.getvalue()
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["p0.txt", "p1.txt", "p2.txt"]
    assert nightly.outcomes == []  # the nightly worker left audit --all's runs alone


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signalled_audit_is_recorded_abandoned_and_the_next_one_runs(
    tmp_path: Path,
    database_url: str,
    portal_dirs: dict[str, Path],
    token: None,
    sig: signal.Signals,
) -> None:
    with PortalEmulator(
        portal_dirs["night1"], rate_limit_per_10s=FAST_LIMIT, latency_seconds=0.05
    ) as slow:
        config = write_config(tmp_path / "hubaudit.toml", database_url, slow.base_url, 1)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        slow.requests_served = 0
        with subprocess.Popen(
            [sys.executable, "-m", "hubaudit", "--config", config, "audit", "--portal", "p0"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ) as audit:
            deadline = time.monotonic() + 30
            while slow.requests_served < 5 and time.monotonic() < deadline:
                time.sleep(0.01)
            audit.send_signal(sig)
            _, err = audit.communicate(timeout=60)
        assert audit.returncode == 130, err
        assert "nothing half-written was kept" in err
        engine = make_engine(database_url)
        try:
            (run,) = RunStore(Store(engine)).runs("p0")
        finally:
            engine.dispose()
        assert run.status is RunStatus.ABANDONED
        assert main(["--config", config, "audit", "--portal", "p0"], out=io.StringIO()) == 0


def test_bad_runs_limit_and_an_output_file_for_audit_all_are_clear_errors(
    tmp_path: Path,
    database_url: str,
    emulator: PortalEmulator,
    token: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = write_config(tmp_path / "hubaudit.toml", database_url, emulator.base_url, 1)
    assert main(["--config", config, "runs", "--limit", "-1"], out=io.StringIO()) == 1
    assert "must be a whole number from 1" in capsys.readouterr().err
    target = tmp_path / "report.txt"
    target.write_text("old", encoding="utf-8")
    assert main(["--config", config, "audit", "--all", "--output", str(target)]) == 1
    assert "with --all it is a folder" in capsys.readouterr().err


def test_a_crash_keeps_its_traceback_in_json_logs() -> None:
    stream = io.StringIO()
    configure_logging("json", "info", stream=stream)
    try:
        raise ValueError("boom")
    except ValueError:
        get_logger("test").exception("run.crashed")
    event = json.loads(stream.getvalue())
    assert "ValueError: boom" in event["exception"]
