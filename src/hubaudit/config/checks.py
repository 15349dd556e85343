"""The value checks the schema's fields share: each turns a wrong value into one plain sentence
(the file, line and key are added by the loader), never repeating a value that may be a secret."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, NoReturn
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, ValidationInfo
from pydantic_core import PydanticCustomError

from hubaudit.config.crontab import crontab_problem

PROBLEM = "hubaudit"
"""The error type of every check here; its message is the sentence shown."""
KEY = "hubaudit_key"
"""A check on a whole table names the key it blames in its error's context under this name."""

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OBJECT_TYPE = re.compile(r"^[A-Za-z0-9_-]+$")


def fail(message: str, key: str | None = None) -> NoReturn:
    raise PydanticCustomError(PROBLEM, message, {KEY: key} if key else None)


def checked(check: Callable[[Any], Any]) -> BeforeValidator:
    """A check that lets ``None`` through: optional fields hold it when not given."""
    return BeforeValidator(lambda value: None if value is None else check(value))


def whole(low: int, high: int) -> BeforeValidator:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            fail(f"must be a whole number from {low} to {high}")
        return value

    return checked(check)


def number(low: float, high: float) -> BeforeValidator:
    def check(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            fail(f"must be a number from {low:g} to {high:g}")
        if not low <= value <= high:
            fail(f"must be a number from {low:g} to {high:g}")
        return float(value)

    return checked(check)


def _flag(value: Any) -> bool:
    if not isinstance(value, bool):
        fail("must be true or false")
    return value


def text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        fail("must be a non-empty string")
    return value


FLAG = checked(_flag)
TEXT = checked(text)


def choice(options: type[StrEnum]) -> BeforeValidator:
    def check(value: Any) -> Any:
        if isinstance(value, options):
            return value
        if not isinstance(value, str) or value not in options._value2member_map_:
            fail(f"must be one of {', '.join(o.value for o in options)}")
        return options(value)

    return checked(check)


def one_of(options: tuple[str, ...] | list[str]) -> BeforeValidator:
    def check(value: Any) -> str:
        if value not in options:
            fail(f"must be one of {', '.join(options)}")
        return str(value)

    return checked(check)


def env_name(holds: str) -> BeforeValidator:
    """The NAME of an environment variable: ``holds`` says what must not be written instead."""

    def check(value: Any) -> str:
        if not _ENV_NAME.match(text(value)):
            fail(f"must be the name of an environment variable, not {holds} itself")
        return str(value)

    return checked(check)


def _path(value: Any, info: ValidationInfo) -> Path:
    """A path; read from a file, ``~`` is expanded and a relative one is relative to the file."""
    if isinstance(value, Path):
        return value
    found = Path(text(value)).expanduser()
    base = (info.context or {}).get("base")
    if isinstance(base, Path) and not found.is_absolute():
        return base / found
    return found


def _existing_file(value: Any, info: ValidationInfo) -> Path:
    found = _path(value, info)
    if info.context is not None and not found.is_file():
        fail(f"no such file: {found}")
    return found


PATH = BeforeValidator(lambda v, info: None if v is None else _path(v, info))
EXISTING_FILE = BeforeValidator(lambda v, info: None if v is None else _existing_file(v, info))


def url(value: Any) -> str:
    if not text(value).startswith(("https://", "http://")):
        fail("must start with https:// or http://")
    return str(value)


URL = checked(url)


def _crontab(value: Any) -> str:
    problem = crontab_problem(text(value))
    if problem:
        fail(f"not a crontab line such as '0 2 * * *' (minute hour day month weekday): {problem}")
    return str(value)


def _timezone(value: Any) -> str:
    try:
        ZoneInfo(text(value))
    except (ZoneInfoNotFoundError, ValueError):
        fail("not a time zone name such as 'Europe/Paris' or 'UTC'")
    return str(value)


CRONTAB = checked(_crontab)
TIMEZONE = checked(_timezone)


def _object_types(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list | tuple) or not all(
        isinstance(item, str) and _OBJECT_TYPE.match(item) for item in value
    ):
        fail('must be a list of object type names such as ["contacts", "deals"]')
    if len(set(value)) != len(value):
        fail("lists an object type twice")
    return tuple(value)


OBJECT_TYPES = checked(_object_types)


def _date(value: Any) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            fail("must be a date such as 2026-10-01")
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        fail("must be a date such as 2026-10-01")
    return value


DATE = checked(_date)
