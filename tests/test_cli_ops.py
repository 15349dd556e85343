"""The operations commands on the click CLI (audit, runs, snapshot, schedule, health, portals)
and the services under them, called directly as the scheduler and the web app call them."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hubaudit.cli import main
from hubaudit.config import Config, load_config
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.emulator.server import missing_scopes_body
from hubaudit.model.changes import Severity
from hubaudit.model.items import CoverageStatus
from hubaudit.model.runs import RunStats, RunStatus
from hubaudit.store.engine import make_engine
from hubaudit.store.repository import Store
from hubaudit.store.runs import RunStore

TOKEN_ENV = "HUBAUDIT_TEST_TOKEN"


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def write_config(path: Path, database_url: str, base_url: str, names: list[str]) -> str:
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n[logging]\nlevel = "warning"\n\n'
        + "".join(
            f'[[portals]]\nname = "{name}"\nbase_url = "{base_url}"\n'
            f'token_env = "{TOKEN_ENV}"\nrate_limit_per_10s = 5000\n\n'
            for name in names
        ),
        encoding="utf-8",
    )
    return str(path)


@pytest.fixture
def token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)


@pytest.fixture
def one_portal(tmp_path: Path, database_url: str, emulator: PortalEmulator, token: None) -> str:
    config = write_config(tmp_path / "hubaudit.toml", database_url, emulator.base_url, ["demo"])
    assert run("--config", config, "db", "upgrade")[0] == 0
    return config


def approve_latest(config: str) -> None:
    approved = run(
        *("--config", config, "baseline", "approve", "--portal", "demo"),
        *("--from-snapshot", "latest", "--by", "Ada", "--note", "Q4"),
    )
    assert approved[0] == 0


# -- the CLI's conventions ------------------------------------------------------------------------


def test_a_mistyped_option_is_a_usage_error_not_drift(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path / "h.toml", f"sqlite:///{tmp_path / 'x.db'}", "http://127.0.0.1:9", ["demo"]
    )
    assert run("--config", config, "audit", "--portl", "x") == (1, "")
    err = capsys.readouterr().err
    assert "Error: No such option '--portl'" in err and "'--portal'" in err
    assert "Usage: hubaudit audit" in err
    assert "Traceback" not in err


def test_audit_without_portal_on_a_one_portal_config(
    one_portal: str, emulator: PortalEmulator, portal_dirs: dict[str, Path]
) -> None:
    code, out = run("--config", one_portal, "snapshot")
    assert code == 0 and out.startswith("snapshot 1 of demo: 476 items")
    approve_latest(one_portal)
    code, out = run("--config", one_portal, "audit", "--json")
    assert code == 0
    document = json.loads(out)
    assert document["portal"] == "demo" and document["snapshot"]["id"] == 2
    emulator.load(portal_dirs["night2"])
    code, out = run("--config", one_portal, "audit", "--format", "json")
    assert code == 2
    assert json.loads(out)["snapshot"]["id"] == 3
    code, out = run("--config", one_portal, "runs", "--json")
    assert [(r["portal"], r["status"]) for r in json.loads(out)] == [("demo", "succeeded")] * 2


def test_audit_without_portal_on_a_two_portal_config_names_the_choices(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(
        tmp_path / "h.toml",
        f"sqlite:///{tmp_path / 'x.db'}",
        "http://127.0.0.1:9",
        ["acme-prod", "demo"],
    )
    for command in (["audit"], ["snapshot"], ["portals", "check"]):
        assert run("--config", config, *command) == (1, ""), command
        err = capsys.readouterr().err
        assert "--portal is needed" in err and "2 portals (acme-prod, demo)" in err, command
    # --portal and --all together are a usage error too
    assert run("--config", config, "audit", "--all", "--portal", "demo") == (1, "")
    assert "--portal and --all: choose one" in capsys.readouterr().err


def test_json_and_format_must_agree(one_portal: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("--config", one_portal, "audit", "--json", "--format", "md") == (1, "")
    assert "--json and --format md disagree" in capsys.readouterr().err
    assert run("--config", one_portal, "audit", "--format", "pdf")[0] == 1
    assert "'pdf' is not one of" in capsys.readouterr().err


def test_the_option_choices_match_the_renderers_and_severities() -> None:
    from hubaudit.cli.audit import REPORT_FORMATS, SEVERITIES
    from hubaudit.report import FORMATS

    assert REPORT_FORMATS == FORMATS
    assert set(SEVERITIES) == {s.value for s in Severity}


def test_every_ops_command_and_option_has_help() -> None:
    import click

    from hubaudit.cli.app import COMMANDS, LazyGroup, root

    ctx = click.Context(root)
    assert isinstance(root, LazyGroup)
    mine = ["audit", "runs", "snapshot", "schedule", "worker", "health", "portals", "demo"]
    for name in [*mine, "emulator"]:
        assert name in COMMANDS
        command = root.get_command(ctx, name)
        assert command is not None
        commands = (
            list(command.commands.values()) if isinstance(command, click.Group) else [command]
        )
        for each in commands:
            assert each.help, each.name
            for param in each.params:
                if isinstance(param, click.Option):
                    assert param.help, (each.name, param.name)


def test_ops_modules_start_without_the_database_or_http_libraries() -> None:
    code = (
        "import sys\n"
        "import hubaudit.cli.app, hubaudit.cli.audit, hubaudit.cli.runs, hubaudit.cli.snapshot\n"
        "import hubaudit.cli.schedule, hubaudit.cli.worker, hubaudit.cli.health\n"
        "import hubaudit.cli.portals, hubaudit.cli.demo, hubaudit.cli.emulator\n"
        "heavy = [m for m in ('sqlalchemy', 'httpx', 'apscheduler', 'alembic', 'hubaudit.report')"
        " if m in sys.modules]\n"
        "print(heavy)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "[]"


def test_a_closed_pipe_ends_quietly(tmp_path: Path, token: None) -> None:
    """``hubaudit runs | head -1``: the reader goes away after one line; no traceback."""
    database = f"sqlite:///{tmp_path / 'runs.db'}"
    config = write_config(tmp_path / "h.toml", database, "http://127.0.0.1:9", ["demo"])
    assert run("--config", config, "db", "upgrade")[0] == 0
    engine = make_engine(database)
    runs = RunStore(Store(engine))
    start = datetime(2026, 1, 1, tzinfo=UTC)
    for day in range(150):  # 150 runs of ~600 characters: far more than a pipe's buffer holds
        now = start + timedelta(days=day)
        record = runs.start_now("demo", "cli", "w", now, timedelta(minutes=5))
        runs.finish(record.id, "w", RunStatus.FAILED, RunStats(), now, "unreachable " * 50)
    engine.dispose()
    stderr_path = tmp_path / "stderr.txt"
    with stderr_path.open("w") as stderr:
        reader = subprocess.Popen(
            [sys.executable, "-m", "hubaudit", "--config", config, "runs", "--limit", "1000"],
            stdout=subprocess.PIPE,
            stderr=stderr,
            env={**os.environ, "NO_COLOR": "1"},
        )
        assert reader.stdout is not None
        first = reader.stdout.readline()
        reader.stdout.close()  # what `head -1` does after its line
        code = reader.wait(timeout=60)
    assert first.startswith(b"#150   demo ")
    assert stderr_path.read_text() == ""
    assert code == 1  # the output did not all arrive: not a success


def test_runs_limit_is_a_whole_number(one_portal: str, capsys: pytest.CaptureFixture[str]) -> None:
    for bad in ("0", "1e3", "abc", "100001"):
        assert run("--config", one_portal, "runs", "--limit", bad) == (1, ""), bad
        assert "must be a whole number from 1 to 100000" in capsys.readouterr().err
    assert run("--config", one_portal, "runs", "--limit", "3") == (0, "no runs yet\n")


# -- the services, called directly ----------------------------------------------------------------


@pytest.fixture
def config(one_portal: str) -> Config:
    return load_config(Path(one_portal))


@pytest.fixture
def service_store(config: Config) -> Iterator[Store]:
    engine = make_engine(config.database_url)
    yield Store(engine)
    engine.dispose()


def test_snapshot_service_stores_and_judges(config: Config, service_store: Store) -> None:
    from hubaudit.services.audit import snapshot_document, take_portal_snapshot
    from hubaudit.services.portals import coverage_document

    taken = take_portal_snapshot(service_store, config, "demo")
    assert taken.snapshot.item_count == 476 and taken.api_calls > 0
    assert service_store.latest_snapshot("demo") == taken.snapshot
    document = snapshot_document(taken)
    assert document["coverage"] == coverage_document(taken.snapshot.coverage)
    assert {part["status"] for part in document["coverage"]} == {"complete", "unsupported"}
    assert document["findings"] == taken.findings >= taken.findings_new


def test_portal_check_service_names_missing_scopes(
    config: Config, emulator: PortalEmulator, service_store: Store
) -> None:
    from hubaudit.services.portals import check_document, check_portal_access, coverage_document

    emulator.inject("/automation/v4/flows", 403, body=missing_scopes_body(["automation"]))
    check = check_portal_access(config, "demo")
    assert not check.readable and check.missing_scopes == ["automation"]
    assert check.by_kind()["workflow"].status is CoverageStatus.FAILED
    assert check.by_kind()["pipeline"].status is CoverageStatus.COMPLETE
    document = check_document(check)
    assert document["parts"] == coverage_document(check.parts)
    assert document["readable"] is False
    assert service_store.latest_snapshot("demo") is None  # a check stores nothing


def test_audit_service_records_runs_and_verdicts(
    one_portal: str,
    config: Config,
    service_store: Store,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    from hubaudit.services.audit import Verdict, audit_portal, verdict
    from hubaudit.services.runs import recent_runs, run_document, schedule_document, schedules

    assert run("--config", one_portal, "snapshot")[0] == 0
    approve_latest(one_portal)
    clean = audit_portal(service_store, config, "demo", threading.Event())
    assert clean.status is RunStatus.SUCCEEDED
    assert verdict(clean.result, Severity.INFO) is Verdict.CLEAN
    emulator.load(portal_dirs["night2"])
    drift = audit_portal(service_store, config, "demo", threading.Event())
    assert drift.result is not None and drift.result.unplanned
    assert verdict(drift.result, Severity.INFO) is Verdict.DRIFT
    assert verdict(None, Severity.INFO) is Verdict.FAILED
    stopped = threading.Event()
    stopped.set()
    abandoned = audit_portal(service_store, config, "demo", stopped)
    assert abandoned.status is RunStatus.ABANDONED and abandoned.result is None

    recorded = recent_runs(service_store, "demo", limit=10)
    assert [r.status for r in recorded] == [
        RunStatus.ABANDONED,
        RunStatus.SUCCEEDED,
        RunStatus.SUCCEEDED,
    ]
    assert run_document(recorded[1])["snapshot_id"] == drift.result.snapshot.id
    rows = schedules(service_store, config)
    assert [(r.next_run.portal, r.last_run and r.last_run.id) for r in rows] == [
        ("demo", recorded[0].id)
    ]
    assert schedule_document(rows)[0]["last_run"] == {"id": recorded[0].id, "status": "abandoned"}


def test_health_service_sees_live_workers_of_this_host_only(service_store: Store) -> None:
    from hubaudit.services.runs import check_health

    runs = RunStore(service_store)
    now = datetime.now(UTC)
    runs.heartbeat("fresh", "here", 1, "worker", now, started=True)
    runs.heartbeat("stale", "here", 2, "worker", now - timedelta(minutes=10), started=True)
    runs.heartbeat("elsewhere", "there", 3, "worker", now, started=True)
    runs.heartbeat("gone", "here", 4, "scheduler", now, started=True)
    runs.heartbeat("gone", "here", 4, "scheduler", now, stopped=True)
    found = check_health(service_store, timedelta(minutes=3), now=now, host="here")
    assert [live.worker.id for live in found.alive] == ["fresh"]
    assert found.host == "here"
    assert check_health(service_store, timedelta(minutes=3), now=now, host="nowhere").alive == ()
