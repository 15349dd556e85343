"""What every command shares: the session (config, database, terminal) and one set of options.

Conventions, the same in every command:
- ``--portal NAME`` may be left out when the config names one portal; an unknown name is the
  same one-line error everywhere, with the nearest names.
- ``--format NAME`` picks the output (text by default); ``--json`` is the same as
  ``--format json``.
- ``--output FILE`` writes there instead of the terminal (``--out`` is its old spelling).
- ``--by NAME`` names the person behind a decision, as the governance log will record it.
- The thing a command acts on (a defect id, a baseline version, an item key) is positional.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO, TypeVar

import click

from hubaudit.services.actor import Actor, Channel

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from hubaudit.config import Config, PortalConfig
    from hubaudit.store.reads import StoreReader
    from hubaudit.store.repository import Store

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_DRIFT = 2

F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Session:
    """One command's view of the world, built lazily: a command needing no database opens none."""

    out: TextIO = field(default_factory=lambda: sys.stdout)
    config_path: str | None = None
    log_format: str | None = None
    log_level: str | None = None
    _config: Config | None = None
    _engine: Engine | None = None
    _store: Store | None = None
    _reader: StoreReader | None = None

    def config(self) -> Config:
        """The config file, loaded once; logging configured from it and the global options."""
        if self._config is None:
            from hubaudit.config import find_config_path, load_config
            from hubaudit.logs import configure_logging

            self._config = load_config(find_config_path(self.config_path))
            configure_logging(
                self.log_format or self._config.logging.format,
                self.log_level or self._config.logging.level,
            )
        return self._config

    def configure_logging(self, default_level: str) -> None:
        """Logging for a command that reads no config (the demo, the emulator)."""
        from hubaudit.logs import configure_logging

        configure_logging(self.log_format or "console", self.log_level or default_level)

    def portal(self, name: str | None) -> PortalConfig:
        """The portal ``--portal`` names, or the config's only portal when it names none."""
        config = self.config()
        if name is not None:
            return config.portal(name)
        if len(config.portals) == 1:
            return config.portals[0]
        names = ", ".join(portal.name for portal in config.portals)
        raise click.UsageError(
            f"--portal is needed: {config.path or 'the config'} names "
            f"{len(config.portals)} portals ({names})"
            if config.portals
            else f"{config.path or 'the config'} names no portal"
        )

    def portal_name(self, name: str | None) -> str:
        return self.portal(name).name

    def engine(self) -> Engine:
        """The database engine, without the schema check (for ``db upgrade`` and ``db current``)."""
        if self._engine is None:
            from hubaudit.store.engine import make_engine

            self._engine = make_engine(self.config().database_url)
        return self._engine

    def store(self) -> Store:
        """The store, on a database at the current schema (else a one-line error)."""
        if self._store is None:
            from hubaudit.store.repository import Store

            self._store = Store(self._current_engine())
        return self._store

    def reader(self) -> StoreReader:
        """The store's read side for a command that only reads: the same checks as
        :meth:`store`, without loading the writers (nor SQLAlchemy's ORM)."""
        if self._store is not None:
            return self._store
        if self._reader is None:
            from hubaudit.store.reads import StoreReader

            self._reader = StoreReader(self._current_engine())
        return self._reader

    def _current_engine(self) -> Engine:
        """The engine, once the database is found at the current schema (else a one-line error)."""
        from hubaudit.store.engine import require_current_schema

        engine = self.engine()
        require_current_schema(engine)
        return engine

    def emit(self, text: str, output: str | None) -> int:
        """Write ``text`` to ``output`` if given, else to the terminal."""
        if not output:
            self.out.write(text)
            return EXIT_OK
        target = Path(output)
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            print(f"hubaudit: error: cannot write {target}: {exc.strerror}", file=sys.stderr)
            return EXIT_ERROR
        return EXIT_OK

    def echo(self, line: str = "") -> None:
        print(line, file=self.out)

    def wants_colour(self, output: str | None = None) -> bool:
        """Colour for a person at a terminal; none when piped or written to a file, or NO_COLOR."""
        if output:
            return False
        return bool(getattr(self.out, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
            self._store = None
            self._reader = None


pass_session = click.make_pass_decorator(Session)


def portal_option(f: F) -> F:
    """``--portal NAME``: optional when the config names one portal."""
    return click.option(
        "--portal",
        metavar="NAME",
        help="the portal, as named in the config (may be left out when it names one)",
    )(f)


def format_option(*formats: str, default: str = "text") -> Callable[[F], F]:
    """``--format`` with these names, and ``--json`` as its alias for ``--format json``.

    The command receives one ``output_format`` argument."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, output_format: str | None, as_json: bool, **kwargs: Any) -> Any:
            if as_json:
                if output_format not in (None, "json"):
                    raise click.UsageError(f"--json and --format {output_format} disagree")
                output_format = "json"
            return function(*args, output_format=output_format or default, **kwargs)

        option = click.option(
            "--format",
            "output_format",
            type=click.Choice(formats),
            default=None,
            help=f"output format: {', '.join(formats)} (default {default})",
        )
        alias = click.option("--json", "as_json", is_flag=True, help="the same as --format json")
        if "json" not in formats:
            raise ValueError("format_option: --json needs a json format")
        return option(alias(wrapper))  # type: ignore[return-value]

    return decorate


def output_option(f: F) -> F:
    """``--output FILE`` (``--out`` is accepted too)."""
    return click.option(
        "--output",
        "--out",
        "output",
        metavar="FILE",
        help="write to this file instead of the terminal",
    )(f)


def _actor(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Actor | None:
    if value is None:
        return None
    try:
        return Actor(value, Channel.CLI)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from exc


def actor_option(f: F) -> F:
    """``--by NAME``: the person behind a decision, as the governance log records it."""
    return click.option(
        "--by",
        "actor",
        metavar="NAME",
        required=True,
        callback=_actor,
        help="who decides (recorded in the governance log)",
    )(f)
