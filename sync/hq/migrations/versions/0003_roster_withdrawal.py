"""HQ store, roster withdrawal: when and why HQ took an assigned visit back.

Revision ID: 0003
Revises: 0002
Create Date: 2025-01-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add the nullable ``withdrawn_at`` and ``withdraw_reason`` to ``roster_assignments``.

    Existing assignments keep their rows and stay assigned (both columns ``NULL``).
    """
    op.add_column(
        "roster_assignments",
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.add_column("roster_assignments", sa.Column("withdraw_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    """Drop the withdrawal columns (withdrawn visits would read as assigned again)."""
    with op.batch_alter_table("roster_assignments") as batch:
        batch.drop_column("withdraw_reason")
        batch.drop_column("withdrawn_at")
