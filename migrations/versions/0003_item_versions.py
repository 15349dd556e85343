"""Snapshots as intervals of item versions: an unchanged night stores no item rows.

Upgrade turns every portal's ``snapshot_items`` (one row per item per snapshot) into
``item_versions`` (one row per version of an item over the snapshots that held it), then drops
``snapshot_items``. Downgrade rebuilds ``snapshot_items`` from the versions. Both keep every
snapshot's exact content.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 13:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_BATCH = 1000

snapshots = sa.table(
    "snapshots",
    sa.column("id", sa.Integer),
    sa.column("portal_id", sa.Integer),
    sa.column("taken_at", sa.DateTime(timezone=True)),
    sa.column("completed_at", sa.DateTime(timezone=True)),
)
snapshot_items = sa.table(
    "snapshot_items",
    sa.column("snapshot_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("kind", sa.String),
    sa.column("canonical_hash", sa.String),
    sa.column("raw_hash", sa.String),
)
item_versions = sa.table(
    "item_versions",
    sa.column("portal_id", sa.Integer),
    sa.column("key", sa.String),
    sa.column("kind", sa.String),
    sa.column("canonical_hash", sa.String),
    sa.column("raw_hash", sa.String),
    sa.column("valid_from", sa.Integer),
    sa.column("valid_until", sa.Integer),
    sa.column("first_seen_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    op.create_table(
        "item_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("canonical_hash", sa.String(length=64), nullable=False),
        sa.Column("raw_hash", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Integer(), nullable=False),
        sa.Column("valid_until", sa.Integer(), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["canonical_hash"],
            ["payloads.hash"],
            name=op.f("fk_item_versions_canonical_hash_payloads"),
        ),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_item_versions_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(
            ["raw_hash"], ["payloads.hash"], name=op.f("fk_item_versions_raw_hash_payloads")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_versions")),
    )
    with op.batch_alter_table("item_versions", schema=None) as batch_op:
        batch_op.create_index(
            "ix_item_versions_portal_key", ["portal_id", "key", "valid_from"], unique=False
        )
        batch_op.create_index(
            "ix_item_versions_portal_open", ["portal_id", "valid_until"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_item_versions_canonical_hash"), ["canonical_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_item_versions_raw_hash"), ["raw_hash"], unique=False)
    with op.batch_alter_table("baseline_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_baseline_items_canonical_hash"), ["canonical_hash"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_baseline_items_raw_hash"), ["raw_hash"], unique=False)
    _snapshot_items_to_versions(op.get_bind())
    op.drop_table("snapshot_items")


def _snapshot_items_to_versions(connection: sa.Connection) -> None:
    """Walk each portal's complete snapshots in order, opening and closing versions."""
    portals = connection.scalars(sa.select(snapshots.c.portal_id).distinct()).all()
    for portal_id in portals:
        open_versions: dict[str, dict[str, Any]] = {}
        done: list[dict[str, Any]] = []
        for snapshot_id, taken_at in connection.execute(
            sa.select(snapshots.c.id, snapshots.c.taken_at)
            .where(snapshots.c.portal_id == portal_id, snapshots.c.completed_at.is_not(None))
            .order_by(snapshots.c.id)
        ).all():
            seen = set()
            for key, kind, canonical, raw in connection.execute(
                sa.select(
                    snapshot_items.c.key,
                    snapshot_items.c.kind,
                    snapshot_items.c.canonical_hash,
                    snapshot_items.c.raw_hash,
                ).where(snapshot_items.c.snapshot_id == snapshot_id)
            ):
                seen.add(key)
                current = open_versions.get(key)
                held = (kind, canonical, raw)
                if current is not None and held == (
                    current["kind"],
                    current["canonical_hash"],
                    current["raw_hash"],
                ):
                    continue
                if current is not None:
                    current["valid_until"] = snapshot_id
                    done.append(current)
                open_versions[key] = {
                    "portal_id": portal_id,
                    "key": key,
                    "kind": kind,
                    "canonical_hash": canonical,
                    "raw_hash": raw,
                    "valid_from": snapshot_id,
                    "valid_until": None,
                    "first_seen_at": taken_at,
                }
            for key in [k for k in open_versions if k not in seen]:
                version = open_versions.pop(key)
                version["valid_until"] = snapshot_id
                done.append(version)
            if len(done) >= _BATCH:
                connection.execute(sa.insert(item_versions), done)
                done = []
        rest = done + list(open_versions.values())
        for start in range(0, len(rest), _BATCH):
            connection.execute(sa.insert(item_versions), rest[start : start + _BATCH])


def downgrade() -> None:
    op.create_table(
        "snapshot_items",
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("canonical_hash", sa.String(length=64), nullable=False),
        sa.Column("raw_hash", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["canonical_hash"],
            ["payloads.hash"],
            name=op.f("fk_snapshot_items_canonical_hash_payloads"),
        ),
        sa.ForeignKeyConstraint(
            ["raw_hash"], ["payloads.hash"], name=op.f("fk_snapshot_items_raw_hash_payloads")
        ),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name=op.f("fk_snapshot_items_snapshot_id_snapshots"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("snapshot_id", "key", name=op.f("pk_snapshot_items")),
    )
    versions = item_versions
    op.get_bind().execute(
        sa.insert(snapshot_items).from_select(
            ["snapshot_id", "key", "kind", "canonical_hash", "raw_hash"],
            sa.select(
                snapshots.c.id,
                versions.c.key,
                versions.c.kind,
                versions.c.canonical_hash,
                versions.c.raw_hash,
            )
            .select_from(snapshots)
            .join(
                versions,
                sa.and_(
                    versions.c.portal_id == snapshots.c.portal_id,
                    versions.c.valid_from <= snapshots.c.id,
                    sa.or_(
                        versions.c.valid_until.is_(None), versions.c.valid_until > snapshots.c.id
                    ),
                ),
            )
            .where(snapshots.c.completed_at.is_not(None)),
        )
    )
    with op.batch_alter_table("baseline_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_baseline_items_raw_hash"))
        batch_op.drop_index(batch_op.f("ix_baseline_items_canonical_hash"))
    with op.batch_alter_table("item_versions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_versions_raw_hash"))
        batch_op.drop_index(batch_op.f("ix_item_versions_canonical_hash"))
        batch_op.drop_index("ix_item_versions_portal_open")
        batch_op.drop_index("ix_item_versions_portal_key")
    op.drop_table("item_versions")
