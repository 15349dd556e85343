"""Nothing false: an operator's mistake or an oversized input is one clear line and exit 1, never
a traceback, a silent "nothing depends on it", or advice meant for someone else. Real config
files, both databases, real HTTP to the emulator."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from hubaudit.emulator import PortalEmulator
from hubaudit.store.engine import head_revision

from .test_cli import (  # noqa: F401 - the fixture is used by name
    approve,
    config_path,
    run,
)

FUTURE = "0099_from_a_newer_hubaudit"


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    """The command's stderr, which must be exactly one error line."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("hubaudit: error: "), err
    assert "Traceback" not in err
    return err.removeprefix("hubaudit: error: ").rstrip("\n")


def stamp(database_url: str, revision: str) -> None:
    engine = sa.create_engine(database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(sa.text("update alembic_version set version_num = :r"), {"r": revision})
    engine.dispose()


def revision_of(database_url: str) -> str:
    engine = sa.create_engine(database_url)
    with engine.connect() as connection:
        found = connection.execute(sa.text("select version_num from alembic_version")).scalar_one()
    engine.dispose()
    return str(found)


# -- the database and the process ---------------------------------------------------------------


def test_a_database_newer_than_this_hubaudit_is_one_line_everywhere(
    config_path: Path,  # noqa: F811
    database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    stamp(database_url, FUTURE)
    capsys.readouterr()
    expected = (
        f"is at revision {FUTURE}, newer than this hubaudit (0.1.0), which knows up to "
        f"{head_revision()}: upgrade hubaudit"
    )
    for command in (["db", "current"], ["db", "upgrade"], ["runs"], ["db", "check"]):
        code, out = run("--config", config, *command)
        assert (code, out) == (1, ""), command
        assert one_line(capsys).endswith(expected), command
    assert revision_of(database_url) == FUTURE  # `db upgrade` touched nothing

    stamp(database_url, head_revision() or "")
    code, out = run("--config", config, "db", "current")
    assert (code, out.strip()) == (0, head_revision())


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://root:hunter2@localhost/hubaudit", "hubaudit works with sqlite"),
        ("mssql+pyodbc://sa:hunter2@db/hubaudit", "hubaudit works with sqlite"),
        ("postgresql+nosuchdriver://u:hunter2@db/hubaudit", "unsupported database URL"),
    ],
)
def test_an_unsupported_database_url_names_the_supported_ones(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    url: str,
    says: str,
) -> None:
    config = tmp_path / "hubaudit.toml"
    config.write_text('[logging]\nlevel = "warning"\n', encoding="utf-8")
    monkeypatch.setenv("HUBAUDIT_DATABASE_URL", url)
    for command in (["db", "upgrade"], ["runs"]):
        code, _ = run("--config", str(config), *command)
        assert code == 1
        message = one_line(capsys)
        assert says in message and "hunter2" not in message


def test_a_postgres_driver_that_is_not_installed_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib.util

    if importlib.util.find_spec("pg8000") is not None:  # pragma: no cover - not a dependency
        pytest.skip("pg8000 is installed here")
    config = tmp_path / "hubaudit.toml"
    config.write_text("", encoding="utf-8")
    monkeypatch.setenv("HUBAUDIT_DATABASE_URL", "postgresql+pg8000://u:hunter2@db/hubaudit")
    assert run("--config", str(config), "db", "current")[0] == 1
    message = one_line(capsys)
    assert "its driver pg8000 is not installed" in message and "hunter2" not in message


