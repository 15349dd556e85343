"""`hubaudit demo`: the whole story from nothing, as a new user runs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def test_the_demo_prints_a_drift_report_with_defects(tmp_path: Path) -> None:
    workdir = tmp_path / "demo"
    completed = subprocess.run(
        [sys.executable, "-m", "hubaudit", "demo", "--dir", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    out = completed.stdout
    assert "Baseline v1 approved" in out
    assert "Unplanned changes: 27 (4 critical, 10 high, 3 medium, 10 low)" in out
    assert "- property:deals:competitor" in out
    assert "+ property:contacts:tiktok_handle" in out
    assert "Defects: 18 new" in out  # one per item: the deal_source retype is one defect
    report = json.loads((workdir / "report.json").read_text())
    assert report["summary"]["defects_opened"] == 18
    assert (workdir / "hubaudit.db").is_file()

    # Run again: the same story, not an accumulation.
    again = subprocess.run(
        [sys.executable, "-m", "hubaudit", "demo", "--dir", str(workdir)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert "Defects: 18 new" in again.stdout
    listing = subprocess.run(
        [
            sys.executable,
            "-m",
            "hubaudit",
            "--config",
            str(workdir / "hubaudit.toml"),
            "defects",
            "list",
            "--portal",
            "demo",
            "--json",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert listing.returncode == 0, listing.stderr
    assert len(json.loads(listing.stdout)) == 18


def test_the_committed_demo_fixtures_match_their_generator() -> None:
    script = Path(__file__).resolve().parents[1] / "fixtures" / "build_demo.py"
    completed = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout
