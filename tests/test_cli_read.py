"""The read commands on click (report, history, show, diff, impact, kpis, policies list): their
services called directly, the CLI's conventions, and what each command imports (a read command
pays for nothing it does not use: no Alembic, scheduler, HTTP client, HubSpot SDK or templates)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hubaudit.cli.app import COMMANDS
from hubaudit.emulator import PortalEmulator
from tests.test_cli import baseline_then_drift, config_path, run  # noqa: F401

# Modules a read command must not import: the migrations machinery, the scheduler, the HTTP
# client and the HubSpot SDK (read commands never call HubSpot), the audit's orchestration and
# the emulator. Matched as a module name or its prefix before a dot.
NOT_ON_READ_PATHS = (
    "alembic",
    "apscheduler",
    "httpx",
    "hubspot",
    "hubaudit.hubspot",
    "hubaudit.services.audit_run",
    "hubaudit.emulator",
    "hubaudit.scheduler",
    "hubaudit.services.jobs",
    "hubaudit.demo",
    # logging: structlog loads on the first event, and a read command that works logs none
    "structlog",
    # changes come from a walk over canonical forms; DeepDiff is only the tests' oracle
    "deepdiff",
)
TEMPLATES = ("jinja2", "mako")
# the commands that only read query the store's Core tables through a connection: no ORM, no
# writers (the store's read side, hubaudit.store.reads)
ON_CORE = ("history", "show", "diff", "impact", "report", "defects list")
THE_ORM = ("sqlalchemy.orm", "hubaudit.store.tables", "hubaudit.store.repository")
# The four read commands of the speed goal take the config's essentials only: no pydantic, no
# schema built (the commands using other tables, diff's [[severity]] or policies' [policies],
# load the whole file).
NO_SCHEMA_FOR = ("history", "show", "defects list", "report")
SCHEMA = ("pydantic", "pydantic_core", "hubaudit.config.schema", "hubaudit.config.loader")
STORED_REPORT_NEEDS_NONE_OF = (
    "hubaudit.services.kpis",
    "hubaudit.services.timetravel",
    "hubaudit.analysis.compare",
    "hubaudit.analysis.attribution",
)

IMPORTS_OF = """
import json, sys
from hubaudit.cli import main
code = main(sys.argv[1:])
print("\\n" + json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def imported_by(*argv: str) -> tuple[int, set[str]]:
    """The modules one command imports, in a fresh interpreter."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_OF, *argv],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    last = done.stdout.strip().splitlines()[-1]
    result = json.loads(last)
    return result["code"], set(result["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == n or m.startswith(f"{n}.") for n in names))


@pytest.fixture
def drifted(config_path: Path, emulator: PortalEmulator, portal_dirs: dict[str, Path]) -> str:  # noqa: F811
    """Night 1 approved as baseline v1, night 2 audited: a stored run with its report."""
    config = str(config_path)
    baseline_then_drift(config, emulator, portal_dirs["night2"])
    assert run("--config", config, "audit", "--portal", "demo")[0] == 2
    return config


def test_read_commands_import_only_what_they_use(drifted: str) -> None:
    key = "pipeline:deals:default"
    commands = {
        "history": ["history", key],
        "show": ["show", key],
        "diff": ["diff", "baseline", "latest"],
        "impact": ["impact", "property:contacts:lifecyclestage"],
        "report": ["report"],
        "kpis": ["kpis"],
        "policies": ["policies", "list"],
    }
    # the other read commands, once they run on click (their module is registered)
    for name, argv in {
        "defects list": ["defects", "list"],
        "findings list": ["findings", "list"],
        "baseline list": ["baseline", "list"],
        "log": ["log"],
        "runs": ["runs"],
    }.items():
        if argv[0] in COMMANDS:
            commands[name] = argv
    for name, argv in commands.items():
        code, modules = imported_by("--config", drifted, *argv)
        assert code == 0, name
        assert loaded(modules, NOT_ON_READ_PATHS) == [], name
        assert loaded(modules, TEMPLATES) == [], name
        if name in ON_CORE:
            assert loaded(modules, THE_ORM) == [], name
        if name == "report":  # a stored report is read back, not worked out again
            assert loaded(modules, STORED_REPORT_NEEDS_NONE_OF) == []
        if name in NO_SCHEMA_FOR:
            assert loaded(modules, SCHEMA) == [], name
        assert "hubaudit.cli.app" in modules  # it did run through the click CLI
    # rendering HTML may load templates; still nothing of the audit or of HubSpot
    code, modules = imported_by("--config", drifted, "report", "--format", "html")
    assert code == 0
    assert loaded(modules, NOT_ON_READ_PATHS) == []
    assert loaded(modules, THE_ORM) == []
    assert loaded(modules, SCHEMA) == []
    # a command's help, and the list of commands, import no service, store or renderer
    for argv in (["--help"], ["history", "--help"], ["report", "--help"]):
        code, modules = imported_by(*argv)
        assert code == 0
        heavy = ("sqlalchemy", "hubaudit.store", "hubaudit.config", "hubaudit.model")
        renderers = ("hubaudit.report.text", "hubaudit.report.history", "hubaudit.report.html")
        services = ("hubaudit.services.history", "hubaudit.services.reports")
        assert loaded(modules, (*heavy, *renderers, *services)) == []


def test_portal_may_be_left_out_and_json_is_format_json(drifted: str) -> None:
    key = "property:deals:competitor"
    for argv in (
        ["history", key],
        ["show", key, "--baseline", "1"],
        ["diff", "baseline", "latest"],
        ["impact", "property:contacts:lifecyclestage"],
        ["report"],
        ["kpis", "--until", "2030-01-01"],  # a fixed end: "now" moves between the two runs
    ):
        named = run("--config", drifted, *argv, "--portal", "demo", "--format", "json")
        left_out = run("--config", drifted, *argv, "--json")
        assert named[0] == left_out[0] == 0, argv
        first, second = json.loads(named[1]), json.loads(left_out[1])
        if argv[0] == "report":  # the same stored report either way
            assert first["portal"] == second["portal"] == "demo"
            assert first["summary"] == second["summary"]
        else:
            assert first == second, argv
    code, _ = run("--config", drifted, "diff", "baseline", "latest", "--json", "--format", "text")
    assert code == 1


def test_the_cli_names_the_same_formats_weeks_and_points_as_the_code() -> None:
    from hubaudit.cli import history as history_cli
    from hubaudit.cli import reports as reports_cli
    from hubaudit.report import FORMATS
    from hubaudit.services.kpis import DEFAULT_WEEKS
    from hubaudit.services.timetravel import POINT_HELP

    assert reports_cli.REPORT_FORMATS == FORMATS
    assert reports_cli.KPI_WEEKS == DEFAULT_WEEKS
    assert history_cli.POINT_HELP == POINT_HELP


def test_the_services_answer_without_the_cli(drifted: str) -> None:
    from hubaudit.config import load_config
    from hubaudit.errors import UsageError
    from hubaudit.services import history, kpis, reports
    from hubaudit.services.policies import policy_summaries
    from hubaudit.store.engine import make_engine
    from hubaudit.store.repository import Store

    config = load_config(Path(drifted))
    engine = make_engine(config.database_url)
    try:
        store = Store(engine)
        found = history.history(store, "demo", "property:deals:competitor")
        assert [e.event for e in found.entries] == ["added", "removed"]
        item = history.show(store, "demo", "property:contacts:customer_tier", "baseline:1")
        assert item.point.baseline is not None and item.point.baseline.version == 1
        assert item.canonical["options"]["gold"]["label"] == "Gold"
        changes = history.diff(store, "demo", "baseline", "latest", config.severity_overrides)
        assert len(changes.changes) == 27
        assert {c.key for c in changes.changes} >= {"property:deals:competitor"}
        impact = history.impact(store, "demo", "property:contacts:lifecyclestage", depth=1)
        assert impact.in_snapshot and impact.label == "Lifecycle Stage"
        assert impact.workflows == 3 and all(level == 0 for level, _ in impact.tree)
        with pytest.raises(UsageError):
            history.impact(store, "demo", "property:contacts:lifecyclestage", depth=9)
        with pytest.raises(UsageError, match="no stored version"):
            history.history(store, "demo", "property:deals:nothing_here")

        result = reports.run_report(store, "demo")
        assert result.portal == "demo" and len(result.changes) == 27
        found = kpis.portal_kpis(store, "demo", None, datetime.now(UTC))
        assert found.kpis.unplanned == 27 and found.point is not None
        with pytest.raises(UsageError, match="starts"):
            kpis.portal_kpis(store, "demo", datetime(2099, 1, 1, tzinfo=UTC), datetime.now(UTC))
    finally:
        engine.dispose()
    summaries = policy_summaries(config.policies)
    assert len(summaries) == 12 and all(s.enabled for s in summaries)
    assert {s.id: s.severity.value for s in summaries}["super-admins"] == "high"


def test_policies_list_into_a_closed_pipe_ends_quietly(drifted: str) -> None:
    done = subprocess.run(
        f'"{sys.executable}" -m hubaudit --config "{drifted}" policies list | head -1',
        shell=True,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.stdout.startswith("on ") and len(done.stdout.splitlines()) == 1
    assert "Traceback" not in done.stderr and "BrokenPipe" not in done.stderr
