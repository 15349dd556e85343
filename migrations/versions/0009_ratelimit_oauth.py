"""Runs count the rate-limit headers held back by the transport's caps: a header that asked
for a longer wait or a slower pace than hubaudit's bounds allow.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 11:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "runs",
        sa.Column("rate_limit_capped", sa.Integer(), nullable=False, server_default="0"),
    )


def downgrade() -> None:
    # plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch rebuild of `runs` would have to
    # recreate its partial index of open runs by hand
    op.drop_column("runs", "rate_limit_capped")
