"""The council's commands end to end: real config file, real database, real HTTP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hubaudit.emulator import PortalEmulator

from .test_cli import config_path, run  # noqa: F401  (the fixture is used by name)


def test_baselines_change_requests_waivers_and_the_log_from_the_command_line(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    assert run("--config", config, "snapshot", "--portal", "demo")[0] == 0
    code, out = run(
        "--config", config, "baseline", "propose", "--portal", "demo",
        "--from-snapshot", "latest", "--by", "Rita", "--note", "Q4 draft",
    )  # fmt: skip
    assert (code, "baseline v1 of demo proposed by Rita" in out) == (0, True)
    code, out = run("--config", config, "baseline", "list", "--portal", "demo", "--json")
    assert [(v["version"], v["status"]) for v in json.loads(out)] == [(1, "proposed")]
    code, _ = run("--config", config, "audit", "--portal", "demo")
    assert code == 1 and "no approved baseline" in capsys.readouterr().err
    code, out = run(
        "--config", config, "baseline", "approve", "--portal", "demo", "--version", "1",
        "--by", "Council", "--note", "signed",
    )  # fmt: skip
    assert code == 0 and "baseline v1 of demo approved by Council" in out

    code, out = run(
        "--config", config, "cr", "create", "--portal", "demo", "--title", "TikTok field",
        "--change", "add property:contacts:tiktok_handle type=string",
        "--from", "2020-01-01", "--until", "2099-12-31", "--by", "Rita",
    )  # fmt: skip
    assert code == 0 and out.startswith("CR-1 created")
    code, _ = run(
        "--config", config, "cr", "create", "--portal", "demo", "--title", "bad",
        "--change", "rename property:contacts:x", "--from", "2020-01-01",
        "--until", "2099-12-31", "--by", "Rita",
    )  # fmt: skip
    assert code == 1 and "expected OP KEY" in capsys.readouterr().err
    assert run("--config", config, "cr", "approve", "CR-1", "--portal", "demo",
               "--by", "Council", "--note", "ok")[0] == 0  # fmt: skip
    code, out = run("--config", config, "cr", "show", "1", "--portal", "demo")
    assert "approved  not started" in out
    assert 'add property:contacts:tiktok_handle type="string": not started' in out

    emulator.load(portal_dirs["night2"])
    code, out = run("--config", config, "audit", "--portal", "demo", "--format", "json")
    assert code == 2
    report = json.loads(out)
    tiktok = [c for c in report["changes"] if c["key"] == "property:contacts:tiktok_handle"]
    assert [(c["classification"], c["change_request"]) for c in tiktok] == [("planned", 1)]
    assert report["summary"]["planned"] == 1
    code, out = run("--config", config, "cr", "list", "--portal", "demo", "--json")
    assert json.loads(out)[0]["progress"] == "implemented"

    competitor = next(
        c["defect_id"] for c in report["changes"] if c["key"] == "property:deals:competitor"
    )
    code, _ = run("--config", config, "defects", "waive", str(competitor), "--portal", "demo",
                  "--reason", " ", "--until", "2099-01-01", "--by", "Rita")  # fmt: skip
    assert code == 1 and "needs a reason" in capsys.readouterr().err
    code, _ = run("--config", config, "defects", "waive", str(competitor), "--portal", "demo",
                  "--reason", "x", "--until", "2001-01-01", "--by", "Rita")  # fmt: skip
    assert code == 1 and "not in the future" in capsys.readouterr().err
    code, out = run("--config", config, "defects", "waive", str(competitor), "--portal", "demo",
                    "--reason", "sales ops decides in Q1", "--until", "2099-01-01",
                    "--by", "Rita")  # fmt: skip
    assert code == 0 and "waived until 2099-01-01 23:59 UTC by Rita" in out
    code, out = run("--config", config, "defects", "show", str(competitor), "--portal", "demo")
    assert "waived by Rita until 2099-01-01 23:59 UTC: sales ops decides in Q1" in out

    code, out = run("--config", config, "defects", "accept", str(competitor), "--portal", "demo",
                    "--by", "Rita", "--note", "dropped on purpose")  # fmt: skip
    assert code == 0 and "accepted into proposed baseline v2" in out
    code, out = run("--config", config, "baseline", "release", "--portal", "demo",
                    "--from-crs", "CR-1", "--by", "Rita")  # fmt: skip
    assert code == 0 and "baseline v2 of demo proposed with CR-1" in out
    code, out = run("--config", config, "baseline", "diff", "1", "2", "--portal", "demo",
                    "--format", "json")  # fmt: skip
    assert {(c["key"], c["op"]) for c in json.loads(out)["changes"]} == {
        ("property:deals:competitor", "removed"),
        ("property:contacts:tiktok_handle", "added"),
    }
    code, out = run("--config", config, "baseline", "approve", "--portal", "demo",
                    "--by", "Council", "--note", "v2")  # fmt: skip
    assert code == 0 and f"defects #{competitor}: closed as accepted" in out
    assert "change requests CR-1: released" in out
    code, out = run("--config", config, "baseline", "show", "--portal", "demo")
    assert "baseline v2 of demo: approved" in out and f"accepts defects #{competitor}" in out

    code, out = run("--config", config, "log", "--portal", "demo", "--json")
    assert [e["action"] for e in json.loads(out)] == [
        "baseline.proposed",
        "baseline.approved",
        "cr.created",
        "cr.approved",
        "defects.waived",
        "baseline.proposed",
        "defects.accepted",
        "crs.released",
        "baseline.approved",
    ]
    code, out = run("--config", config, "log", "--portal", "demo")
    assert "Council" in out and "crs.released" in out


def test_export_import_export_gives_the_same_files_and_a_broken_file_writes_nothing(
    config_path: Path,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    run("--config", config, "db", "upgrade")
    run("--config", config, "snapshot", "--portal", "demo")
    run("--config", config, "baseline", "approve", "--portal", "demo", "--from-snapshot",
        "latest", "--by", "Council", "--note", "v1")  # fmt: skip
    first, second = tmp_path / "first", tmp_path / "second"
    code, out = run("--config", config, "baseline", "export", "--portal", "demo",
                    "--out", str(first))  # fmt: skip
    assert code == 0 and "baseline v1 of demo written to" in out
    assert (first / "property" / "deals.yaml").is_file()
    code, out = run("--config", config, "baseline", "import", str(first), "--by", "Rita")
    assert code == 0 and "baseline v2 of demo proposed" in out
    code, out = run("--config", config, "baseline", "diff", "1", "2", "--portal", "demo",
                    "--format", "json")  # fmt: skip
    assert json.loads(out)["changes"] == []  # the import holds exactly what v1 holds
    run("--config", config, "baseline", "approve", "--portal", "demo", "--by", "Council",
        "--note", "same")  # fmt: skip
    code, _ = run("--config", config, "baseline", "export", "--portal", "demo", "--version",
                  "2", "--out", str(second))  # fmt: skip
    assert code == 0
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert all((first / f).read_bytes() == (second / f).read_bytes() for f in files)

    deals = first / "property" / "deals.yaml"
    deals.write_text(deals.read_text().replace("amount:", "amount:\n  - [", 1))
    code, _ = run("--config", config, "baseline", "import", str(first), "--by", "Rita")
    err = capsys.readouterr().err
    assert code == 1 and "property/deals.yaml:" in err
    code, out = run("--config", config, "baseline", "list", "--portal", "demo", "--json")
    assert [v["version"] for v in json.loads(out)] == [1, 2]  # nothing was written
    code, out = run("--config", config, "log", "--portal", "demo", "--json")
    assert [e["action"] for e in json.loads(out)] == [
        "baseline.proposed",  # approve --from-snapshot proposes and approves in one step
        "baseline.approved",
        "baseline.imported",
        "baseline.approved",
    ]


def test_ignore_rules_from_the_config_and_suggestions_for_what_drifts(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    run("--config", config, "db", "upgrade")
    run("--config", config, "snapshot", "--portal", "demo")
    run("--config", config, "baseline", "approve", "--portal", "demo", "--from-snapshot",
        "latest", "--by", "Council", "--note", "v1")  # fmt: skip
    emulator.load(portal_dirs["night2"])
    run("--config", config, "snapshot", "--portal", "demo")
    suggestions = tmp_path / "suggested.toml"
    code, out = run("--config", config, "ignore", "suggest", "--portal", "demo",
                    "--output", str(suggestions))  # fmt: skip
    assert code == 0 and "wrote suggestions" in out
    text = suggestions.read_text()
    assert "stages.qualifiedtobuy.metadata.probability" in text
    code, _ = run("--config", config, "ignore", "suggest", "--portal", "demo",
                  "--output", str(suggestions))  # fmt: skip
    assert code == 1 and "never overwrite" in capsys.readouterr().err

    rules = tmp_path / "ignore.toml"
    rules.write_text(
        '[[ignore]]\nkind = "pipeline"\nfield = "stages.*.metadata.probability"\n'
        'reason = "stage probabilities follow the sales playbook, owned by Sales Ops"\n'
    )
    config_path.write_text(
        config_path.read_text() + '\n[governance]\nignore_file = "ignore.toml"\n'
    )
    code, out = run("--config", config, "audit", "--portal", "demo", "--format", "json")
    assert code == 2
    report = json.loads(out)
    ignored = [c for c in report["changes"] if c["classification"] == "ignored"]
    assert {(c["key"], c["field"]) for c in ignored} == {
        ("pipeline:deals:default", "stages.qualifiedtobuy.metadata.probability"),
    }
    assert all(c["defect_id"] is None for c in ignored)
    assert all("stage probabilities follow the sales playbook" in c["note"] for c in ignored)

    rules.write_text('[[ignore]]\nfield = "label"\n')
    code, _ = run("--config", config, "audit", "--portal", "demo")
    err = capsys.readouterr().err
    assert code == 1 and "ignore.toml:1" in err and "reason" in err
