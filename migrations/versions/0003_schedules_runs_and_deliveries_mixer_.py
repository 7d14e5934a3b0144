"""schedules, runs and deliveries, mixer rounds

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mixer_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("topic", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mixer_rounds")),
        sa.UniqueConstraint("period", name=op.f("uq_mixer_rounds_period")),
    )
    op.create_table(
        "scheduled_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "status IN ('running', 'done', 'skipped')", name=op.f("ck_scheduled_runs_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_runs")),
        sa.UniqueConstraint("job", "period", name=op.f("uq_scheduled_runs_job")),
    )
    op.create_table(
        "schedules",
        sa.Column("job", sa.String(length=32), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("minute", sa.Integer(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.CheckConstraint("minute BETWEEN 0 AND 1439", name=op.f("ck_schedules_minute")),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_schedules_weekday")),
        sa.PrimaryKeyConstraint("job", name=op.f("pk_schedules")),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "status IN ('claimed', 'sent', 'failed')", name=op.f("ck_deliveries_status")
        ),
        sa.ForeignKeyConstraint(
            ["run_id"], ["scheduled_runs.id"], name=op.f("fk_deliveries_run_id_scheduled_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("run_id", "recipient", name=op.f("uq_deliveries_run_id")),
    )
    op.create_table(
        "mixer_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("prompt", sa.String(length=32), nullable=False),
        sa.Column("pain", sa.String(length=500), nullable=True),
        sa.Column("met_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["round_id"], ["mixer_rounds.id"], name=op.f("fk_mixer_groups_round_id_mixer_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mixer_groups")),
    )
    with op.batch_alter_table("mixer_groups", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mixer_groups_round_id"), ["round_id"], unique=False)

    op.create_table(
        "mixer_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_mixer_members_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["mixer_groups.id"], name=op.f("fk_mixer_members_group_id_mixer_groups")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mixer_members")),
        sa.UniqueConstraint("group_id", "employee_id", name=op.f("uq_mixer_members_group_id")),
    )
    with op.batch_alter_table("mixer_members", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_mixer_members_employee_id"), ["employee_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_mixer_members_group_id"), ["group_id"], unique=False)

    op.create_table(
        "mixer_waiting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("employee_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["employee_id"], ["employees.id"], name=op.f("fk_mixer_waiting_employee_id_employees")
        ),
        sa.ForeignKeyConstraint(
            ["round_id"], ["mixer_rounds.id"], name=op.f("fk_mixer_waiting_round_id_mixer_rounds")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mixer_waiting")),
        sa.UniqueConstraint("round_id", "employee_id", name=op.f("uq_mixer_waiting_round_id")),
    )


def downgrade() -> None:
    op.drop_table("mixer_waiting")
    with op.batch_alter_table("mixer_members", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mixer_members_group_id"))
        batch_op.drop_index(batch_op.f("ix_mixer_members_employee_id"))

    op.drop_table("mixer_members")
    with op.batch_alter_table("mixer_groups", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mixer_groups_round_id"))

    op.drop_table("mixer_groups")
    op.drop_table("deliveries")
    op.drop_table("schedules")
    op.drop_table("scheduled_runs")
    op.drop_table("mixer_rounds")
