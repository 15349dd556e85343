"""Stored run reports (for `hubaudit report --run`), change sightings (governance KPIs, filled
with the defects seen so far) and the notifications each run sent.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 20:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "run_reports",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("schema_version", sa.String(length=16), nullable=False),
        sa.Column("document", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_run_reports_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_reports_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_reports")),
    )
    with op.batch_alter_table("run_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_reports_portal_id"), ["portal_id"], unique=False)
    op.create_table(
        "change_sightings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("classification", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("key", sa.String(length=512), nullable=False),
        sa.Column("field", sa.Text(), nullable=True),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("changed_by", sa.String(length=255), nullable=True),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_change_sightings_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_sightings")),
        sa.UniqueConstraint(
            "portal_id",
            "fingerprint",
            "classification",
            name=op.f("uq_change_sightings_portal_id_fingerprint_classification"),
        ),
    )
    with op.batch_alter_table("change_sightings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_change_sightings_portal_id_first_seen_at",
            ["portal_id", "first_seen_at"],
            unique=False,
        )
    # every defect so far was an unplanned change first seen then: the KPIs keep that history
    op.execute(
        "INSERT INTO change_sightings (portal_id, fingerprint, classification, kind, key, field, "
        "severity, changed_by, first_seen_at, snapshot_id) "
        "SELECT portal_id, fingerprint, 'defect', kind, key, field, severity, NULL, "
        "first_seen_at, first_snapshot_id FROM defects"
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("target", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_notifications_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint("run_id", "target", name=op.f("uq_notifications_run_id_target")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notifications_run_id"), ["run_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_run_id"))
    op.drop_table("notifications")
    with op.batch_alter_table("change_sightings", schema=None) as batch_op:
        batch_op.drop_index("ix_change_sightings_portal_id_first_seen_at")
    op.drop_table("change_sightings")
    with op.batch_alter_table("run_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_reports_portal_id"))
    op.drop_table("run_reports")
