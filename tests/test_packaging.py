"""The wheel carries the migrations and the demo portal, so an installed hubaudit is whole."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_ships_migrations_fixtures_and_schema(tmp_path: Path) -> None:
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(tmp_path / "dist"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("hubaudit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        archive.extractall(tmp_path / "site")
    for expected in (
        "hubaudit/migrations/env.py",
        "hubaudit/migrations/script.py.mako",
        "hubaudit/migrations/versions/0001_initial_schema.py",
        "hubaudit/fixtures/demo/night1/properties/contacts.json",
        "hubaudit/fixtures/demo/night2/pipelines/deals.json",
        "hubaudit/report/report-v1.schema.json",
        "hubaudit/store/payloads-1.zdict",  # every stored payload needs it to be read back
        "hubaudit/report/templates/report.html.j2",
        "hubaudit/report/templates/report.md.j2",
        "hubaudit/report/templates/changes.md.j2",
        "hubaudit/report/templates/chart.svg.j2",
        "hubaudit/report/templates/digest.html.j2",
        "hubaudit/report/templates/promotion.html.j2",
        "hubaudit/web/templates/base.html",
        "hubaudit/web/templates/baseline.html",
        "hubaudit/web/static/app.css",
        "hubaudit/migrations/versions/0012_web_users.py",
    ):
        assert expected in names

    # Installed from the wheel alone (no source tree beside it), migrations and demo still work.
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    demo = subprocess.run(
        [sys.executable, "-m", "hubaudit", "demo", "--dir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert demo.returncode == 0, demo.stderr
    assert str(tmp_path / "site" / "hubaudit" / "fixtures" / "demo") in demo.stdout
    assert "Defects: 18 new" in demo.stdout  # one per item

    # The HTML and Markdown reports render from the templates inside the wheel.
    reports = subprocess.run(
        [
            sys.executable,
            "-c",
            "import hubaudit, sys\n"
            "from hubaudit.report import render\n"
            "from tests.report_fixture import rich_result\n"
            "print(hubaudit.__file__)\n"
            "print(render(rich_result(), 'html').count('</table>'))\n"
            "print(render(rich_result(), 'md').count('## '))\n"
            "from hubaudit.report.templating import html_environment\n"
            "print(html_environment().get_template('promotion.html.j2').filename)\n",
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={**env, "PYTHONPATH": os.pathsep.join([str(tmp_path / "site"), str(REPO)])},
        timeout=120,
    )
    assert reports.returncode == 0, reports.stderr
    where, tables, headings, promotion = reports.stdout.split()
    assert where.startswith(str(tmp_path / "site"))
    assert promotion.startswith(str(tmp_path / "site"))
    assert int(tables) > 0 and int(headings) > 0


def test_the_dockerfile_copies_what_exists_and_runs_the_scheduler_as_non_root() -> None:
    """No Docker daemon here: check what the image is made of against the repository."""
    lines = [
        line.strip()
        for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    copied = [
        part
        for line in lines
        if line.startswith("COPY ") and "--from=" not in line
        for part in line.split()[1:-1]
    ]
    assert copied and all((REPO / part).exists() for part in copied), copied
    users = [line.split()[1] for line in lines if line.startswith("USER ")]
    assert users and users[-1] not in ("root", "0")
    assert 'ENTRYPOINT ["hubaudit", "--log-format", "json"]' in lines
    assert 'CMD ["schedule", "run"]' in lines
    assert any('CMD ["hubaudit", "health"]' in line for line in lines)
    assert "HUBAUDIT_CONFIG=/config/hubaudit.toml" in " ".join(lines)
