"""The typed config schema: the example config against it, every key documented, all of a
file's mistakes at once, and the facts config takes from the domain modules."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest
from apscheduler.triggers.cron import CronTrigger

from hubaudit.config import (
    ConfigErrors,
    NotifyConfig,
    PolicySettings,
    PortalConfig,
    ScheduleConfig,
    load_config,
    parse_config,
)
from hubaudit.config.crontab import crontab_problem
from hubaudit.config.schema import (
    ARRAYS,
    NOTIFY_CHANNEL_KEYS,
    NOTIFY_COMMON_KEYS,
    POLICY_COMMON_KEYS,
    TABLE_CLASSES,
    file_keys,
)
from hubaudit.errors import ConfigError
from hubaudit.model.changes import Severity
from hubaudit.model.items import Kind
from hubaudit.policies.builtin import POLICIES_BY_ID
from hubaudit.policies.catalog import POLICY_OPTIONS

EXAMPLE = Path(__file__).resolve().parents[1] / "config.example.toml"
_HEADER = re.compile(r"^#?\s*\[\[?\s*([A-Za-z0-9_.\"-]+)\s*\]\]?\s*(#.*)?$")
_KEY_LINE = re.compile(r"^#?\s*([a-z0-9_]+)\s*=\s*\S")
_MENTION = re.compile(r"\b([a-z0-9_]+) = ")


def example_keys() -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """Per top-level table of the example: the keys written as key lines (set or commented
    out), and every key mentioned as ``key = …`` anywhere in the table's lines."""
    written: dict[str, set[str]] = defaultdict(set)
    mentioned: dict[str, set[str]] = defaultdict(set)
    table = ""
    for line in EXAMPLE.read_text(encoding="utf-8").splitlines():
        header = _HEADER.match(line)
        if header:
            table = header.group(1).replace('"', "").split(".")[0]
            continue
        key_line = _KEY_LINE.match(line)
        if key_line:
            written[table].add(key_line.group(1))
        if table:
            mentioned[table].update(_MENTION.findall(line))
    return written, mentioned


def test_the_example_validates_against_the_schema() -> None:
    config = load_config(EXAMPLE, environ={})
    prod = config.portal("acme-prod")
    assert (prod.schedule, prod.timezone) == ("30 1 * * *", "America/New_York")
    assert config.policies["super-admins"].severity is Severity.HIGH
    assert [rule.kind for rule in config.severity_overrides] == [Kind.PROPERTY, Kind.TEAM]
    assert config.retention is not None and config.retention.daily_days == 30


def test_every_schema_key_is_documented_in_the_example_and_every_example_key_exists() -> None:
    written, mentioned = example_keys()
    schema = {name: set(file_keys(cls)) for name, cls in TABLE_CLASSES.items()}
    schema["policies"] = set(POLICY_COMMON_KEYS).union(*POLICY_OPTIONS.values())
    schema["notify"] = set(NOTIFY_COMMON_KEYS).union(*NOTIFY_CHANNEL_KEYS.values())
    assert set(written) - {""} <= set(schema), "a table in the example the schema lacks"
    for table, keys in schema.items():
        assert sorted(keys - mentioned[table]) == [], f"[{table}] keys not in the example"
        assert sorted(written[table] - keys) == [], f"[{table}] example keys not in the schema"
    assert written[""] == set(), "no key outside a table"


def test_a_file_with_three_mistakes_reports_all_three_with_their_lines(tmp_path: Path) -> None:
    path = tmp_path / "hubaudit.toml"
    path.write_text(
        "[schedule]\n"
        'cron = "0 25 * * *"\n'  # 2: no hour 25
        "\n"
        "[[portals]]\n"
        'name = "acme"\n'
        'token_env = "ACME_TOKEN"\n'
        "concurrency = 0\n"  # 7: below 1
        "\n"
        "[[severity]]\n"
        'severity = "urgent"\n',  # 10: not a severity
        encoding="utf-8",
    )
    with pytest.raises(ConfigErrors) as caught:
        load_config(path, environ={})
    error = caught.value
    assert [(p.line, p.key) for p in error.problems] == [
        (2, "schedule.cron"),
        (7, "portals[0].concurrency"),
        (10, "severity[0].severity"),
    ]
    lines = str(error).splitlines()
    assert lines == [str(p) for p in error.problems]
    assert lines[0].startswith(f"{path}:2: [schedule.cron] not a crontab line")
    assert lines[1] == f"{path}:7: [portals[0].concurrency] must be a whole number from 1 to 32"
    assert lines[2] == (
        f"{path}:10: [severity[0].severity] must be one of critical, high, medium, low, info"
    )
    assert (error.file, error.line, error.key) == (str(path), 2, "schedule.cron")


