"""HQ store: refusals of unproven clients counted per minute instead of a row each.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``rejections.count`` (1 for the rows already logged), ``last_at``, ``aggregate_key``."""
    op.add_column(
        "rejections",
        sa.Column("count", sa.Integer(), nullable=False, server_default=sa.text("1")),
    )
    op.add_column("rejections", sa.Column("last_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("rejections", sa.Column("aggregate_key", sa.String(160), nullable=True))
    op.create_index("ux_rejections_aggregate", "rejections", ["aggregate_key"], unique=True)


def downgrade() -> None:
    """Drop the three columns (aggregated rows stay, as one row each)."""
    op.drop_index("ux_rejections_aggregate", table_name="rejections")
    with op.batch_alter_table("rejections") as batch:
        batch.drop_column("aggregate_key")
        batch.drop_column("last_at")
        batch.drop_column("count")
