"""Migrations: a linear chain that upgrades and downgrades cleanly on SQLite and Postgres."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

from hubaudit.shipped import migrations_dir
from hubaudit.store.engine import current_revision, downgrade, head_revision, upgrade
from hubaudit.store.tables import Base

TABLES = set(Base.metadata.tables)


def script_directory() -> ScriptDirectory:
    config = AlembicConfig()
    config.set_main_option("script_location", str(migrations_dir()))
    return ScriptDirectory.from_config(config)


def test_the_migration_chain_is_linear() -> None:
    scripts = script_directory()
    assert len(scripts.get_heads()) == 1
    revisions = list(scripts.walk_revisions())
    roots = [r for r in revisions if r.down_revision is None]
    assert len(roots) == 1
    for revision in revisions:
        assert not isinstance(revision.down_revision, tuple | list), "no merge points"


def test_upgrade_and_downgrade_round_trip(engine: sa.Engine) -> None:
    assert current_revision(engine) is None
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(sa.inspect(engine).get_table_names()) >= TABLES
    downgrade(engine, "base")
    assert not TABLES & set(sa.inspect(engine).get_table_names())
    upgrade(engine)
    assert set(sa.inspect(engine).get_table_names()) >= TABLES


def test_the_migrated_schema_matches_the_tables(engine: sa.Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
