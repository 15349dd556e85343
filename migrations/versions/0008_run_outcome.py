"""Run outcomes recorded with the defects (a run killed before it publishes loses nothing),
and the process that holds each run's claim (a dead one on this host is taken over at once).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _claimer() -> list[sa.Column[object]]:
    """The claim's process (a fresh Column each time: a column belongs to one table)."""
    return [
        sa.Column("worker_host", sa.String(length=255), nullable=True),
        sa.Column("worker_namespace", sa.String(length=255), nullable=True),
        sa.Column("worker_pid", sa.Integer(), nullable=True),
        sa.Column("worker_started", sa.BigInteger(), nullable=True),
    ]


def upgrade() -> None:
    for column in _claimer():
        op.add_column("runs", column)
    op.create_table(
        "run_outcomes",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("defects_json", sa.Text(), nullable=True),
        sa.Column("findings_json", sa.Text(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("carried_into", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_run_outcomes_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_run_outcomes_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_run_outcomes")),
    )
    with op.batch_alter_table("run_outcomes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_run_outcomes_portal_id"), ["portal_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("run_outcomes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_run_outcomes_portal_id"))
    op.drop_table("run_outcomes")
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch rebuild of `runs` would have to
    # recreate its partial index of open runs by hand
    for column in reversed(_claimer()):
        op.drop_column("runs", column.name)
