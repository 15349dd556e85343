"""Argument types shared by commands: dates, change request ids, snapshot references and the
version a command acts on (positional, with the old ``--version`` kept as a hidden alias)."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

import click

F = TypeVar("F", bound=Callable[..., Any])


class DateParam(click.ParamType):  # type: ignore[type-arg]
    """``2026-12-31`` or ``2026-12-31T18:00`` (UTC unless it says otherwise). A date alone is the
    start of that day, or with ``end=True`` the whole day through its end."""

    name = "date"

    def __init__(self, *, end: bool = False) -> None:
        self.end = end

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, datetime):
            return value
        from hubaudit.dates import parse_end, parse_start
        from hubaudit.errors import UsageError

        try:
            return (parse_end if self.end else parse_start)(str(value))
        except UsageError as exc:
            self.fail(str(exc), param, ctx)


class ChangeRequestId(click.ParamType):  # type: ignore[type-arg]
    """``CR-12`` or ``12``."""

    name = "CR"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, int):
            return value
        text = str(value)
        digits = text[3:] if text.upper().startswith("CR-") else text
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
            self.fail(f"a change request is CR-N or N, not {text!r}", param, ctx)
        return int(digits)


class SnapshotRef(click.ParamType):  # type: ignore[type-arg]
    """``latest`` (converted to ``None``) or a snapshot id."""

    name = "latest|ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if value is None or isinstance(value, int):
            return value
        text = str(value).strip()
        if text == "latest":
            return None
        if text.isascii() and text.isdigit() and len(text) <= 18:
            return int(text)
        self.fail(f"takes 'latest' or a snapshot id, not {text!r}", param, ctx)


class EnumChoice(click.Choice):  # type: ignore[type-arg]
    """The values of an enum of ours, named ``"module:Enum"`` and imported only when a command
    parses or lists them, so a command's module imports nothing but click at start."""

    def __init__(self, enum_path: str) -> None:
        self.enum_path = enum_path
        self.case_sensitive = True

    @property
    def choices(self) -> tuple[Any, ...]:  # type: ignore[override]
        module, _, name = self.enum_path.partition(":")
        return tuple(member.value for member in getattr(importlib.import_module(module), name))


DATE = DateParam()
END_DATE = DateParam(end=True)
CR_ID = ChangeRequestId()
SNAPSHOT = SnapshotRef()
ID = click.IntRange(min=1, max=2**63 - 1)
SEVERITY = EnumChoice("hubaudit.model:Severity")
KIND = EnumChoice("hubaudit.model:Kind")
DEFECT_STATUS = EnumChoice("hubaudit.model:DefectStatus")
FINDING_STATUS = EnumChoice("hubaudit.model:FindingStatus")


def version_argument(help_text: str) -> Callable[[F], F]:
    """The version a command acts on: ``VERSION`` positional, optional, and ``--version N`` (the
    old spelling, hidden). The command receives one ``version`` argument."""

    def decorate(function: F) -> F:
        import functools

        @functools.wraps(function)
        def wrapper(
            *args: Any, version: int | None, version_option: int | None, **kwargs: Any
        ) -> Any:
            if version is not None and version_option is not None and version != version_option:
                raise click.UsageError(f"version {version} and --version {version_option} disagree")
            return function(
                *args, version=version if version is not None else version_option, **kwargs
            )

        argument = click.argument("version", required=False, type=ID, metavar="[VERSION]")
        alias = click.option("--version", "version_option", type=ID, hidden=True, help=help_text)
        return argument(alias(wrapper))  # type: ignore[return-value]

    return decorate


def waiver_options(what: str) -> Callable[[F], F]:
    """``--reason`` (why ``what`` is tolerated) and ``--until DATE`` (through its end)."""

    def decorate(function: F) -> F:
        reason = click.option("--reason", required=True, help=f"why this {what} is tolerated")
        until = click.option(
            "--until",
            required=True,
            type=END_DATE,
            metavar="DATE",
            help="a date (through its end) or time",
        )
        return reason(until(function))

    return decorate
