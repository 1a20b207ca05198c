"""HQ store, reference data: its version, fees, watchlist digests, rosters, officer revocations.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the reference-data tables."""
    op.create_table(
        "reference_state",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", _utc(), nullable=False),
        sa.Column("hq_kid", sa.String(16), nullable=True),
        sa.Column("fees", _json(), nullable=True),
        sa.Column("fees_published_at", _utc(), nullable=True),
        sa.Column("watchlist_key", sa.LargeBinary(32), nullable=True),
        sa.Column("watchlist_updated_at", _utc(), nullable=True),
    )
    op.create_table(
        "watchlist",
        sa.Column("digest", sa.String(64), primary_key=True),
    )
    op.create_table(
        "roster_assignments",
        sa.Column("visit_id", sa.String(36), primary_key=True),
        sa.Column("device_id", sa.String(36), sa.ForeignKey("devices.device_id"), nullable=False),
        sa.Column("assigned_at", _utc(), nullable=False),
        sa.Column("visit", _json(), nullable=False),
        sa.Column("entries", _json(), nullable=False),
    )
    op.create_index("ix_roster_assignments_device", "roster_assignments", ["device_id"])
    op.create_table(
        "officer_revocations",
        sa.Column("officer_id", sa.String(32), nullable=False),
        sa.Column("scope", sa.String(36), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("officer_id", "scope", name="pk_officer_revocations"),
    )


def downgrade() -> None:
    """Drop the reference-data tables."""
    op.drop_index("ix_roster_assignments_device", table_name="roster_assignments")
    for table in ("officer_revocations", "roster_assignments", "watchlist", "reference_state"):
        op.drop_table(table)
