"""HQ store: whether a rejection's device was proven by its signature or only claimed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    """Add ``rejections.device_verified`` (false for the rows already logged: unknown then)."""
    op.add_column(
        "rejections",
        sa.Column("device_verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade() -> None:
    """Drop ``device_verified``."""
    with op.batch_alter_table("rejections") as batch:
        batch.drop_column("device_verified")
