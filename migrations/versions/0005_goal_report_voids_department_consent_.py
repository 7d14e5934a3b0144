"""goal reports that can be voided, department rewards that need consent, durable intake

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUS = "status IN ('pending', 'approved', 'rejected', 'expired')"
NEW_STATUS = "status IN ('proposed', 'pending', 'approved', 'rejected', 'expired')"


def upgrade() -> None:
    with op.batch_alter_table("goal_progress") as batch:
        batch.add_column(sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("voided_by", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_goal_progress_voided_by_employees"), "employees", ["voided_by"], ["id"]
        )
    with op.batch_alter_table("goal_achievements") as batch:
        batch.add_column(sa.Column("count", sa.Integer(), server_default="1", nullable=False))
        batch.add_column(sa.Column("progress_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_goal_achievements_progress_id_goal_progress"),
            "goal_progress",
            ["progress_id"],
            ["id"],
        )
        batch.create_index(op.f("ix_goal_achievements_progress_id"), ["progress_id"])
        batch.create_check_constraint("count_positive", "count > 0")
    with op.batch_alter_table("redemptions") as batch:
        batch.add_column(sa.Column("backer_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("quantity", sa.Integer(), server_default="1", nullable=False))
        batch.create_foreign_key(
            op.f("fk_redemptions_backer_id_employees"), "employees", ["backer_id"], ["id"]
        )
        batch.drop_constraint(op.f("ck_redemptions_status"), type_="check")
        batch.create_check_constraint("status", NEW_STATUS)
        batch.create_check_constraint("quantity_positive", "quantity > 0")
    op.create_table(
        "inbox_updates",
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("update_id", name=op.f("pk_inbox_updates")),
    )
    op.create_index(op.f("ix_inbox_updates_handled_at"), "inbox_updates", ["handled_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_inbox_updates_handled_at"), table_name="inbox_updates")
    op.drop_table("inbox_updates")
    # A request still waiting for consent cannot be told apart after the downgrade: drop it.
    op.execute("DELETE FROM redemptions WHERE status = 'proposed'")
    with op.batch_alter_table("redemptions") as batch:
        batch.drop_constraint(op.f("ck_redemptions_quantity_positive"), type_="check")
        batch.drop_constraint(op.f("ck_redemptions_status"), type_="check")
        batch.create_check_constraint("status", OLD_STATUS)
        batch.drop_constraint(op.f("fk_redemptions_backer_id_employees"), type_="foreignkey")
        batch.drop_column("quantity")
        batch.drop_column("backer_id")
    with op.batch_alter_table("goal_achievements") as batch:
        batch.drop_constraint(op.f("ck_goal_achievements_count_positive"), type_="check")
        batch.drop_index(op.f("ix_goal_achievements_progress_id"))
        batch.drop_constraint(
            op.f("fk_goal_achievements_progress_id_goal_progress"), type_="foreignkey"
        )
        batch.drop_column("progress_id")
        batch.drop_column("count")
    with op.batch_alter_table("goal_progress") as batch:
        batch.drop_constraint(op.f("fk_goal_progress_voided_by_employees"), type_="foreignkey")
        batch.drop_column("voided_by")
        batch.drop_column("voided_at")
