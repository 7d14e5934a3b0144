"""thanks looked up by giver and week

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_thanks_giver_id_week", "thanks", ["giver_id", "week"])
    op.drop_index(op.f("ix_thanks_giver_id"), table_name="thanks")


def downgrade() -> None:
    op.create_index(op.f("ix_thanks_giver_id"), "thanks", ["giver_id"])
    op.drop_index("ix_thanks_giver_id_week", table_name="thanks")
