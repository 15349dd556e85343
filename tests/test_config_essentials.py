"""The config's essentials (database, portal names, logging), read by the read commands without
the schema: the same checks and errors as the whole config, every mistake of the file still
listed, and the tables a read command skips still checked by the commands that use them."""

from __future__ import annotations

from pathlib import Path

import pytest

from hubaudit.config import ConfigErrors, parse_config
from hubaudit.config.essentials import (
    DATABASE_URL_ENV,
    TABLE_KEYS,
    TABLES,
    Essentials,
    LogFormat,
    LogLevel,
    parse_essentials,
)
from hubaudit.config.schema import TABLE_CLASSES, file_keys
from hubaudit.emulator import PortalEmulator
from hubaudit.errors import ConfigError
from tests.test_cli import baseline_then_drift, config_path, run  # noqa: F401

PORTAL = '[[portals]]\nname = "a"\ntoken_env = "T"\n'
MISTAKES = {
    "database not a table": "database = 3\n" + PORTAL,
    "unknown database key": '[database]\nulr = "sqlite:///x.db"\n' + PORTAL,
    "database url not text": "[database]\nurl = 3\n" + PORTAL,
    "logging, three at once": '[logging]\nformat = "xml"\nlevel = 3\nfoo = 1\n' + PORTAL,
    "portals not an array": "portals = 3\n",
    "portals a single table": '[portals]\nname = "a"\n',
    "portal without a name": '[[portals]]\ntoken_env = "T"\n',
    "portal name with a space": '[[portals]]\nname = "a b"\ntoken_env = "T"\n',
    "portal name not text": '[[portals]]\nname = 3\ntoken_env = "T"\n',
    "portal named twice": PORTAL + PORTAL,
    "unknown table": '[databse]\nurl = "sqlite:///x.db"\n' + PORTAL,
    "not TOML": "[database\n",
}


def error_of(read: object, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        read(text, path=Path("/etc/hubaudit.toml"))  # type: ignore[operator]
    return str(caught.value)


@pytest.mark.parametrize("mistake", sorted(MISTAKES))
def test_the_essentials_find_each_mistake_as_the_whole_config_says_it(mistake: str) -> None:
    text = MISTAKES[mistake]
    said = error_of(parse_essentials, text)
    assert said == error_of(parse_config, text)
    assert said.startswith("/etc/hubaudit.toml:")  # file and line, then the key


def test_the_essentials_are_the_whole_configs() -> None:
    text = (
        '[database]\nurl = "sqlite:///data/h.db"\n[logging]\nformat = "json"\nlevel = "debug"\n'
        + PORTAL
        + '[[portals]]\nname = "b"\ntoken_env = "T"\n'
        + '[[notify]]\nchannel = "slack"\nurl_env = "SLACK_URL"\n'
    )
    path = Path("/srv/audit/hubaudit.toml")
    found = parse_essentials(text, path=path, environ={})
    assert found == Essentials(
        database_url="sqlite:////srv/audit/data/h.db",
        portal_names=("a", "b"),
        log_format=LogFormat.JSON,
        log_level=LogLevel.DEBUG,
        path=path,
    )
    assert found == parse_config(text, path=path, environ={}).essentials()
    moved = {DATABASE_URL_ENV: "postgresql://db/hubaudit"}
    assert parse_essentials(text, path=path, environ=moved).database_url == moved[DATABASE_URL_ENV]
    assert parse_essentials("", environ={}) == parse_config("", environ={}).essentials()


def test_the_essentials_know_the_tables_and_keys_the_schema_knows() -> None:
    assert frozenset(TABLE_CLASSES) == TABLES
    for table, keys in TABLE_KEYS.items():
        assert file_keys(TABLE_CLASSES[table]) == keys


def test_a_mistake_in_a_skipped_table_is_not_the_essentials_but_is_the_config() -> None:
    text = PORTAL + '[[notify]]\nchannel = "pager"\n'
    assert parse_essentials(text).portal_names == ("a",)
    assert "[notify[0].channel] must be one of slack, webhook, email" in error_of(
        parse_config, text
    )


@pytest.fixture
def stored(
    config_path: Path,  # noqa: F811
    emulator: PortalEmulator,
    portal_dirs: dict[str, Path],
) -> Path:
    """A config whose database holds baseline v1 of the demo portal."""
    baseline_then_drift(str(config_path), emulator, portal_dirs["night2"])
    return config_path


def with_lines(config: Path, *lines: str) -> str:
    config.write_text(config.read_text(encoding="utf-8") + "\n".join(lines) + "\n", "utf-8")
    return str(config)


def test_a_read_command_names_file_line_and_key_of_a_mistake_in_what_it_uses(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(stored)
    assert run("--config", config, "history", "pipeline:deals:default")[0] == 0
    capsys.readouterr()
    text = stored.read_text(encoding="utf-8")
    stored.write_text(text.replace('level = "warning"', 'level = "loud"'), "utf-8")
    line = text.splitlines().index('level = "warning"') + 1
    for argv in (["history", "pipeline:deals:default"], ["defects", "list"], ["report"]):
        assert run("--config", config, *argv)[0] == 1, argv
        err = capsys.readouterr().err
        assert f"{config}:{line}: [logging.level] must be one of debug, info" in err, argv
        assert "Traceback" not in err
    # with a mistake in a table it skips too, every mistake of the file is listed
    with_lines(stored, "[[notify]]", 'channel = "pager"')
    assert run("--config", config, "history", "pipeline:deals:default")[0] == 1
    err = capsys.readouterr().err
    assert "[logging.level] must be one of" in err
    assert "[notify[0].channel] must be one of slack, webhook, email" in err


def test_a_table_read_commands_skip_is_still_checked_by_every_other_command(
    stored: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = str(stored)
    assert run("--config", config, "config", "check") == (0, f"{config}: valid (1 portal: demo)\n")
    with_lines(stored, "[[notify]]", 'channel = "pager"', "[schedule]", 'cron = "at two"')
    for argv in (["history", "pipeline:deals:default"], ["defects", "list"], ["log"]):
        assert run("--config", config, *argv)[0] == 0, argv
    capsys.readouterr()
    # every command but those that only read what is stored checks the whole file
    for argv in (["config", "check"], ["audit"], ["schedule", "list"], ["db", "upgrade"]):
        assert run("--config", config, *argv)[0] == 1, argv
        err = capsys.readouterr().err
        assert "[notify[0].channel] must be one of slack, webhook, email" in err, argv
        assert "[schedule.cron] not a crontab line" in err, argv


def test_several_mistakes_are_one_error_listing_them_all() -> None:
    with pytest.raises(ConfigErrors) as caught:
        parse_essentials(MISTAKES["logging, three at once"])
    assert [error.key for error in caught.value.problems] == [
        "logging.format",
        "logging.level",
        "logging.foo",
    ]
