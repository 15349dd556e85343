"""The command line end to end: real config file, real database, real HTTP; exit codes 0/2/1."""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hubaudit.cli import main
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator

TOKEN_ENV = "HUBAUDIT_TEST_TOKEN"


@pytest.fixture
def config_path(
    tmp_path: Path, database_url: str, emulator: PortalEmulator, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)
    path = tmp_path / "hubaudit.toml"
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n'
        f'[logging]\nlevel = "warning"\n\n'
        f'[[portals]]\nname = "demo"\nbase_url = "{emulator.base_url}"\n'
        f'token_env = "{TOKEN_ENV}"\nrate_limit_per_10s = 5000\n',
        encoding="utf-8",
    )
    return path


def approve(config: str, snapshot: str, by: str) -> tuple[int, str]:
    return run(
        "--config",
        config,
        "baseline",
        "approve",
        "--portal",
        "demo",
        "--from-snapshot",
        snapshot,
        "--by",
        by,
        "--note",
        "Q4",
    )


def baseline_then_drift(config: str, emulator: PortalEmulator, night2: Path) -> None:
    """A database, night 1 approved as baseline v1 (by Ada), and the portal at night 2."""
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert approve(config, "latest", "Ada")[0] == 0
    emulator.load(night2)


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def test_exit_codes_follow_the_detailed_exitcode_convention(
    config_path: Path,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0

    code, _ = run("--config", config, "audit", "--portal", "demo")
    assert code == 1
    assert "no approved baseline" in capsys.readouterr().err

    code, out = run("--config", config, "snapshot", "--portal", "demo", "--json")
    assert code == 0
    snapshot = json.loads(out)
    assert snapshot["item_count"] == 476
    assert {c["status"] for c in snapshot["coverage"]} == {"complete", "unsupported"}

    code, out = approve(config, "latest", "Ada (council)")
    assert (code, "baseline v1") == (0, out[:11])

    code, out = run("--config", config, "audit", "--portal", "demo")
    assert code == 0
    assert "No unplanned changes" in out

    emulator.load(portal_dirs["night2"])
    report = tmp_path / "report.json"
    code, out = run(
        "--config", config, "audit", "--portal", "demo", "--format", "json", "--output", str(report)
    )
    assert (code, out) == (2, "")
    document = json.loads(report.read_text())
    assert document["summary"]["unplanned"] == 27
    assert document["baseline"]["approved_by"] == "Ada (council)"

    code, out = run("--config", config, "defects", "list", "--portal", "demo", "--json")
    assert code == 0
    defects = json.loads(out)
    assert len(defects) == 18 and {d["status"] for d in defects} == {"open"}  # one per item

    code, out = run(
        "--config", config, "defects", "list", "--portal", "demo", "--status", "resolved"
    )
    assert (code, out.strip()) == (0, "no defects for demo")


def test_errors_are_one_clear_line_and_exit_1(
    config_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[[portals]]\nname = "x"\ntoken_env = "A"\nrate_limit_per_10s = 0\n')
    assert run("--config", str(broken), "db", "upgrade")[0] == 1
    err = capsys.readouterr().err
    assert err == (
        f"hubaudit: error: {broken}:4: [portals[0].rate_limit_per_10s] "
        "must be a whole number from 1 to 10000\n"
    )

    assert run("--config", str(config_path), "snapshot", "--portal", "demo")[0] == 1
    assert "run `hubaudit db upgrade`" in capsys.readouterr().err

    run("--config", str(config_path), "db", "upgrade")
    assert run("--config", str(config_path), "snapshot", "--portal", "nope")[0] == 1
    assert "unknown portal 'nope': the config names demo" in capsys.readouterr().err


def test_a_refused_token_stops_the_run_and_stores_nothing(
    config_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "pat-" + "na1-99999999-8888-7777-6666-555555555555"  # fake, built so no scan flags it
    monkeypatch.setenv(TOKEN_ENV, secret)
    run("--config", str(config_path), "db", "upgrade")
    assert run("--config", str(config_path), "snapshot", "--portal", "demo")[0] == 1
    err = capsys.readouterr().err
    assert "HubSpot refused the token" in err and secret not in err
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    code, out = run("--config", str(config_path), "snapshot", "--portal", "demo")
    assert (code, out.split(":")[0]) == (0, "snapshot 1 of demo")  # nothing was stored before


def test_the_console_script_runs(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "hubaudit", "--version"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0
    assert completed.stdout.startswith("hubaudit ")


def test_an_audit_that_could_not_verify_everything_is_not_a_clean_bill(
    config_path: Path,
    emulator: PortalEmulator,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from hubaudit.emulator.server import missing_scopes_body

    config = str(config_path)
    run("--config", config, "db", "upgrade")
    run("--config", config, "snapshot", "--portal", "demo")
    approve(config, "1", "Ada")
    capsys.readouterr()
    emulator.inject("/crm/v3/pipelines/tickets", 403, body=missing_scopes_body(["tickets"]))
    report = tmp_path / "report.txt"
    code, _ = run("--config", config, "audit", "--portal", "demo", "--output", str(report))
    assert code == 1
    assert "not verified: pipeline:tickets" in capsys.readouterr().err
    text = report.read_text()
    assert "! pipeline:tickets: failed: MISSING_SCOPES" in text
    assert "No unplanned changes" in text


def test_portals_check_names_what_the_token_cannot_read(
    config_path: Path, emulator: PortalEmulator, capsys: pytest.CaptureFixture[str]
) -> None:
    from hubaudit.emulator.server import missing_scopes_body

    code, out = run("--config", str(config_path), "portals", "check", "--portal", "demo")
    assert code == 0
    assert "ok  workflow" in out
    assert "property:leads: unsupported" in out
    emulator.inject("/automation/v4/flows", 403, body=missing_scopes_body(["automation"]))
    code, out = run("--config", str(config_path), "portals", "check", "--portal", "demo", "--json")
    assert code == 1
    document = json.loads(out)
    assert document["missing_scopes"] == ["automation"]
    assert {p["scope"]: p["status"] for p in document["parts"]}["workflow"] == "failed"
    assert {p["scope"]: p["status"] for p in document["parts"]}["property:leads"] == "unsupported"
    assert "collect.part_failed" in capsys.readouterr().err  # the log says so too


def test_fail_on_and_severity_rules_from_the_config(
    config_path: Path, emulator: PortalEmulator, portal_dirs: dict[str, Path]
) -> None:
    config = str(config_path)
    run("--config", config, "db", "upgrade")
    run("--config", config, "snapshot", "--portal", "demo")
    approve(config, "latest", "Ada")
    emulator.load(portal_dirs["night2"])
    code, out = run("--config", config, "audit", "--portal", "demo", "--fail-on", "critical")
    assert code == 2  # night 2 has critical drift
    # The council decides nothing in this portal is worse than medium: the same drift passes
    # a --fail-on high gate, and the report shows the configured severities.
    with config_path.open("a", encoding="utf-8") as extra:
        extra.write('\n[[severity]]\nseverity = "medium"\n')
    code, out = run(
        "--config", config, "audit", "--portal", "demo", "--fail-on", "high", "--format", "json"
    )
    assert code == 0
    assert {c["severity"] for c in json.loads(out)["changes"]} == {"medium"}


def test_defects_can_be_filtered_shown_acknowledged_and_resolved(
    config_path: Path, emulator: PortalEmulator, portal_dirs: dict[str, Path]
) -> None:
    config = str(config_path)
    run("--config", config, "db", "upgrade")
    run("--config", config, "snapshot", "--portal", "demo")
    approve(config, "latest", "Ada")
    emulator.load(portal_dirs["night2"])
    run("--config", config, "audit", "--portal", "demo")

    def listed(*filters: str) -> list[dict[str, object]]:
        code, out = run(
            "--config", config, "defects", "list", "--portal", "demo", "--json", *filters
        )
        assert code == 0
        result: list[dict[str, object]] = json.loads(out)
        return result

    assert len(listed()) == 18  # 27 changes to 18 items
    critical = listed("--severity", "critical")
    assert {d["severity"] for d in critical} == {"critical"} and len(critical) == 3
    workflows = listed("--kind", "workflow")
    assert {d["key"] for d in workflows} == {"workflow:1201001", "workflow:1201003"}
    assert listed("--since", "2999-01-01") == []

    first, second = (int(str(d["id"])) for d in workflows)
    code, out = run(
        "--config",
        config,
        "defects",
        "ack",
        str(first),
        "--portal",
        "demo",
        "--by",
        "Ops lead",
        "--note",
        "checking with marketing",
    )
    assert (code, out.strip().endswith("acknowledged")) == (0, True)
    code, out = run(
        "--config",
        config,
        "defects",
        "resolve",
        str(second),
        "--portal",
        "demo",
        "--by",
        "Ops lead",
        "--note",
        "stage fixed",
    )
    assert code == 0
    # a resolved defect cannot be acknowledged: a clear error, nothing written
    code, _ = run(
        "--config",
        config,
        "defects",
        "ack",
        str(second),
        str(first),
        "--portal",
        "demo",
        "--by",
        "x",
    )
    assert code == 1
    assert {d["status"] for d in listed("--kind", "workflow")} == {"acknowledged", "resolved"}

    # The drift is still there: the acknowledged defect stays so, the resolved one reopens.
    run("--config", config, "audit", "--portal", "demo")
    statuses = {d["id"]: d["status"] for d in listed("--kind", "workflow")}
    assert statuses == {first: "acknowledged", second: "open"}
    code, out = run(
        "--config", config, "defects", "show", str(second), "--portal", "demo", "--json"
    )
    timeline = [e["event"] for e in json.loads(out)["timeline"]]
    assert timeline == ["opened", "resolved", "reopened"]
    code, out = run("--config", config, "defects", "show", str(second), "--portal", "demo")
    assert "resolution" not in out and "timeline:" in out and "Ops lead" in out


def test_history_show_and_diff_answer_from_the_stored_nights(
    config_path: Path,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert approve(config, "latest", "Ada")[0] == 0
    emulator.load(portal_dirs["night2"])
    code, out = run("--config", config, "audit", "--portal", "demo", "--format", "json")
    assert code == 2
    audited = json.loads(out)["changes"]

    # diff baseline → latest: the same changes, in the same format, as the audit
    code, out = run(
        "--config", config, "diff", "--portal", "demo", "baseline:1", "1", "--format", "json"
    )
    assert (code, json.loads(out)["changes"]) == (0, [])
    code, out = run(
        "--config", config, "diff", "--portal", "demo", "baseline:1", "latest", "--format", "json"
    )
    assert code == 0
    fields = ("key", "op", "field", "before", "after", "severity")
    assert [tuple(c[f] for f in fields) for c in json.loads(out)["changes"]] == [
        tuple(c[f] for f in fields) for c in audited
    ]
    code, out = run("--config", config, "diff", "--portal", "demo", "1", "2")
    assert code == 0
    assert "Changes: 27 (3 items added, 14 modified, 1 removed)" in out
    assert "- property:deals:competitor" in out

    code, out = run("--config", config, "history", "property:deals:competitor", "--portal", "demo")
    assert code == 0
    assert [line.split()[:4] for line in out.splitlines() if line.startswith(("+", "-"))] == [
        ["+", "added", "snapshot", "#1"],
        ["-", "removed", "snapshot", "#2"],
    ]
    code, out = run(
        "--config",
        config,
        "history",
        "property:contacts:customer_tier",
        "--portal",
        "demo",
        "--json",
    )
    entries = json.loads(out)["entries"]
    assert [e["event"] for e in entries] == ["added", "changed"]
    assert entries[1]["attribution"]["user_email"] == "it.admin@northwind.example"
    assert {c["field"] for c in entries[1]["changes"]} == {
        "options.gold.label",
        "options.platinum",
    }

    key = "property:contacts:customer_tier"
    code, out = run(
        "--config", config, "show", key, "--portal", "demo", "--baseline", "1", "--json"
    )
    assert json.loads(out)["canonical"]["options"]["gold"]["label"] == "Gold"
    code, out = run("--config", config, "show", key, "--portal", "demo")
    assert '"label": "Gold (legacy)"' in out
    code, out = run("--config", config, "show", key, "--portal", "demo", "--raw")
    assert "raw JSON as HubSpot sent it" in out and "updatedUserId" in out

    capsys.readouterr()
    assert run("--config", config, "show", key, "--portal", "demo", "--at", "2001-01-01")[0] == 1
    assert "no snapshot taken at or before 2001-01-01" in capsys.readouterr().err
    assert run("--config", config, "show", key, "--portal", "demo", "--snapshot", "x")[0] == 1
    assert "--snapshot takes a snapshot id or 'latest'" in capsys.readouterr().err
    assert run("--config", config, "diff", "--portal", "demo", "1", "someday")[0] == 1
    assert "'someday' is not a snapshot id" in capsys.readouterr().err


def test_db_check_and_prune_from_the_command_line(
    config_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlalchemy as sa

    from hubaudit.config import load_config
    from hubaudit.store.engine import make_engine
    from hubaudit.store.payloads import encode_body
    from hubaudit.store.tables import PayloadRow

    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    code, out = run("--config", config, "db", "check")
    assert code == 0 and "ok: every payload matches its hash" in out

    assert run("--config", config, "db", "prune", "--dry-run")[0] == 1
    assert "has no [retention] table: nothing is pruned" in capsys.readouterr().err
    with config_path.open("a", encoding="utf-8") as file:
        file.write("\n[retention]\ndaily_days = 7\nweekly_weeks = 0\nmonthly_months = 0\n")
    code, out = run("--config", config, "db", "prune", "--dry-run")
    assert code == 0
    assert out.startswith("demo: would delete 0 snapshots, 0 item versions, 0 payloads")

    engine = make_engine(load_config(config_path).database_url)
    with engine.begin() as connection:
        first = connection.scalar(sa.select(PayloadRow.hash).limit(1))
        connection.execute(
            sa.update(PayloadRow).where(PayloadRow.hash == first).values(body=encode_body("{}"))
        )
    engine.dispose()
    code, out = run("--config", config, "db", "check")
    assert code == 1
    assert f"payload {first}: its content does not hash to its key" in out
    assert "1 problems found" in capsys.readouterr().err


def test_a_bad_retention_table_names_its_line_and_key(tmp_path: Path) -> None:
    from hubaudit.config import load_config
    from hubaudit.errors import ConfigError

    path = tmp_path / "hubaudit.toml"
    path.write_text("[retention]\ndaily_days = 30\nweekly_weeks = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert "hubaudit.toml:3" in str(caught.value) and "weekly_weeks" in str(caught.value)


def test_audit_all_runs_every_portal_and_records_each_run(
    config_path: Path,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with config_path.open("a", encoding="utf-8") as file:
        file.write(
            f'\n[[portals]]\nname = "demo-eu"\nbase_url = "{emulator.base_url}"\n'
            f'token_env = "{TOKEN_ENV}"\nrate_limit_per_10s = 5000\ntimezone = "Europe/Paris"\n'
        )
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    for name in ("demo", "demo-eu"):
        assert run("--config", config, "snapshot", "--portal", name)[0] == 0
        assert run(
            "--config", config, "baseline", "approve", "--portal", name,
            "--from-snapshot", "latest", "--by", "Ada", "--note", "v1",
        )[0] == 0  # fmt: skip
    emulator.load(portal_dirs["night2"])
    reports = tmp_path / "reports"
    code, out = run(
        "--config", config, "audit", "--all", "--format", "json", "--output", str(reports)
    )
    assert code == 2
    lines = sorted(out.splitlines())
    assert len(lines) == 2
    assert lines[0].startswith("demo-eu: drift (run #")
    assert lines[1].startswith("demo: drift (run #")
    assert "27 unplanned changes, 18 new defects" in lines[0]
    assert json.loads((reports / "demo-eu.json").read_text())["summary"]["unplanned"] == 27

    code, out = run("--config", config, "runs", "--json")
    records = json.loads(out)
    assert [(r["portal"], r["trigger"], r["status"]) for r in records if r["trigger"] == "all"] == [
        ("demo", "all", "succeeded"),
        ("demo-eu", "all", "succeeded"),
    ] or sorted(r["portal"] for r in records) == ["demo", "demo-eu"]
    assert all(r["changes"] == 27 and r["api_calls"] > 50 for r in records)
    code, out = run("--config", config, "runs", "--portal", "demo")
    assert code == 0 and "succeeded" in out and "changes 27" in out

    code, out = run("--config", config, "schedule", "list", "--json")
    rows = {r["portal"]: r for r in json.loads(out)}
    assert rows["demo"]["cron"] == "0 2 * * *" and rows["demo"]["timezone"] == "UTC"
    assert rows["demo-eu"]["timezone"] == "Europe/Paris"
    assert rows["demo-eu"]["next_run"].endswith(("+01:00", "+02:00"))
    assert rows["demo"]["last_run"]["status"] == "succeeded"


def test_worker_health_and_the_scheduler_process(
    config_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    if database_url.startswith("sqlite"):
        assert run("--config", config, "worker")[0] == 1
        assert "SQLite is single-process" in capsys.readouterr().err
    else:
        code, out = run("--config", config, "worker", "--exit-when-idle")
        assert code == 0 and out.endswith(": 0 runs\n")
    code, out = run("--config", config, "health")
    assert code == 1 and "database: ok" in out
    assert "no live scheduler or worker" in capsys.readouterr().err
    assert run("--config", config, "health", "--database-only")[0] == 0

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    command = [sys.executable, "-m", "hubaudit", "--config", config]
    scheduler = subprocess.Popen(
        [*command, "schedule", "run"], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        assert scheduler.stdout is not None
        assert scheduler.stdout.readline().startswith("demo: next run ")
        deadline = time.monotonic() + 30
        while run("--config", config, "health")[0] != 0 and time.monotonic() < deadline:
            time.sleep(0.2)
        code, out = run("--config", config, "health")
        assert code == 0 and "scheduler" in out
        if database_url.startswith("sqlite"):
            second = subprocess.run(
                [*command, "schedule", "run"], env=env, capture_output=True, text=True, timeout=60
            )
            assert second.returncode == 1
            assert "another scheduler already runs" in second.stderr
        scheduler.send_signal(signal.SIGTERM)
        assert scheduler.wait(timeout=60) == 0
    finally:
        if scheduler.poll() is None:
            scheduler.kill()
            scheduler.wait()
        if scheduler.stdout is not None:
            scheduler.stdout.close()
    capsys.readouterr()
    code, out = run("--config", config, "health")
    # the worker of the --exit-when-idle run above stopped too: nobody alive
    assert code == 1
