"""The value checks the schema's fields share: each turns a wrong value into one plain sentence
(the file, line and key are added by the loader), never repeating a value that may be a secret.

Nothing here imports pydantic: a check raises :class:`Invalid`, and :class:`Check`, the marker a
field's ``Annotated`` type carries, hands it to pydantic (as a ``PydanticCustomError``) only when
a schema is built. So the checks serve the read commands' quick reading of the config
(:mod:`hubaudit.config.essentials`), which never pays for pydantic, as well as the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hubaudit.config.crontab import crontab_problem

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

PROBLEM = "hubaudit"
"""The error type of every check here; its message is the sentence shown."""
KEY = "hubaudit_key"
"""A check on a whole table names the key it blames in its error's context under this name."""

E = TypeVar("E", bound=StrEnum)

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_OBJECT_TYPE = re.compile(r"^[A-Za-z0-9_-]+$")
_PORTAL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


TABLE_SETTINGS: dict[str, Any] = {
    "extra": "forbid",
    "validate_by_name": True,
    "validate_by_alias": True,
}
"""pydantic's settings for every table of the config: unknown keys are mistakes."""


class Invalid(ValueError):
    """A value a check refuses: ``message`` is the sentence shown, ``key`` the key a check on a
    whole table blames (``None``: the key checked)."""

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key


def fail(message: str, key: str | None = None) -> NoReturn:
    raise Invalid(message, key)


class _Info(Protocol):
    @property
    def context(self) -> Any: ...


class Check:
    """A field's check, run on the raw value before pydantic's own type check (what pydantic's
    ``BeforeValidator`` does), its :class:`Invalid` turned into pydantic's error of type
    :data:`PROBLEM`. ``with_info``: the check also takes pydantic's validation info (its
    ``context`` holds the config file's folder)."""

    __slots__ = ("check", "with_info")

    def __init__(self, check: Callable[..., Any], *, with_info: bool = False) -> None:
        self.check = check
        self.with_info = with_info

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import PydanticCustomError, core_schema

        check = self.check

        def problem(exc: Invalid) -> PydanticCustomError:
            return PydanticCustomError(PROBLEM, exc.message, {KEY: exc.key} if exc.key else None)

        if self.with_info:

            def run_with_info(value: Any, info: _Info) -> Any:
                try:
                    return check(value, info)
                except Invalid as exc:
                    raise problem(exc) from None

            return core_schema.with_info_before_validator_function(run_with_info, handler(source))

        def run(value: Any) -> Any:
            try:
                return check(value)
            except Invalid as exc:
                raise problem(exc) from None

        return core_schema.no_info_before_validator_function(run, handler(source))


def checked(check: Callable[[Any], Any]) -> Check:
    """A check that lets ``None`` through: optional fields hold it when not given."""
    return Check(lambda value: None if value is None else check(value))


def whole(low: int, high: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            fail(f"must be a whole number from {low} to {high}")
        return value

    return checked(check)


def number(low: float, high: float) -> Check:
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


def portal_name(value: Any) -> str:
    if not _PORTAL_NAME.match(text(value)):
        fail("must be letters, digits, '.', '_' or '-' (at most 63 characters)")
    return str(value)


FLAG = checked(_flag)
TEXT = checked(text)


def one_of_enum(options: type[E], value: Any) -> E:
    """``value`` as a member of ``options`` (given as the member or its value)."""
    if isinstance(value, options):
        return value
    if not isinstance(value, str) or value not in options._value2member_map_:
        fail(f"must be one of {', '.join(o.value for o in options)}")
    return options(value)


def choice(options: type[StrEnum]) -> Check:
    return checked(lambda value: one_of_enum(options, value))


def one_of(options: tuple[str, ...] | list[str]) -> Check:
    def check(value: Any) -> str:
        if value not in options:
            fail(f"must be one of {', '.join(options)}")
        return str(value)

    return checked(check)


def env_name(holds: str) -> Check:
    """The NAME of an environment variable: ``holds`` says what must not be written instead."""

    def check(value: Any) -> str:
        if not _ENV_NAME.match(text(value)):
            fail(f"must be the name of an environment variable, not {holds} itself")
        return str(value)

    return checked(check)


def _path(value: Any, info: _Info) -> Path:
    """A path; read from a file, ``~`` is expanded and a relative one is relative to the file."""
    if isinstance(value, Path):
        return value
    found = Path(text(value)).expanduser()
    base = (info.context or {}).get("base")
    if isinstance(base, Path) and not found.is_absolute():
        return base / found
    return found


def _existing_file(value: Any, info: _Info) -> Path:
    found = _path(value, info)
    if info.context is not None and not found.is_file():
        fail(f"no such file: {found}")
    return found


PATH = Check(lambda v, info: None if v is None else _path(v, info), with_info=True)
EXISTING_FILE = Check(
    lambda v, info: None if v is None else _existing_file(v, info), with_info=True
)


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
