"""What every command needs from ``hubaudit.toml`` before it works — the database, the portals'
names and logging — read quickly: without pydantic and without building the schema, with the
same checks (:mod:`.checks`) and the same ``file:line: [key]`` errors, all of them, as the
whole config (:mod:`.loader`).

The commands that only read what is stored (``history``, ``show``, ``defects list``,
``report``…) read only this, so a mistake in a table they do not use (``[[notify]]``,
``[policies]``…) does not stop them; every other command (``audit``, ``schedule``,
``config check``, ``db upgrade``…) loads the whole file and checks every table. A test
holds this module's errors equal to the whole config's.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from hubaudit.config import checks
from hubaudit.config.toml import Problem, TomlReader, read_toml_text, unknown_key
from hubaudit.errors import UsageError

CONFIG_ENV = "HUBAUDIT_CONFIG"
DATABASE_URL_ENV = "HUBAUDIT_DATABASE_URL"
DEFAULT_CONFIG_NAME = "hubaudit.toml"
DEFAULT_DATABASE_URL = "sqlite:///hubaudit.db"

TABLES = frozenset(
    {
        "database",
        "portals",
        "logging",
        "severity",
        "retention",
        "schedule",
        "governance",
        "policies",
        "impact",
        "signoff",
        "reports",
        "notify",
        "audit",
        "web",
    }
)
"""The file's top-level tables (the schema's ``TABLE_CLASSES``; a test keeps the two equal)."""
TABLE_KEYS: Mapping[str, frozenset[str]] = {
    "database": frozenset({"url"}),
    "logging": frozenset({"format", "level"}),
}
"""The keys of the two tables read here whole (the schema's classes; a test keeps them equal)."""


class LogFormat(StrEnum):
    CONSOLE = "console"
    JSON = "json"


class LogLevel(StrEnum):
    DEBUG = "debug"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Essentials:
    """The database, the portals' names and logging: all a read command takes from the config."""

    database_url: str
    portal_names: tuple[str, ...]
    log_format: LogFormat = LogFormat.CONSOLE
    log_level: LogLevel = LogLevel.INFO
    path: Path | None = None

    def portal_name(self, name: str) -> str:
        """``name`` if the config names that portal; else an error naming the nearest ones."""
        if name in self.portal_names:
            return name
        raise UsageError(unknown_name("portal", name, self.portal_names, "config"))


def find_config_path(explicit: str | None, environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    if explicit:
        return Path(explicit)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    default = Path(DEFAULT_CONFIG_NAME)
    if default.exists():
        return default
    raise UsageError(
        f"no config file: pass --config PATH, set {CONFIG_ENV}, or create ./{DEFAULT_CONFIG_NAME} "
        "(config.example.toml shows every key)"
    )


def read_essentials(path: Path, environ: Mapping[str, str] | None = None) -> Essentials:
    return parse_essentials(read_toml_text(path, "config file"), path=path, environ=environ)


def parse_essentials(
    text: str, *, path: Path | None = None, environ: Mapping[str, str] | None = None
) -> Essentials:
    """The essentials of the config in ``text``; every mistake in the tables and keys they come
    from is reported by one error (a :class:`~hubaudit.config.toml.ConfigErrors` for several)."""
    env = os.environ if environ is None else environ
    reader = TomlReader(text, str(path) if path else "<config>")
    data = reader.loads()
    problems: list[Problem] = [
        ((), table, unknown_key(table, TABLES)) for table in data if table not in TABLES
    ]
    database = _table(data, "database", problems)
    logging = _table(data, "logging", problems)
    url = _value(database, "database", "url", checks.text, DEFAULT_DATABASE_URL, problems)
    log_format = _value(
        logging, "logging", "format", partial(checks.one_of_enum, LogFormat), None, problems
    )
    log_level = _value(
        logging, "logging", "level", partial(checks.one_of_enum, LogLevel), None, problems
    )
    names = tuple(_portal_names(data, problems))
    if problems:
        raise reader.all_of(problems)
    return Essentials(
        database_url=database_url(url, path, env),
        portal_names=names,
        log_format=log_format or LogFormat.CONSOLE,
        log_level=log_level or LogLevel.INFO,
        path=path,
    )


def database_url(url: str, config_path: Path | None, environ: Mapping[str, str]) -> str:
    """``HUBAUDIT_DATABASE_URL`` if set, else ``url`` with a relative SQLite path made relative
    to the config file, so cron and a shell agree."""
    prefix = "sqlite:///"
    if environ.get(DATABASE_URL_ENV):
        return environ[DATABASE_URL_ENV]
    if config_path is None or not url.startswith(prefix):
        return url
    rest = url[len(prefix) :]
    if not rest or rest.startswith("/") or rest.startswith(":memory:"):
        return url
    return prefix + str((config_path.parent / rest).resolve())


def _table(data: Mapping[str, Any], name: str, problems: list[Problem]) -> Mapping[str, Any]:
    """The table ``[name]`` (empty when not written), its unknown keys added to ``problems``."""
    table = data.get(name, {})
    if not isinstance(table, Mapping):
        problems.append(((), name, f"must be a table: write [{name}]"))
        return {}
    allowed = TABLE_KEYS[name]
    problems += [((name,), key, unknown_key(key, allowed)) for key in table if key not in allowed]
    return table


T = TypeVar("T")


def _value(
    table: Mapping[str, Any],
    name: str,
    key: str,
    check: Callable[[Any], T],
    default: T,
    problems: list[Problem],
) -> T:
    if key not in table:
        return default
    try:
        return check(table[key])
    except checks.Invalid as exc:
        problems.append(((name,), exc.key or key, exc.message))
        return default


def _portal_names(data: Mapping[str, Any], problems: list[Problem]) -> Iterator[str]:
    portals = data.get("portals", [])
    if not isinstance(portals, list):
        problems.append(((), "portals", "must be an array of tables: write [[portals]]"))
        return
    seen: set[str] = set()
    for index, raw in enumerate(portals):
        where = ("portals", index)
        if not isinstance(raw, Mapping):
            problems.append((where, None, "each [[portals]] entry must be a table"))
        elif "name" not in raw:
            problems.append((where, "name", "is required"))
        else:
            try:
                name = checks.portal_name(raw["name"])
            except checks.Invalid as exc:
                problems.append((where, "name", exc.message))
                continue
            if name in seen:
                problems.append((where, "name", f"duplicate portal name {name!r}"))
            seen.add(name)
            yield name


def unknown_name(what: str, name: str, known: Sequence[str], where: str) -> str:
    """``unknown portal 'dmeo': the config names acme-prod, demo (did you mean 'demo'?)``."""
    listed = ", ".join(sorted(known)[:_LISTED]) + (" …" if len(known) > _LISTED else "")
    names = f"names {listed}" if known else f"names no {what}s"
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.6)
    guess = " or ".join(repr(c) for c in close)
    return f"unknown {what} {name!r}: the {where} {names}" + (
        f" (did you mean {guess}?)" if close else ""
    )


_LISTED = 20
