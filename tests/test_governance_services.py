"""The council's and RevOps' decisions through the services with an Actor leave the database in
the same state as the same decisions through the command line; and the governance commands keep
the CLI's conventions (``--portal`` left out with one portal, ``--json`` as ``--format json``,
the version positional with ``--version`` kept, ``log --until``)."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hubaudit.cli import main
from hubaudit.cli.hints import hint_for
from hubaudit.emulator import DEMO_TOKEN, PortalEmulator
from hubaudit.errors import MissingNote, MissingReason, UsageError
from hubaudit.services.actor import Actor, Channel
from hubaudit.store.engine import make_engine
from hubaudit.store.repository import Store
from hubaudit.store.tables import Base

from .test_cli import TOKEN_ENV

RITA, COUNCIL = Actor("Rita"), Actor("Council", Channel.WEB)


def write_config(path: Path, database_url: str, emulator: PortalEmulator) -> str:
    path.write_text(
        f'[database]\nurl = "{database_url}"\n\n'
        f'[logging]\nlevel = "warning"\n\n'
        f'[[portals]]\nname = "demo"\nbase_url = "{emulator.base_url}"\n'
        f'token_env = "{TOKEN_ENV}"\nrate_limit_per_10s = 5000\n',
        encoding="utf-8",
    )
    return str(path)


def run(*args: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(list(args), out=out)
    return code, out.getvalue()


def ok(*args: str) -> str:
    code, out = run(*args)
    assert code == 0, (args, out)
    return out


# what a decision writes (the runs and reports of the nights before differ in timings)
DECIDED = (
    "baselines",
    "baseline_items",
    "defects",
    "defect_events",
    "waivers",
    "findings",
    "change_requests",
    "governance_log",
)


def _moment(name: str) -> bool:
    return name in ("at", "scheduled_for") or name.endswith("_at")


def decided_state(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, without the columns that hold the moment something happened
    (those differ between two runs by design); ids, names, notes, statuses and links stay."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            state = {}
            for table in Base.metadata.sorted_tables:
                if table.name not in DECIDED:
                    continue
                columns = [c for c in table.columns if not _moment(c.name)]
                order = list(table.primary_key.columns) or columns
                rows = connection.execute(sa.select(*columns).order_by(*order))
                state[table.name] = [tuple(row) for row in rows]
            return state
    finally:
        engine.dispose()


@pytest.fixture
def twins(
    tmp_path: Path,
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[str, str, str]:
    """Two databases that lived the same nights: v1 approved by the CLI from night 1, then an
    audit of night 2. Yields the CLI's config, the other config and the other database's URL."""
    monkeypatch.setenv(TOKEN_ENV, DEMO_TOKEN)
    monkeypatch.delenv("HUBAUDIT_DATABASE_URL", raising=False)
    urls = [f"sqlite:///{tmp_path / name}.db" for name in ("cli", "services")]
    configs = [
        write_config(tmp_path / f"{n}.toml", u, emulator)
        for n, u in zip(("cli", "services"), urls, strict=True)
    ]
    for config in configs:
        ok("--config", config, "db", "upgrade")
        ok("--config", config, "snapshot", "--portal", "demo")
        ok(
            "--config",
            config,
            "baseline",
            "approve",
            "--from-snapshot",
            "latest",
            "--by",
            "Ada",
            "--note",
            "v1",
        )
    emulator.load(portal_dirs["night2"])
    for config in configs:
        assert run("--config", config, "audit", "--portal", "demo")[0] == 2
    return configs[0], configs[1], urls[1]


def test_decisions_through_the_services_leave_the_state_the_cli_leaves(
    twins: tuple[str, str, str],
) -> None:
    from hubaudit.governance.change_requests import parse_planned_change
    from hubaudit.services import baselines, change_requests, triage
    from hubaudit.services.change_requests import RequestDraft

    cli, other, other_url = twins
    defects = json.loads(ok("--config", cli, "defects", "list", "--json"))
    findings = json.loads(ok("--config", cli, "findings", "list", "--json"))
    assert len(defects) >= 3 and findings
    first, second, third = (str(d["id"]) for d in defects[:3])
    finding = str(findings[0]["id"])

    # the command line, on one database
    ok("--config", cli, "defects", "ack", first, "--by", "Rita", "--note", "looking")
    ok(
        "--config",
        cli,
        "defects",
        "waive",
        second,
        "--reason",
        "Q1",
        "--until",
        "2099-01-31",
        "--by",
        "Rita",
    )
    ok("--config", cli, "defects", "resolve", first, "--by", "Rita", "--note", "put back")
    ok("--config", cli, "defects", "accept", third, "--by", "Rita", "--note", "keep it")
    ok(
        "--config",
        cli,
        "findings",
        "waive",
        finding,
        "--reason",
        "Q2",
        "--until",
        "2099-06-30",
        "--by",
        "Rita",
    )
    ok("--config", cli, "cr", "create", "--title", "TikTok", "--change",
       "add property:contacts:tiktok_handle type=string", "--from", "2020-01-01",
       "--until", "2099-12-31", "--by", "Rita", "--note", "marketing")  # fmt: skip
    ok("--config", cli, "cr", "approve", "CR-1", "--by", "Council", "--note", "go")
    ok("--config", cli, "baseline", "release", "CR-1", "--by", "Rita")
    ok("--config", cli, "baseline", "approve", "2", "--by", "Council", "--note", "v2")

    # the services with an Actor, on the other
    store = Store(make_engine(other_url))
    try:
        triage.acknowledge_defects(store, "demo", [int(first)], RITA, "looking")
        until = datetime(2099, 1, 31, 23, 59, 59, 999999, tzinfo=UTC)
        triage.waive_defects(store, "demo", [int(second)], RITA, "Q1", until)
        triage.resolve_defects(store, "demo", [int(first)], RITA, "put back")
        triage.accept_defects(store, "demo", [int(third)], RITA, "keep it")
        until = datetime(2099, 6, 30, 23, 59, 59, 999999, tzinfo=UTC)
        triage.waive_findings(store, "demo", [int(finding)], RITA, "Q2", until)
        draft = RequestDraft(
            "TikTok",
            (parse_planned_change("add property:contacts:tiktok_handle type=string"),),
            datetime(2020, 1, 1, tzinfo=UTC),
            datetime(2099, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            "marketing",
        )
        request = change_requests.create_request(store, "demo", draft, RITA)
        change_requests.decide_request(store, "demo", request.id, True, COUNCIL, "go")
        baselines.release_requests(store, "demo", [request.id], RITA, None)
        decision = baselines.decide_baseline(store, "demo", 2, True, COUNCIL, "v2")
    finally:
        store.engine.dispose()
    assert (decision.baseline.version, decision.defects, decision.requests) == (
        2,
        (int(third),),
        (1,),
    )

    cli_url = _url_of(cli)
    expected, actual = decided_state(cli_url), decided_state(other_url)
    assert set(expected) == set(DECIDED)
    assert expected["governance_log"] and expected["defect_events"] and expected["waivers"]
    assert actual == expected
    log = json.loads(ok("--config", other, "log", "--json"))
    assert [e["actor"] for e in log][-3:] == ["Council", "Rita", "Council"]


def _url_of(config: str) -> str:
    text = Path(config).read_text(encoding="utf-8")
    return text.split('url = "', 1)[1].split('"', 1)[0]


def test_the_governance_commands_keep_the_cli_conventions(
    twins: tuple[str, str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    cli, _, _ = twins
    # --json is --format json; --portal may be left out: the config names one portal
    for command in (["defects", "list"], ["findings", "list"], ["baseline", "list"],
                    ["cr", "list"], ["log"]):  # fmt: skip
        as_json = ok("--config", cli, *command, "--json")
        assert as_json == ok("--config", cli, *command, "--format", "json", "--portal", "demo")
        assert isinstance(json.loads(as_json), list), command
    code, _ = run("--config", cli, "log", "--json", "--format", "text")
    assert code == 1 and "disagree" in capsys.readouterr().err

    # --output writes the document to a file instead of the terminal
    target = tmp_path / "versions.json"
    assert ok("--config", cli, "baseline", "list", "--json", "--output", str(target)) == ""
    assert [v["version"] for v in json.loads(target.read_text())] == [1]

    # the version is positional; --version still works; the two must agree
    assert ok("--config", cli, "baseline", "show", "1") == ok(
        "--config", cli, "baseline", "show", "--version", "1"
    )
    assert "baseline v1 of demo: approved" in ok("--config", cli, "baseline", "show", "1")
    code, _ = run("--config", cli, "baseline", "show", "1", "--version", "2")
    assert code == 1 and "disagree" in capsys.readouterr().err
    code, _ = run("--config", cli, "baseline", "approve", "1", "--from-snapshot", "latest",
                  "--by", "A", "--note", "n")  # fmt: skip
    assert code == 1 and "not both" in capsys.readouterr().err

    # a decision without a note, or with a blank name, is a usage error (exit 1, never 2)
    defect = str(json.loads(ok("--config", cli, "defects", "list", "--json"))[0]["id"])
    code, _ = run("--config", cli, "defects", "accept", defect, "--by", "Rita")
    assert code == 1 and "--note" in capsys.readouterr().err
    code, _ = run("--config", cli, "defects", "accept", defect, "--by", "Rita", "--note", " ")
    err = capsys.readouterr().err
    assert code == 1 and "accepting defects needs a note saying why" in err
    assert "hint: say why with --note" in err
    code, _ = run("--config", cli, "defects", "ack", defect, "--by", " ")
    assert code == 1 and "--by" in capsys.readouterr().err
    code, _ = run("--config", cli, "defects", "show", "0")
    assert code == 1 and "ID" in capsys.readouterr().err

    # an unknown portal: the same one-line error on a decision as on a listing
    code, out = run("--config", cli, "defects", "ack", defect, "--portal", "dmeo", "--by", "R")
    assert (code, out) == (1, "")
    assert capsys.readouterr().err.strip() == (
        "hubaudit: error: unknown portal 'dmeo': the config names demo (did you mean 'demo'?)"
    )

    # log --until beside --since
    entries = json.loads(ok("--config", cli, "log", "--json"))
    assert [e["action"] for e in entries] == ["baseline.proposed", "baseline.approved"]
    assert json.loads(ok("--config", cli, "log", "--json", "--until", "2000-01-01")) == []
    assert json.loads(ok("--config", cli, "log", "--json", "--since", "2000-01-01",
                         "--until", "2999-12-31")) == entries  # fmt: skip
    code, _ = run("--config", cli, "log", "--since", "2026-02-01", "--until", "2026-01-01")
    assert code == 1 and "--until" in capsys.readouterr().err


def test_decisions_refuse_what_the_log_could_not_record(tmp_path: Path) -> None:
    from hubaudit.services import baselines, triage
    from hubaudit.services.log import governance_log
    from hubaudit.store.engine import upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    upgrade(engine)
    store = Store(engine)
    try:
        future = datetime(2099, 1, 1, tzinfo=UTC)
        with pytest.raises(MissingReason, match="needs a reason"):
            triage.waive_defects(store, "demo", [1], RITA, "  ", future)
        with pytest.raises(UsageError, match="not in the future"):
            triage.waive_findings(store, "demo", [1], RITA, "why", datetime(2001, 1, 1, tzinfo=UTC))
        with pytest.raises(MissingNote, match="approving a baseline needs a note"):
            baselines.decide_baseline(store, "demo", None, True, COUNCIL, "")
        with pytest.raises(UsageError, match="no approved baseline") as caught:
            baselines.baseline_version(store, "demo", None)
        # the service says what is wrong; the CLI's hint says what to run, for this portal
        assert "hubaudit" not in str(caught.value)
        hint = hint_for(caught.value)
        assert hint is not None and "baseline approve --portal demo --from-snapshot" in hint
        assert governance_log(store, "never-seen") == []
    finally:
        engine.dispose()
    with pytest.raises(ValueError, match="needs a name"):
        Actor("   ")
    with pytest.raises(ValueError, match="at most 255"):
        Actor("R" * 256)
    assert Actor("  Rita  ").name == "Rita"
