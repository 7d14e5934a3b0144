"""thanks, the reward shop, redemptions and shared goals

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rewards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_en", sa.String(length=100), nullable=False),
        sa.Column("name_ru", sa.String(length=100), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("per_person_limit", sa.Integer(), nullable=True),
        sa.Column("limit_period", sa.String(length=8), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('personal', 'department')", name=op.f("ck_rewards_kind")),
        sa.CheckConstraint(
            "limit_period IN ('week', 'month')", name=op.f("ck_rewards_limit_period")
        ),
        sa.CheckConstraint(
            "per_person_limit IS NULL OR per_person_limit > 0",
            name=op.f("ck_rewards_limit_positive"),
        ),
        sa.CheckConstraint("price > 0", name=op.f("ck_rewards_price_positive")),
        sa.CheckConstraint(
            "stock IS NULL OR stock >= 0", name=op.f("ck_rewards_stock_not_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rewards")),
        sa.UniqueConstraint("code", name=op.f("uq_rewards_code")),
    )
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("target", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("reward_tokens", sa.BigInteger(), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=True),
        sa.Column("reward_department_id", sa.Integer(), nullable=True),
        sa.Column("repeating", sa.Boolean(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("period IN ('week', 'month', 'once')", name=op.f("ck_goals_period")),
        sa.CheckConstraint("reward_tokens >= 0", name=op.f("ck_goals_reward_not_negative")),
        sa.CheckConstraint("target > 0", name=op.f("ck_goals_target_positive")),
        sa.ForeignKeyConstraint(
            ["reward_department_id"],
            ["departments.id"],
            name=op.f("fk_goals_reward_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_goals_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goals")),
        sa.UniqueConstraint("code", name=op.f("uq_goals_code")),
    )
    op.create_table(
        "goal_achievements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_goal_achievements_goal_id_goals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_achievements")),
        sa.UniqueConstraint(
            "goal_id", "period_key", "ordinal", name=op.f("uq_goal_achievements_goal_id")
        ),
    )
    op.create_table(
        "goal_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("period_key", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reporter_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_goal_progress_amount_positive")),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_goal_progress_goal_id_goals")
        ),
        sa.ForeignKeyConstraint(
            ["reporter_id"], ["employees.id"], name=op.f("fk_goal_progress_reporter_id_employees")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_goal_progress")),
        sa.UniqueConstraint("key", name=op.f("uq_goal_progress_key")),
    )
    with op.batch_alter_table("goal_progress", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_goal_progress_goal_id"), ["goal_id"], unique=False)

    op.create_table(
        "redemptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("account_id", sa.Integer(), nullable=True),
        sa.Column("goal_id", sa.Integer(), nullable=True),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("note", sa.String(length=500), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "fulfilled_at IS NULL OR status = 'approved'",
            name=op.f("ck_redemptions_fulfilled_approved"),
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected', 'expired')",
            name=op.f("ck_redemptions_status"),
        ),
        sa.CheckConstraint("price >= 0", name=op.f("ck_redemptions_price_not_negative")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_redemptions_account_id_accounts")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["employees.id"], name=op.f("fk_redemptions_decided_by_employees")
        ),
        sa.ForeignKeyConstraint(
            ["department_id"],
            ["departments.id"],
            name=op.f("fk_redemptions_department_id_departments"),
        ),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_redemptions_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name=op.f("fk_redemptions_goal_id_goals")
        ),
        sa.ForeignKeyConstraint(
            ["reward_id"], ["rewards.id"], name=op.f("fk_redemptions_reward_id_rewards")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemptions")),
        sa.UniqueConstraint("key", name=op.f("uq_redemptions_key")),
    )
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_redemptions_created_at"), ["created_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_redemptions_employee_id"), ["employee_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_redemptions_reward_id"), ["reward_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_redemptions_status"), ["status"], unique=False)

    op.create_table(
        "redemption_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("redemption_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("language", sa.String(length=2), nullable=False),
        sa.ForeignKeyConstraint(
            ["redemption_id"],
            ["redemptions.id"],
            name=op.f("fk_redemption_notices_redemption_id_redemptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_redemption_notices")),
    )
    with op.batch_alter_table("redemption_notices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_redemption_notices_redemption_id"), ["redemption_id"], unique=False
        )

    op.create_table(
        "thanks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("giver_id", sa.Integer(), nullable=False),
        sa.Column("receiver_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("paid", sa.Integer(), nullable=False),
        sa.Column("cross_department", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("transfer_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_thanks_amount_positive")),
        sa.CheckConstraint("giver_id <> receiver_id", name=op.f("ck_thanks_not_to_self")),
        sa.CheckConstraint("paid >= amount", name=op.f("ck_thanks_paid_at_least_amount")),
        sa.ForeignKeyConstraint(
            ["giver_id"], ["employees.id"], name=op.f("fk_thanks_giver_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["receiver_id"], ["employees.id"], name=op.f("fk_thanks_receiver_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["transfers.id"], name=op.f("fk_thanks_transfer_id_transfers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_thanks")),
        sa.UniqueConstraint("key", name=op.f("uq_thanks_key")),
    )
    with op.batch_alter_table("thanks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_thanks_created_at"), ["created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_thanks_giver_id"), ["giver_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_thanks_receiver_id"), ["receiver_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_thanks_week"), ["week"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("thanks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_thanks_week"))
        batch_op.drop_index(batch_op.f("ix_thanks_receiver_id"))
        batch_op.drop_index(batch_op.f("ix_thanks_giver_id"))
        batch_op.drop_index(batch_op.f("ix_thanks_created_at"))

    op.drop_table("thanks")
    with op.batch_alter_table("redemption_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_redemption_notices_redemption_id"))

    op.drop_table("redemption_notices")
    with op.batch_alter_table("redemptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_redemptions_status"))
        batch_op.drop_index(batch_op.f("ix_redemptions_reward_id"))
        batch_op.drop_index(batch_op.f("ix_redemptions_employee_id"))
        batch_op.drop_index(batch_op.f("ix_redemptions_created_at"))

    op.drop_table("redemptions")
    with op.batch_alter_table("goal_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_goal_progress_goal_id"))

    op.drop_table("goal_progress")
    op.drop_table("goal_achievements")
    op.drop_table("goals")
    op.drop_table("settings")
    op.drop_table("rewards")
