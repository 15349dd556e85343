"""Engines and schema migrations for SQLite and Postgres.

Alembic is imported only to migrate: every other command checks the schema against
:data:`HEAD_REVISION`, the newest migration this hubaudit ships (a test keeps the two equal), by
reading the ``alembic_version`` table with one query.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError, SQLAlchemyError

from hubaudit import __version__
from hubaudit.errors import DatabaseError, SchemaNotCurrent
from hubaudit.secrets import remember_secret
from hubaudit.shipped import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

HEAD_REVISION = "0012"
"""The newest migration under ``migrations/versions`` (checked by a test): a read command knows
the schema it needs without loading Alembic and the migration scripts."""

SUPPORTED_BACKENDS = ("sqlite", "postgresql")
"""The databases hubaudit is built and tested for (psycopg 3 is the Postgres driver shipped)."""


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets foreign keys, WAL and a busy timeout."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseError(f"not a database URL: {_safe_url(url)}") from exc
    if parsed.password:
        remember_secret(str(parsed.password))  # scrubbed from every log, error and report
    if parsed.drivername == "postgresql":
        # psycopg 3 is the driver we ship; plain postgresql:// would look for psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise DatabaseError(
            f"unsupported database URL {_safe_url(url)}: hubaudit works with "
            "sqlite (sqlite:///hubaudit.db) and postgresql (postgresql://user@host/db)"
        )
    try:
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_engine(parsed, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(parsed, pool_pre_ping=True)
    except (NoSuchModuleError, ArgumentError) as exc:
        raise DatabaseError(f"unsupported database URL {_safe_url(url)}: {exc}") from exc
    except ImportError as exc:  # a driver named in the URL (postgresql+psycopg2) not installed
        raise DatabaseError(
            f"unsupported database URL {_safe_url(url)}: its driver {exc.name or ''} is not "
            "installed; postgresql:// uses psycopg 3, which comes with hubaudit"
        ) from exc


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _safe_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


def _alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


@contextmanager
def _connected(engine: Engine) -> Iterator[Any]:
    try:
        with engine.begin() as connection:
            yield connection
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot use the database {_safe_url(str(engine.url))}: {exc.orig}"
        ) from exc


@contextmanager
def _migrating(engine: Engine) -> Iterator[Any]:
    """One transaction for a whole migration, DDL included, on both databases.

    SQLite's Python driver commits DDL as it goes unless it is told to leave transactions to
    us: a migration that failed halfway would leave half a schema. So the driver's own
    transaction handling is turned off and an explicit BEGIN wraps the migration. Foreign keys
    are off meanwhile: batch mode rebuilds a table by copy, drop and rename, and dropping a
    table that other rows point to fails while they are on (Alembic's documented way); every
    reference is checked before the commit, so a migration never leaves one dangling."""
    try:
        with engine.connect() as connection:
            if connection.dialect.name != "sqlite":
                with connection.begin():
                    yield connection
                return
            driver = connection.connection.driver_connection
            assert driver is not None
            isolation = driver.isolation_level
            driver.isolation_level = None
            try:
                connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
                connection.commit()
                with connection.begin():
                    connection.exec_driver_sql("BEGIN")
                    yield connection
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise DatabaseError(
                            f"the migration would leave {len(broken)} broken references "
                            f"(first: {tuple(broken[0])}); nothing was changed"
                        )
            finally:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
                driver.isolation_level = isolation
    except OperationalError as exc:
        raise DatabaseError(
            f"cannot use the database {_safe_url(str(engine.url))}: {exc.orig}"
        ) from exc


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    require_known_revision(engine)
    config = _alembic_config()
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    require_known_revision(engine)
    config = _alembic_config()
    with _migrating(engine) as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def head_revision() -> str | None:
    """The newest migration this hubaudit ships (:data:`HEAD_REVISION`)."""
    return HEAD_REVISION


def migrations_head() -> str | None:
    """The head of the migration scripts themselves, read by Alembic (what the test of
    :data:`HEAD_REVISION` compares it with)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The database's revision, from Alembic's ``alembic_version`` table (``None`` when the
    database has none: empty, or never migrated)."""
    with _connected(engine) as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    if len(rows) > 1:
        raise DatabaseError(
            f"the database {_safe_url(str(engine.url))} has {len(rows)} schema versions "
            "(branched migrations): hubaudit's migrations are one line"
        )
    return str(rows[0][0]) if rows else None


def known_revisions() -> frozenset[str]:
    """Every revision this hubaudit's migrations know."""
    from alembic.script import ScriptDirectory

    return frozenset(
        script.revision
        for script in ScriptDirectory.from_config(_alembic_config()).walk_revisions()
    )


def require_known_revision(engine: Engine) -> str | None:
    """The database's revision; one this hubaudit does not know (a newer hubaudit migrated the
    database) is refused: neither reading nor migrating it can be right."""
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        raise DatabaseError(f"cannot read the database schema version: {exc}") from exc
    if current is not None and current != HEAD_REVISION and current not in known_revisions():
        raise DatabaseError(
            f"the database {_safe_url(str(engine.url))} is at revision {current}, newer than "
            f"this hubaudit ({__version__}), which knows up to {head_revision()}: "
            "upgrade hubaudit"
        )
    return current


def require_current_schema(engine: Engine) -> None:
    """Refuse to work on a database that is not at the newest migration."""
    current = require_known_revision(engine)
    head = head_revision()
    if current != head:
        state = "empty" if current is None else f"at revision {current}"
        raise SchemaNotCurrent(
            f"the database {_safe_url(str(engine.url))} is {state}, not at {head}"
        )
