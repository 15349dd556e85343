"""impact, findings and policies end to end: real config, database, emulator and the demo."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hubaudit.emulator import PortalEmulator

from .test_cli import (  # noqa: F401 - the fixture is used by name
    baseline_then_drift,
    config_path,
    run,
)

LIFECYCLE_READERS = {"workflow:1201002", "workflow:1201024", "workflow:1201025"}


def test_the_demo_report_shows_who_depends_on_a_drifted_property_and_impact_lists_them(
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "demo"
    demo = subprocess.run(
        [sys.executable, "-m", "hubaudit", "demo", "--dir", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    text = demo.stdout
    block = text[text.index("~ property:contacts:lifecyclestage") :]
    block = block[: block.index("\n\n")]
    assert "~ description:" in block
    assert "3 depend on it:" in block
    assert (
        '← workflow:1201002 "MQL to SQL handover" writes (action 1 = salesqualifiedlead)' in block
    )
    assert '← workflow:1201024 "Advocate programme invite" reads' in block
    assert "Policy findings:" in text and "super-admins" in text

    report = json.loads((workdir / "report.json").read_text())
    (change,) = [c for c in report["changes"] if c["key"] == "property:contacts:lifecyclestage"]
    assert {d["source"] for d in change["dependents"]} == LIFECYCLE_READERS
    assert {d["relation"] for d in change["dependents"]} == {"reads", "writes"}
    new = {f["policy"] for f in report["findings"] if f["new"]}
    assert new == {"super-admins", "property-description"}  # sam made super admin; tiktok

    config = str(workdir / "hubaudit.toml")
    impact = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubaudit",
            "--config",
            config,
            "impact",
            "property:contacts:lifecyclestage",
            "--portal",
            "demo",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert impact.returncode == 0, impact.stderr
    lines = impact.stdout.splitlines()
    assert "3 direct dependents, 3 workflows" in lines[0]
    assert {line.split()[1] for line in lines[1:]} == LIFECYCLE_READERS


def test_impact_findings_and_policies_from_the_command_line(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    assert run("--config", config, "db", "upgrade")[0] == 0
    code, out = run("--config", config, "snapshot", "--portal", "demo")
    assert code == 0
    assert "policy findings: 8 (8 new)" in out

    code, out = run(
        "--config", config, "impact", "pipeline:deals:default", "--portal", "demo", "--json"
    )
    document = json.loads(out)
    assert document["in_snapshot"] is True
    details = {d["detail"] for d in document["dependents"]}
    assert "sets stage closedwon (Closed Won) in action 1" in details
    assert "tests stage closedlost (Closed Lost) in enrollment criteria" in details

    # a group: its properties, and under each the workflows reading them
    code, out = run(
        "--config", config, "impact", "property_group:contacts:customer_success", "--portal", "demo"
    )
    assert "  ← property:contacts:customer_tier" in out
    assert '    ← workflow:1201025 "Customer onboarding kickoff" reads' in out

    code, out = run("--config", config, "impact", "property:contacts:nothing", "--portal", "demo")
    assert code == 1  # held by no snapshot or baseline: a typo, not "safe to delete"
    assert "unknown key 'property:contacts:nothing'" in capsys.readouterr().err
    code, _ = run("--config", config, "impact", "lifecyclestage", "--portal", "demo")
    assert code == 1
    assert "is not an item key" in capsys.readouterr().err

    code, out = run("--config", config, "findings", "list", "--portal", "demo", "--json")
    findings = json.loads(out)
    by_policy = {f["policy"]: f for f in findings}
    assert set(by_policy) == {
        "property-duplicates",
        "property-naming",
        "workflow-off",
        "workflow-conflicting-setters",
    }
    duplicate = by_policy["property-duplicates"]
    code, out = run(
        "--config",
        config,
        "findings",
        "waive",
        str(duplicate["id"]),
        "--portal",
        "demo",
        "--reason",
        "the import field goes in Q1",
        "--until",
        "2099-03-31",
        "--by",
        "Rita",
    )
    assert code == 0 and "waived until 2099-03-31" in out
    code, out = run(
        "--config", config, "findings", "show", str(duplicate["id"]), "--portal", "demo"
    )
    assert "waived by Rita until 2099-03-31" in out
    code, out = run(
        "--config", config, "findings", "list", "--portal", "demo", "--status", "waived"
    )
    assert out.count("finding #") == 1 and "waived" in out
    code, _ = run(
        "--config",
        config,
        "findings",
        "waive",
        str(duplicate["id"]),
        "--portal",
        "demo",
        "--reason",
        "",
        "--until",
        "2099-03-31",
        "--by",
        "Rita",
    )
    assert code == 1
    assert "needs a reason" in capsys.readouterr().err

    code, out = run("--config", config, "policies", "list", "--json")
    rows = {r["id"]: r for r in json.loads(out)}
    assert len(rows) == 12 and all(r["enabled"] for r in rows.values())
    assert rows["super-admins"]["severity"] == "high"


def test_policy_and_signoff_settings_reach_the_report(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> None:
    with config_path.open("a", encoding="utf-8") as handle:
        handle.write(
            "\n[policies.workflow-off]\nenabled = false\n"
            '\n[policies.super-admins]\nmax = 5\nseverity = "critical"\n'
            "\n[impact]\nraise_at = [3]\n"
            '\n[[signoff]]\narea = "dedupe-rules"\nby = "Rita"\non = 2026-11-15\n'
            '\n[[signoff]]\narea = "lead-scoring"\nby = "Rita"\non = 2020-01-01\nevery_days = 30\n'
        )
    config = str(config_path)
    baseline_then_drift(config, emulator, portal_dirs["night2"])
    code, out = run("--config", config, "audit", "--portal", "demo", "--format", "json")
    assert code == 2
    document = json.loads(out)
    assert not {f["policy"] for f in document["findings"]} & {"workflow-off", "super-admins"}
    surface = {a["id"]: a for a in document["surface"]}
    assert surface["dedupe-rules"]["status"] == "signed off"
    assert surface["dedupe-rules"]["signed_off_by"] == "Rita"
    assert surface["lead-scoring"]["status"] == "overdue"
    assert surface["field-permissions"]["status"] == "never signed off"
    assert surface["workflow"]["status"] == "read"
    (lifecycle,) = [
        c for c in document["changes"] if c["key"] == "property:contacts:lifecyclestage"
    ]
    assert (lifecycle["severity"], lifecycle["severity_raised_by"]) == ("medium", 1)  # low + 1
