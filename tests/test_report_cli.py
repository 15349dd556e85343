"""`report` and `kpis` end to end: a run's stored report in every format, any time later."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from hubaudit.emulator import PortalEmulator

from .test_cli import (  # noqa: F401 - the fixture is used by name
    approve,
    baseline_then_drift,
    config_path,
    run,
)


def drifted(config: str, emulator: PortalEmulator, night2: Path) -> None:
    baseline_then_drift(config, emulator, night2)
    assert run("--config", config, "audit", "--portal", "demo", "--format", "md")[0] == 2


def test_report_renders_a_stored_run_in_every_format(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = str(config_path)
    code, _ = run("--config", config, "report", "--portal", "demo")
    assert code == 1  # the database is not even created yet
    drifted(config, emulator, portal_dirs["night2"])

    code, out = run("--config", config, "report", "--portal", "demo", "--format", "json")
    document = json.loads(out)
    assert document["run_id"] == 1 and document["summary"]["unplanned"] == 27
    assert document["hub"] == {
        "portal_id": 48151623,
        "ui_domain": "app-eu1.hubspot.com",
        "object_type_ids": {
            "p48151623_implementation_project": "2-3508483",
            "p48151623_subscription": "2-3508482",
        },
    }
    assert document["kpis"]["unplanned"] == 27
    code, html = run(
        "--config", config, "report", "--portal", "demo", "--run", "1", "--format", "html"
    )
    assert code == 0 and "<h1>Drift report: portal demo</h1>" in html
    assert (
        'href="https://app-eu1.hubspot.com/property-settings/48151623/properties?type=0-1&amp;'
        'action=edit&amp;property=lifecyclestage"' in html
    )
    assert (
        'href="https://app-eu1.hubspot.com/workflows/48151623/platform/flow/1201001/edit"' in html
    )
    code, text = run("--config", config, "report", "--portal", "demo")
    assert "Unplanned changes: 27" in text and "\x1b[" not in text  # not a terminal: no colour
    code, out = run("--config", config, "report", "--portal", "demo", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 27 and {r["classification"] for r in rows} == {"defect"}
    code, out = run("--config", config, "report", "--portal", "demo", "--format", "sarif")
    assert len(json.loads(out)["runs"][0]["results"]) == 18 + 10  # defects (one per item), findings
    target = tmp_path / "out" / "r.md"
    code, _ = run(
        "--config", config, "report", "--portal", "demo", "--format", "md", "--output", str(target)
    )
    assert code == 1  # no such folder: a clear error, no traceback
    assert "cannot write" in capsys.readouterr().err
    target.parent.mkdir()
    code, _ = run(
        "--config", config, "report", "--portal", "demo", "--format", "md", "--output", str(target)
    )
    assert code == 0 and target.read_text().startswith("# hubaudit drift report: portal demo")

    code, _ = run("--config", config, "report", "--portal", "demo", "--run", "99")
    assert code == 1
    assert "has no run 99" in capsys.readouterr().err

    code, out = run("--config", config, "kpis", "--portal", "demo", "--json")
    kpis = json.loads(out)
    assert kpis["unplanned"] == 27 and kpis["planned"] == 0
    assert kpis["open_by_age"]["0-7 days"] == 18  # open defects: one per item
    assert kpis["top_changers"][0] == {"who": "it.admin@northwind.example", "changes": 17}
    assert kpis["custom_properties"] == 34 and kpis["documented"] == 33
    code, out = run("--config", config, "kpis", "--portal", "demo", "--since", "2099-01-01")
    assert code == 1


def test_a_failed_run_has_no_report_and_says_why(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = str(config_path)
    run("--config", config, "db", "upgrade")
    run("--config", config, "snapshot", "--portal", "demo")
    approve(config, "latest", "Ada")
    monkeypatch.setenv("HUBAUDIT_TEST_TOKEN", "pat-wrong-token")  # HubSpot refuses it: 401
    assert run("--config", config, "audit", "--portal", "demo")[0] == 1
    capsys.readouterr()
    code, _ = run("--config", config, "report", "--portal", "demo", "--run", "1")
    assert code == 1
    assert "run 1 has no report: it did not succeed (status failed)" in capsys.readouterr().err
