"""Governance: proposed/approved/rejected baseline versions, change requests, waivers, and the
append-only governance log.

Existing baselines were approved in one step: they become approved versions whose proposal is
their approval. The governance log refuses UPDATE and DELETE through triggers on both databases.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_PROPOSED = sa.text("status = 'proposed'")

_SQLITE_TRIGGERS = (
    "CREATE TRIGGER governance_log_no_update BEFORE UPDATE ON governance_log "
    "BEGIN SELECT RAISE(ABORT, 'the governance log is append-only'); END",
    "CREATE TRIGGER governance_log_no_delete BEFORE DELETE ON governance_log "
    "BEGIN SELECT RAISE(ABORT, 'the governance log is append-only'); END",
)
_POSTGRES_TRIGGERS = (
    "CREATE FUNCTION governance_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
    "BEGIN RAISE EXCEPTION 'the governance log is append-only'; END $$",
    "CREATE TRIGGER governance_log_no_change BEFORE UPDATE OR DELETE ON governance_log "
    "FOR EACH ROW EXECUTE FUNCTION governance_log_append_only()",
    "CREATE TRIGGER governance_log_no_truncate BEFORE TRUNCATE ON governance_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION governance_log_append_only()",
)


def upgrade() -> None:
    with op.batch_alter_table("baselines", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="approved", nullable=False)
        )
        batch_op.add_column(
            sa.Column("source", sa.String(length=16), server_default="snapshot", nullable=False)
        )
        batch_op.add_column(sa.Column("proposed_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("proposal_note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("rejected_by", sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("rejection_note", sa.Text(), nullable=True))
        batch_op.alter_column("approved_by", existing_type=sa.String(length=255), nullable=True)
        batch_op.alter_column(
            "approved_at", existing_type=sa.DateTime(timezone=True), nullable=True
        )
        batch_op.alter_column("note", existing_type=sa.Text(), nullable=True)
    op.execute(
        "UPDATE baselines SET proposed_by = approved_by, proposed_at = approved_at, "
        "proposal_note = note"
    )
    with op.batch_alter_table("baselines", schema=None) as batch_op:
        batch_op.alter_column("proposed_by", existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column(
            "proposed_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("proposal_note", existing_type=sa.Text(), nullable=False)
        batch_op.create_index(
            "ix_baselines_one_proposed_per_portal",
            ["portal_id"],
            unique=True,
            postgresql_where=_PROPOSED,
            sqlite_where=_PROPOSED,
        )

    with op.batch_alter_table("defects", schema=None) as batch_op:
        batch_op.add_column(sa.Column("note", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("accepted_baseline_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_defects_accepted_baseline_id_baselines"),
            "baselines",
            ["accepted_baseline_id"],
            ["id"],
        )

    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("changes_json", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=255), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.Column("released_baseline_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_change_requests_portal_id_portals")
        ),
        sa.ForeignKeyConstraint(
            ["released_baseline_id"],
            ["baselines.id"],
            name=op.f("fk_change_requests_released_baseline_id_baselines"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_requests")),
    )
    with op.batch_alter_table("change_requests", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_requests_portal_id"), ["portal_id"], unique=False
        )

    op.create_table(
        "waivers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("defect_id", sa.Integer(), nullable=False),
        sa.Column("waived_by", sa.String(length=255), nullable=False),
        sa.Column("waived_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_reason", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["defect_id"], ["defects.id"], name=op.f("fk_waivers_defect_id_defects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waivers")),
    )
    with op.batch_alter_table("waivers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_waivers_defect_id"), ["defect_id"], unique=False)

    op.create_table(
        "governance_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("portal_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("detail_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["portal_id"], ["portals.id"], name=op.f("fk_governance_log_portal_id_portals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_governance_log")),
    )
    with op.batch_alter_table("governance_log", schema=None) as batch_op:
        batch_op.create_index("ix_governance_log_portal_id_at", ["portal_id", "at"], unique=False)
    triggers = (
        _POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    )
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    # The log's triggers go with its table (and the function after it, on Postgres).
    op.drop_table("governance_log")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION governance_log_append_only()")
    op.drop_table("waivers")
    op.drop_table("change_requests")
    with op.batch_alter_table("defects", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_defects_accepted_baseline_id_baselines"), type_="foreignkey"
        )
        batch_op.drop_column("accepted_baseline_id")
        batch_op.drop_column("note")
    # Versions never approved have no place in the older schema.
    op.execute(
        "DELETE FROM baseline_items WHERE baseline_id IN "
        "(SELECT id FROM baselines WHERE status <> 'approved')"
    )
    op.execute("DELETE FROM baselines WHERE status <> 'approved'")
    with op.batch_alter_table("baselines", schema=None) as batch_op:
        batch_op.drop_index("ix_baselines_one_proposed_per_portal")
        batch_op.alter_column("approved_by", existing_type=sa.String(length=255), nullable=False)
        batch_op.alter_column(
            "approved_at", existing_type=sa.DateTime(timezone=True), nullable=False
        )
        batch_op.alter_column("note", existing_type=sa.Text(), nullable=False)
        for column in (
            "rejection_note",
            "rejected_at",
            "rejected_by",
            "proposal_note",
            "proposed_at",
            "proposed_by",
            "source",
            "status",
        ):
            batch_op.drop_column(column)