def test_the_emulator_on_a_busy_port_is_one_line(tmp_path: Path) -> None:
    fixtures = Path(__file__).resolve().parents[1] / "fixtures" / "demo" / "night1"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "hubaudit",
                "emulator",
                "--fixtures",
                str(fixtures),
                "--port",
                str(port),
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=60,  # a hang (the port was not busy after all) fails, never blocks
        )
    assert done.returncode == 1
    assert done.stderr == (
        f"hubaudit: error: cannot serve on 127.0.0.1:{port}: Address already in use "
        "(another emulator? choose another --port)\n"
    )
    missing = subprocess.run(
        [sys.executable, "-m", "hubaudit", "emulator", "--fixtures", str(tmp_path / "none")],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert missing.returncode == 1 and "not a portal folder" in missing.stderr
    assert missing.stderr.count("\n") == 1


# -- names typed by hand --------------------------------------------------------------------------


def two_portals(config_path: Path) -> None:  # noqa: F811
    text = config_path.read_text(encoding="utf-8")
    config_path.write_text(
        text + '\n[[portals]]\nname = "acme-prod"\nbase_url = "http://127.0.0.1:9"\n'
        'token_env = "HUBAUDIT_ACME_TOKEN"\n',
        encoding="utf-8",
    )


def test_a_mistyped_portal_is_unknown_in_every_command(
    config_path: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    two_portals(config_path)
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert approve(config, "latest", "Ada")[0] == 0
    capsys.readouterr()
    expected = "unknown portal 'dmeo': the config names acme-prod, demo (did you mean 'demo'?)"
    commands = [
        ["runs", "--portal", "dmeo"],
        ["audit", "--portal", "dmeo"],
        ["snapshot", "--portal", "dmeo"],
        ["history", "property:deals:amount", "--portal", "dmeo"],
        ["show", "property:deals:amount", "--portal", "dmeo"],
        ["diff", "--portal", "dmeo", "baseline", "latest"],
        ["impact", "property:deals:amount", "--portal", "dmeo"],
        ["defects", "list", "--portal", "dmeo"],
        ["findings", "list", "--portal", "dmeo"],
        ["baseline", "list", "--portal", "dmeo"],
        ["cr", "list", "--portal", "dmeo"],
        ["log", "--portal", "dmeo"],
        ["report", "--portal", "dmeo"],
        ["kpis", "--portal", "dmeo"],
        ["portals", "check", "--portal", "dmeo"],
        ["baseline", "import", str(tmp_path), "--portal", "dmeo", "--by", "Rita"],
        ["db", "prune", "--portal", "dmeo", "--dry-run"],
    ]
    for command in commands:
        code, out = run("--config", config, *command)
        assert (code, out) == (1, ""), command
        assert one_line(capsys) == expected, command

    code, _ = run("--config", config, "runs", "--portal", "zzz")
    assert code == 1
    assert one_line(capsys) == "unknown portal 'zzz': the config names acme-prod, demo"
    # the right name still works, and a portal without runs is a portal without runs
    assert run("--config", config, "runs", "--portal", "demo")[0] == 0
    code, out = run("--config", config, "runs", "--portal", "acme-prod")
    assert (code, out) == (0, "no runs yet\n")


def test_impact_of_a_mistyped_key_is_an_error_not_safe_to_delete(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert approve(config, "latest", "Ada")[0] == 0
    capsys.readouterr()

    code, out = run("--config", config, "impact", "property:deals:amout", "--portal", "demo")
    assert (code, out) == (1, "")
    assert one_line(capsys) == (
        "unknown key 'property:deals:amout': no snapshot or baseline of demo holds it "
        "(did you mean 'property:deals:amount'?)"
    )
    code, _ = run("--config", config, "impact", "property:deal:amount", "--portal", "demo")
    assert code == 1
    assert one_line(capsys).endswith("(did you mean 'property:deals:amount'?)")
    code, _ = run("--config", config, "impact", "property:deals:zzzzzzzz", "--portal", "demo")
    assert code == 1
    assert one_line(capsys).endswith("no snapshot or baseline of demo holds it")
    code, _ = run("--config", config, "impact", "property:deals", "--portal", "demo")
    assert code == 1
    assert one_line(capsys) == (
        "'property:deals' is not a whole item key: a property key is "
        "property:{objectType}:{name}, e.g. property:deals:amount"
    )

    # an item that exists but that nothing uses keeps its honest answer
    code, out = run("--config", config, "impact", "property:deals:amount", "--portal", "demo")
    assert code == 0 and "nothing in this snapshot depends on it" in out

    # an item deleted from the portal since the baseline is known: it is in the baseline
    deals = portal_dirs["night1"] / "properties" / "deals.json"
    properties = json.loads(deals.read_text(encoding="utf-8"))
    deals.write_text(json.dumps([p for p in properties if p["name"] != "amount"]), encoding="utf-8")
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    code, out = run("--config", config, "impact", "property:deals:amount", "--portal", "demo")
    assert code == 0 and "the item is not in this snapshot" in out


def test_a_change_request_must_name_a_whole_key(
    config_path: Path,  # noqa: F811
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    capsys.readouterr()

    def create(change: str) -> int:
        return run("--config", config, "cr", "create", "--portal", "demo", "--title", "t",
                   "--change", change, "--from", "2026-01-01", "--until", "2026-12-31",
                   "--by", "Rita")[0]  # fmt: skip

    assert create("add property:deals") == 1
    assert one_line(capsys) == (
        "--change 'add property:deals': 'property:deals' is not a whole item key: a property "
        "key is property:{objectType}:{name}, e.g. property:deals:amount"
    )
    assert create("modify association_label:0-3:0-2:USER_DEFINED") == 1
    assert "association_label:{fromTypeId}:{toTypeId}:{category}:{typeId}" in one_line(capsys)
    # an item to modify or remove must be one the portal has held: a typo plans nothing real
    assert create("modify property:deals:dealnme label=x") == 1
    assert one_line(capsys) == (
        "unknown key 'property:deals:dealnme': no snapshot or baseline of demo holds it "
        "(did you mean 'property:deals:dealname' or 'property:deals:dealtype' or "
        "'property:deals:dealstage'?)"
    )
    assert create("remove property:deals:nosuchthing") == 1
    assert one_line(capsys).startswith("unknown key 'property:deals:nosuchthing'")
    code, out = run("--config", config, "cr", "list", "--portal", "demo", "--json")
    assert (code, json.loads(out)) == (0, [])  # nothing was created
    assert create("add property:deals:renewal_date type=date") == 0
    assert create("modify property:deals:dealname label=Deal") == 0


@pytest.mark.parametrize(
    ("key", "whole"),
    [
        ("property:deals:amount", True),
        ("property:p48151623_subscription:plan", True),
        ("property:deals", False),
        ("property:deals:", False),
        ("property::amount", False),
        ("property_group:deals:dealinformation", True),
        ("property_group:deals", False),
        ("pipeline:deals:default", True),
        ("pipeline:deals", False),
        ("workflow:1201025", True),
        ("workflow", False),
        ("workflow:", False),
        ("lifecycle_stage:contacts:lead", True),
        ("lifecycle_stage:contacts", False),
        ("object_schema:p48151623_subscription", True),
        ("object_schema:", False),
        ("association_label:0-3:0-2:USER_DEFINED:106", True),
        ("association_label:0-3:0-2:HUBSPOT_DEFINED", False),
        ("association_label:0-3:0-2", False),
        ("user:1001", True),
        ("team:", False),
        ("role:3001", True),
        ("propery:deals:amount", False),
    ],
)
def test_a_planned_change_names_a_whole_key_of_its_kind(key: str, whole: bool) -> None:
    from hubaudit.errors import UsageError
    from hubaudit.governance.change_requests import parse_planned_change

    if whole:
        assert parse_planned_change(f"remove {key}").key == key
        return
    with pytest.raises(UsageError, match=r"is not (a whole |an )item key"):
        parse_planned_change(f"remove {key}")


# -- sizes and links ------------------------------------------------------------------------------


def test_a_hubspot_answer_over_the_cap_leaves_its_part_not_verified_never_removed(
    config_path: Path,  # noqa: F811
    portal_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert approve(config, "latest", "Ada")[0] == 0

    # one of the team's deal properties (a HubSpot-defined one would be HubSpot's own change)
    # gets a 200 kB description; the cap is 0.1 MB for this portal
    deals = portal_dirs["night1"] / "properties" / "deals.json"
    properties = json.loads(deals.read_text(encoding="utf-8"))
    target = next(p for p in properties if not p.get("hubspotDefined"))
    target["description"] = "x" * 200_000
    deals.write_text(json.dumps(properties), encoding="utf-8")
    config_path.write_text(
        config_path.read_text(encoding="utf-8") + "max_response_mb = 0.1\n", encoding="utf-8"
    )
    capsys.readouterr()
    report = tmp_path / "report.json"
    code, _ = run("--config", config, "audit", "--portal", "demo", "--format", "json",
                  "--output", str(report))  # fmt: skip
    assert code == 1  # not a clean bill: a part could not be read
    err = capsys.readouterr().err  # the log's warning, then the error
    assert err.endswith("\nhubaudit: error: not verified: property:deals (see the report)\n")
    assert "collect.part_failed" in err and "Traceback" not in err
    document = json.loads(report.read_text(encoding="utf-8"))
    assert document["summary"]["unplanned"] == 0  # no deal property reported removed
    assert not [c for c in document["changes"] if c["key"].startswith("property:deals:")]
    reasons = json.dumps(document)
    assert (
        "the response to /crm/v3/properties/deals is larger than 0.1 MB (max_response_mb)"
        in reasons
    )

    # the default cap reads it: the description change is drift, as it should be
    config_path.write_text(
        config_path.read_text(encoding="utf-8").replace("max_response_mb = 0.1\n", ""),
        encoding="utf-8",
    )
    code, _ = run("--config", config, "audit", "--portal", "demo", "--format", "json",
                  "--output", str(report))  # fmt: skip
    assert code == 2
    changes = json.loads(report.read_text(encoding="utf-8"))["changes"]
    assert [c["key"] for c in changes] == [f"property:deals:{target['name']}"]


def exported_tree(config: str, out: Path) -> None:
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    assert approve(config, "latest", "Ada")[0] == 0
    code, _ = run("--config", config, "baseline", "export", "--portal", "demo", "--out", str(out))
    assert code == 0


def versions(config: str) -> list[int]:
    code, out = run("--config", config, "baseline", "list", "--portal", "demo", "--json")
    assert code == 0
    return [v["version"] for v in json.loads(out)]


def test_baseline_import_refuses_links_without_quoting_what_they_point_to(
    config_path: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    tree = tmp_path / "tree"
    exported_tree(config, tree)
    secret = tmp_path / "outside" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("root:CANARY-FIRST-LINE:0:0\n", encoding="utf-8")
    capsys.readouterr()

    def refused(link: Path, target: Path, shown: str) -> None:
        original = tmp_path / "original"
        link.rename(original)
        link.symlink_to(target)
        try:
            code, out = run("--config", config, "baseline", "import", str(tree), "--by", "Rita")
            assert (code, out) == (1, "")
            message = one_line(capsys)
            assert message == (
                f"{shown}: is a symbolic link: a baseline tree is read from its own files "
                "only (copy the file into the tree)"
            )
            assert "CANARY" not in message and str(target) not in message
        finally:
            link.unlink()
            original.rename(link)

    refused(tree / "baseline.yaml", secret, "baseline.yaml")
    refused(tree / "property" / "deals.yaml", secret, "property/deals.yaml")
    refused(tree / "property", secret.parent, "property")
    # a link to a file inside the tree is refused too: the tree is its own files
    refused(tree / "workflow.yaml", tree / "property" / "deals.yaml", "workflow.yaml")
    assert versions(config) == [1]  # nothing was written

    code, out = run("--config", config, "baseline", "import", str(tree), "--by", "Rita")
    assert code == 0 and "baseline v2 of demo proposed" in out


def test_baseline_import_refuses_a_tree_over_the_size_limit_before_reading_it(
    config_path: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    tree = tmp_path / "tree"
    exported_tree(config, tree)
    total = sum(p.stat().st_size for p in tree.rglob("*.yaml"))
    assert total > 100_000  # the demo's baseline is a few hundred kB of YAML
    config_path.write_text(
        config_path.read_text(encoding="utf-8") + "\n[governance]\nmax_import_mb = 0.05\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    code, _ = run("--config", config, "baseline", "import", str(tree), "--by", "Rita")
    assert code == 1
    assert one_line(capsys) == (
        f"{tree}: the tree's YAML files hold {total / 2**20:.3g} MB, more than the import "
        "limit of 0.05 MB ([governance] max_import_mb); nothing was read"
    )

    # one file alone over the limit is named before anything else is read
    (tree / "baseline.yaml").write_text(
        (tree / "baseline.yaml").read_text(encoding="utf-8") + "#" * 60_000 + "\n",
        encoding="utf-8",
    )
    code, _ = run("--config", config, "baseline", "import", str(tree), "--by", "Rita")
    assert code == 1
    assert one_line(capsys).startswith("baseline.yaml: 0.0")
    assert versions(config) == [1]  # nothing was written
