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

    from hubaudit.config import Config, Essentials, PortalConfig
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
    essentials_only: bool = False
    """Set by :func:`reads_stored_data`: the command checks only the config's essentials."""
    _config: Config | None = None
    _essentials: Essentials | None = None
    _engine: Engine | None = None
    _store: Store | None = None
    _reader: StoreReader | None = None

    def config(self) -> Config:
        """The whole config file, every table checked, loaded once."""
        if self._config is None:
            from hubaudit.config import find_config_path, load_config

            self._config = load_config(find_config_path(self.config_path))
            if self._essentials is None:
                self._set_essentials(self._config.essentials())
        return self._config

    def essentials(self) -> Essentials:
        """The database, the portals' names and logging, read once; logging configured from
        them and the global options. For a command that only reads what is stored
        (:attr:`essentials_only`) they are read without the rest of the config; for the others,
        from the whole file, every table checked."""
        if self._essentials is None and not self.essentials_only:
            self.config()
        if self._essentials is None:
            from hubaudit.config.essentials import find_config_path, read_essentials
            from hubaudit.errors import ConfigError

            try:
                found = read_essentials(find_config_path(self.config_path))
            except ConfigError:
                self.config()  # fails too, listing every mistake of the file, not only these
                raise
            self._set_essentials(found)
        assert self._essentials is not None
        return self._essentials

    def _set_essentials(self, essentials: Essentials) -> None:
        from hubaudit.logs import configure_logging

        self._essentials = essentials
        configure_logging(
            self.log_format or essentials.log_format, self.log_level or essentials.log_level
        )

    def configure_logging(self, default_level: str) -> None:
        """Logging for a command that reads no config (the demo, the emulator)."""
        from hubaudit.logs import configure_logging

        configure_logging(self.log_format or "console", self.log_level or default_level)

    def portal(self, name: str | None) -> PortalConfig:
        """The portal ``--portal`` names, or the config's only portal when it names none."""
        return self.config().portal(self.portal_name(name))

    def portal_name(self, name: str | None) -> str:
        """The name of the portal ``--portal`` names, or of the config's only portal."""
        essentials = self.essentials()
        names = essentials.portal_names
        if name is not None:
            return essentials.portal_name(name)
        if len(names) == 1:
            return names[0]
        where = essentials.path or "the config"
        raise click.UsageError(
            f"--portal is needed: {where} names {len(names)} portals ({', '.join(names)})"
            if names
            else f"{where} names no portal"
        )

    def engine(self) -> Engine:
        """The database engine, without the schema check (for ``db upgrade`` and ``db current``)."""
        if self._engine is None:
            from hubaudit.store.engine import make_engine

            self._engine = make_engine(self.essentials().database_url)
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


def reads_stored_data(f: F) -> F:
    """For a command that only reads what is stored (``history``, ``report``…): it takes the
    config's essentials only, so it pays for no schema (:mod:`hubaudit.config.essentials`).
    Put it under ``@pass_session``."""

    @functools.wraps(f)
    def wrapper(session: Session, *args: Any, **kwargs: Any) -> Any:
        session.essentials_only = True
        return f(session, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


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
