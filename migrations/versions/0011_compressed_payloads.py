"""Compressed payloads and binary digests: a year of history in little room.

Upgrade rewrites every payload's body as ``hubaudit.store.payloads`` stores it (a form byte,
then deflate against the preset dictionary) and every content hash (``payloads.hash`` and the
``canonical_hash``/``raw_hash`` of ``item_versions`` and ``baseline_items``) from 64 hex digits
to its 32 bytes. Downgrade turns both back. Payloads are copied in pages (by hash), so memory
stays flat however large the database; on Postgres the hashes are converted by the server.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-05 16:30:00
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

from hubaudit.store.payloads import decode_body, encode_body

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

_PAGE = 1000
# (table, column) of every reference to a payload, with its foreign key
_REFERENCES = (
    ("item_versions", "canonical_hash"),
    ("item_versions", "raw_hash"),
    ("baseline_items", "canonical_hash"),
    ("baseline_items", "raw_hash"),
)


def upgrade() -> None:
    _rebuild_payloads(
        hash_type=sa.LargeBinary(length=32),
        body_type=sa.LargeBinary(),
        convert=lambda h, body: (bytes.fromhex(h), encode_body(body)),
    )
    _convert_references(
        sa.LargeBinary(length=32),
        postgresql="decode({column}, 'hex')",
        sqlite="hubaudit_unhex({column})",
    )


def downgrade() -> None:
    _rebuild_payloads(
        hash_type=sa.String(length=64),
        body_type=sa.Text(),
        convert=lambda h, body: (bytes(h).hex(), decode_body(body)),
    )
    _convert_references(
        sa.String(length=64),
        postgresql="encode({column}, 'hex')",
        sqlite="lower(hex({column}))",
    )


def _rebuild_payloads(
    *,
    hash_type: sa.types.TypeEngine[object],
    body_type: sa.types.TypeEngine[object],
    convert: Callable[[object, object], tuple[object, object]],
) -> None:
    """Copy ``payloads`` into a table of the new column types, page by page, then put the new
    table in its place (the references' foreign keys are dropped first on Postgres)."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        for table, column in _REFERENCES:
            op.drop_constraint(f"fk_{table}_{column}_payloads", table, type_="foreignkey")
    # Postgres names constraints per schema: the old table still holds pk_payloads meanwhile
    op.create_table(
        "payloads_next",
        sa.Column("hash", hash_type, nullable=False),
        sa.Column("body", body_type, nullable=False),
        sa.PrimaryKeyConstraint("hash", name="pk_payloads_next" if postgres else "pk_payloads"),
    )
    old = sa.table("payloads", sa.column("hash"), sa.column("body"))
    new = sa.table("payloads_next", sa.column("hash"), sa.column("body"))
    last = None
    while True:
        query = sa.select(old.c.hash, old.c.body).order_by(old.c.hash).limit(_PAGE)
        if last is not None:
            query = query.where(old.c.hash > last)
        page = bind.execute(query).all()
        if not page:
            break
        rows = [convert(h, body) for h, body in page]
        bind.execute(sa.insert(new), [{"hash": h, "body": b} for h, b in rows])
        last = page[-1][0]
    op.drop_table("payloads")
    op.rename_table("payloads_next", "payloads")
    if postgres:
        op.execute("ALTER TABLE payloads RENAME CONSTRAINT pk_payloads_next TO pk_payloads")


def _convert_references(
    hash_type: sa.types.TypeEngine[object], *, postgresql: str, sqlite: str
) -> None:
    """Give every reference to a payload the new hash type, its values converted."""
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table, column in _REFERENCES:
            op.alter_column(
                table,
                column,
                type_=hash_type,
                existing_nullable=False,
                postgresql_using=postgresql.format(column=column),
            )
        for table, column in _REFERENCES:
            op.create_foreign_key(
                f"fk_{table}_{column}_payloads", table, "payloads", [column], ["hash"]
            )
        return
    driver = bind.connection.driver_connection
    assert driver is not None
    driver.create_function("hubaudit_unhex", 1, _unhex, deterministic=True)
    for table in dict.fromkeys(t for t, _ in _REFERENCES):
        columns = [c for t, c in _REFERENCES if t == table]
        # converted first: the rebuild below casts each value to the new declared type, which
        # leaves a value already of that kind as it is (a hex text cast to a blob would not be)
        assignments = ", ".join(f"{c} = {sqlite.format(column=c)}" for c in columns)
        op.execute(f"UPDATE {table} SET {assignments}")  # noqa: S608 (names are ours)
        with op.batch_alter_table(table, recreate="always") as batch_op:
            for column in columns:
                batch_op.alter_column(column, type_=hash_type, existing_nullable=False)


def _unhex(value: object) -> object:
    return bytes.fromhex(value) if isinstance(value, str) else value
