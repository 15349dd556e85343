"""Everything a database holds, as text: what a test searches for a secret or a NUL.

SQLite: ``iterdump`` (and, for :func:`dump_database`, the bytes of the file and its
write-ahead log); Postgres: every row of every table of the schema the URL names, in Postgres's
own text form of a row."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa


def _sqlite_path(url: str) -> Path | None:
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return None
    assert parsed.database is not None
    return Path(parsed.database)


def dump_rows(url: str) -> str:
    """Every row of every table, as SQL (SQLite) or row text (Postgres)."""
    path = _sqlite_path(url)
    if path is not None:
        connection = sqlite3.connect(path)
        try:
            lines = list(connection.iterdump())
        finally:
            connection.close()
    else:
        engine = sa.create_engine(url)
        try:
            with engine.connect() as connection:
                tables = connection.execute(
                    sa.text(
                        "select table_name from information_schema.tables "
                        "where table_schema = current_schema() and table_type = 'BASE TABLE'"
                    )
                ).scalars()
                lines = []
                for table in sorted(tables):
                    assert table.replace("_", "").isalnum()
                    rows = connection.execute(sa.text(f'select t::text from "{table}" t'))
                    lines += [f"{table}: {row}" for row in rows.scalars()]
        finally:
            engine.dispose()
    assert any("INSERT" in line or ": (" in line for line in lines), "an empty dump proves nothing"
    return "\n".join(lines)


def dump_database(url: str) -> str:
    """:func:`dump_rows`, and for SQLite the raw bytes of the file and its log too (a deleted
    row's text may linger in a free page)."""
    path = _sqlite_path(url)
    if path is None:
        return dump_rows(url)
    raw = b"".join(
        candidate.read_bytes()
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )
    return dump_rows(url) + "\n" + raw.decode("utf-8", "replace")
