from __future__ import annotations

from pathlib import Path

import pytest

from hubaudit.cli.hints import hint_for
from hubaudit.errors import DatabaseError
from hubaudit.store.engine import head_revision, make_engine, require_current_schema


def test_plain_postgresql_urls_use_psycopg_3() -> None:
    engine = make_engine("postgresql://hubaudit:s3cret@db.example:5432/hubaudit")
    assert engine.url.drivername == "postgresql+psycopg"
    engine.dispose()


def test_a_bad_url_is_a_clear_error_without_the_password() -> None:
    with pytest.raises(DatabaseError, match="unsupported database URL") as caught:
        make_engine("oracle+nothing://scott:tiger@host/db")
    assert "tiger" not in str(caught.value)
    with pytest.raises(DatabaseError, match="not a database URL"):
        make_engine("not a url")


def test_an_unmigrated_database_asks_for_db_upgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with pytest.raises(DatabaseError, match=f"is empty, not at {head_revision()}$") as caught:
        require_current_schema(engine)
    engine.dispose()
    # the store names no command; the CLI adds it from the error's class
    assert "`" not in str(caught.value)
    assert hint_for(caught.value) == "run `hubaudit db upgrade`"


def test_an_unreachable_postgres_is_a_clear_error() -> None:
    engine = make_engine("postgresql://nobody:pw@127.0.0.1:1/none")
    with pytest.raises(DatabaseError, match="cannot") as caught:
        require_current_schema(engine)
    assert "pw@" not in str(caught.value)
    engine.dispose()
