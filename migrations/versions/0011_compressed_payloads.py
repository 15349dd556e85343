"""Compressed payloads and binary digests: a year of history in little room.

Upgrade rewrites every payload's body as ``hubaudit.store.payloads`` stores it (a form byte,
then deflate against the preset dictionary; a raw payload against its item's canonical one
too, named in the new column ``payloads.base``) and every content hash (``payloads.hash`` and the
``canonical_hash``/``raw_hash`` of ``item_versions`` and ``baseline_items``) from 64 hex digits
to its 32 bytes. Downgrade turns both back. Payloads are copied in pages (by hash), so memory
stays flat however large the database; on Postgres the hashes are converted by the server.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 16:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from hubaudit.store.payloads import encode_body, needs_base, stored_texts

revision = "0011"
down_revision = "0010"
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
    _rebuild_payloads(upgrading=True)
    _convert_references(
        sa.LargeBinary(length=32),
        postgresql="decode({column}, 'hex')",
        sqlite="hubaudit_unhex({column})",
    )


def downgrade() -> None:
    _rebuild_payloads(upgrading=False)
    _convert_references(
        sa.String(length=64),
        postgresql="encode({column}, 'hex')",
        sqlite="lower(hex({column}))",
    )


def _rebuild_payloads(*, upgrading: bool) -> None:
    """Copy ``payloads`` into a table of the other layout, page by page, then put the new table
    in its place (the references' foreign keys are dropped first on Postgres)."""
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        for table, column in _REFERENCES:
            op.drop_constraint(f"fk_{table}_{column}_payloads", table, type_="foreignkey")
    if upgrading:
        columns = [
            sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
            sa.Column("body", sa.LargeBinary(), nullable=False),
            sa.Column("base", sa.LargeBinary(length=32), nullable=True),
        ]
    else:
        columns = [
            sa.Column("hash", sa.String(length=64), nullable=False),
            sa.Column("body", sa.Text(), nullable=False),
        ]
    # Postgres names constraints per schema: the old table still holds pk_payloads meanwhile
    op.create_table(
        "payloads_next",
        *columns,
        sa.PrimaryKeyConstraint("hash", name="pk_payloads_next" if postgres else "pk_payloads"),
    )
    old = sa.table("payloads", sa.column("hash"))
    new = sa.table("payloads_next", *(sa.column(c.name) for c in columns))
    last = None
    while True:
        query = sa.select(old.c.hash).order_by(old.c.hash).limit(_PAGE)
        if last is not None:
            query = query.where(old.c.hash > last)
        page = bind.scalars(query).all()
        if not page:
            break
        rows = _compressed(bind, page) if upgrading else _plain(bind, page)
        bind.execute(sa.insert(new), rows)
        last = page[-1]
    op.drop_table("payloads")
    op.rename_table("payloads_next", "payloads")
    if postgres:
        op.execute("ALTER TABLE payloads RENAME CONSTRAINT pk_payloads_next TO pk_payloads")
    if upgrading:
        with op.batch_alter_table("payloads") as batch_op:
            batch_op.create_index(
                "ix_payloads_base",
                ["base"],
                postgresql_where=sa.text("base IS NOT NULL"),
                sqlite_where=sa.text("base IS NOT NULL"),
            )


def _compressed(bind: sa.Connection, hashes: Sequence[str]) -> list[dict[str, object]]:
    """New rows of the payloads ``hashes`` (hex, JSON text): compressed, and a raw payload
    against its item's canonical one (one that is no item's canonical payload itself, so no
    payload is ever the base of its own base)."""
    old = sa.table("payloads", sa.column("hash"), sa.column("body"))
    versions = sa.table("item_versions", sa.column("canonical_hash"), sa.column("raw_hash"))
    texts = {
        h: body
        for h, body in bind.execute(sa.select(old.c.hash, old.c.body).where(old.c.hash.in_(hashes)))
    }
    bases = dict(
        bind.execute(
            sa.select(versions.c.raw_hash, sa.func.min(versions.c.canonical_hash))
            .where(
                versions.c.raw_hash.in_(hashes),
                versions.c.raw_hash != versions.c.canonical_hash,
                versions.c.raw_hash.not_in(sa.select(versions.c.canonical_hash)),
            )
            .group_by(versions.c.raw_hash)
        ).all()
    )
    missing = set(bases.values()) - texts.keys()
    if missing:
        texts |= {
            h: body
            for h, body in bind.execute(
                sa.select(old.c.hash, old.c.body).where(old.c.hash.in_(missing))
            )
        }
    rows = []
    for h in hashes:
        base = bases.get(h)
        body = encode_body(texts[h], None if base is None else texts[base].encode("utf-8"))
        rows.append(
            {
                "hash": bytes.fromhex(h),
                "body": body,
                "base": bytes.fromhex(base) if base is not None and needs_base(body) else None,
            }
        )
    return rows


def _plain(bind: sa.Connection, digests: Sequence[bytes]) -> list[dict[str, object]]:
    """Old rows (hex, JSON text) of the stored payloads ``digests``."""
    texts = stored_texts(bind, [bytes(d) for d in digests])
    return [{"hash": d.hex(), "body": t.decode("utf-8")} for d, t in texts.items()]


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