def test_mistakes_across_tables_and_rules_are_all_found() -> None:
    text = (
        '[[portals]]\nname = "a"\n'  # 1-2: no token source
        '[[portals]]\nname = "a"\ntoken_env = "T"\nbase_url = "ftp://x"\n'  # 3-6
        '[[signoff]]\narea = "dedupe-rules"\nby = "Ada"\non = 2026-10-01\nportal = "b"\n'
        '[[notify]]\nchannel = "slack"\nsmtp_host = "x"\n'  # 12-14
        "[policies.super-admins]\nstages = {}\n"  # 15-16
    )
    with pytest.raises(ConfigErrors) as caught:
        parse_config(text, environ={})
    assert [(p.line, p.key) for p in caught.value.problems] == [
        (1, "portals[0].token_env"),
        (4, "portals[1].name"),
        (6, "portals[1].base_url"),
        (11, "signoff[0].portal"),
        (12, "notify[0].url_env"),
        (14, "notify[0].smtp_host"),
        (16, "policies.super-admins.stages"),
    ]
    text = str(caught.value)
    assert "duplicate portal name 'a'" in text
    assert "unknown key for a slack target; known keys: channel, findings, name" in text


def test_a_secret_written_into_the_config_is_never_repeated() -> None:
    text = '[[portals]]\nname = "p"\ntoken = "pat-na1-0000"\nclient_secret = "cs-1111"\n'
    with pytest.raises(ConfigError) as caught:
        parse_config(text, environ={})
    assert "tokens never live in the config" in str(caught.value)
    assert "pat-na1" not in str(caught.value) and "cs-1111" not in str(caught.value)
    assert "pat-na1" not in repr(caught.value)


def test_defaults_are_the_schema_s_whether_built_by_hand_or_read() -> None:
    read = parse_config('[[portals]]\nname = "p"\ntoken_env = "T"\n', environ={}).portals[0]
    assert read == PortalConfig(name="p", token_env="T")
    target = parse_config(
        '[[notify]]\nchannel = "email"\nsmtp_host = "h"\nfrom = "a@b"\nto = ["c@d"]\n',
        environ={},
    ).notify[0]
    assert (target.name, target.smtp_port, target.retries) == ("email-1", 587, 3)
    assert (target.sender, target.recipients) == ("a@b", ("c@d",))
    assert NotifyConfig("n", "email").smtp_port == target.smtp_port
    assert ScheduleConfig().parallel_portals == 4


def test_hand_built_values_are_checked_and_typed() -> None:
    assert PolicySettings("super-admins", severity="high").severity is Severity.HIGH
    with pytest.raises(ValueError, match="must be a whole number from 1 to 32"):
        PortalConfig(name="p", token_env="T", concurrency=0)


def test_the_catalog_names_every_built_in_policy() -> None:
    assert set(POLICY_OPTIONS) == set(POLICIES_BY_ID)


def test_every_top_level_table_has_a_reader() -> None:
    assert set(TABLE_CLASSES) >= ARRAYS


SCHEDULER_ACCEPTS = (
    "0 2 * * *",
    "*/15 * * * *",
    "0 9-17/2 * * mon-fri",
    "30 1 1,15 * *",
    "0 0 last * *",
    "0 3 * jan-mar sun",
    "5 4 * * 0-6",
)
SCHEDULER_REFUSES = (
    "0 2 * * * *",
    "0 2 * *",
    "0 24 * * *",
    "0 2 * 13 *",
    "0 2 * * 7",
    "*/0 * * * *",
    "5-1 * * * *",
    "0 2 * foo *",
    "every night",
    "1/100 * * * *",
)


@pytest.mark.parametrize("line", SCHEDULER_ACCEPTS + SCHEDULER_REFUSES + ("0 2 * * mon/2",))
def test_the_crontab_check_accepts_only_what_the_scheduler_runs(line: str) -> None:
    try:
        CronTrigger.from_crontab(line, timezone="UTC")
        scheduler_accepts = True
    except ValueError:
        scheduler_accepts = False
    assert scheduler_accepts == (line not in SCHEDULER_REFUSES)
    # "mon/2" the scheduler reads as "mon", dropping the step: the config refuses it instead
    assert (crontab_problem(line) is None) == (line in SCHEDULER_ACCEPTS), crontab_problem(line)


def test_reading_a_config_imports_nothing_heavy() -> None:
    heavy = ("httpx", "sqlalchemy", "alembic", "apscheduler", "hubspot")
    code = (
        "import sys, pathlib, hubaudit.config as c\n"
        f"c.load_config(pathlib.Path({str(EXAMPLE)!r}), environ={{}})\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r})))"
    )
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert found.strip() == "[]"
