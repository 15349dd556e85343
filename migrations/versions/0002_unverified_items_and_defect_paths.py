"""Coverage names the items a part did not read; defects keep their exact field path.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("snapshot_coverage", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unverified", sa.Text(), nullable=True))
    with op.batch_alter_table("defects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("path_json", sa.Text(), nullable=False, server_default="[]"))


def downgrade() -> None:
    with op.batch_alter_table("defects", schema=None) as batch_op:
        batch_op.drop_column("path_json")
    with op.batch_alter_table("snapshot_coverage", schema=None) as batch_op:
        batch_op.drop_column("unverified")
