"""HQ store, first schema: devices, enrollment codes, batches, records, audit, rejections, flags.

Revision ID: 0001
Revises:
Create Date: 2025-01-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _utc() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create every table."""
    op.create_table(
        "devices",
        sa.Column("device_id", sa.String(36), primary_key=True),
        sa.Column("vault_id", sa.String(36), nullable=False),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column("enrolled_at", _utc(), nullable=False),
        sa.Column("revoked_at", _utc(), nullable=True),
        sa.Column("revoke_reason", sa.Text(), nullable=True),
    )
    op.create_table(
        "enroll_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("created_at", _utc(), nullable=False),
        sa.Column("expires_at", _utc(), nullable=False),
        sa.Column("used_at", _utc(), nullable=True),
        sa.Column("used_by", sa.String(36), nullable=True),
    )
    op.create_table(
        "batches",
        sa.Column("device_id", sa.String(36), sa.ForeignKey("devices.device_id"), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("ct_sha256", sa.String(64), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.String(64), nullable=False),
        sa.Column("hq_kid", sa.String(16), nullable=False),
        sa.Column("outbox_first", sa.BigInteger(), nullable=True),
        sa.Column("outbox_last", sa.BigInteger(), nullable=True),
        sa.Column("audit_first", sa.BigInteger(), nullable=True),
        sa.Column("audit_last", sa.BigInteger(), nullable=True),
        sa.Column("audit_head", sa.String(64), nullable=True),
        sa.Column("received_at", _utc(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("receipt", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "batch_id", name="pk_batches"),
        sa.UniqueConstraint("device_id", "seq", name="uq_batches_device_seq"),
    )
    op.create_table(
        "records",
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("outbox_seq", sa.BigInteger(), nullable=False),
        sa.Column("visit_id", sa.String(64), nullable=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("officer_id", sa.String(64), nullable=True),
        sa.Column("at", sa.String(64), nullable=False),
        sa.Column("data", _json(), nullable=False),
        sa.Column("findings", _json(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "id", "version", name="pk_records"),
    )
    op.create_index("ix_records_visit", "records", ["visit_id"])
    op.create_index("ix_records_device", "records", ["device_id", "batch_id"])
    op.create_table(
        "audit_entries",
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("at", sa.String(64), nullable=False),
        sa.Column("officer_id", sa.String(64), nullable=True),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "seq", name="pk_audit_entries"),
    )
    op.create_table(
        "rejections",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=True),
        sa.Column("batch_id", sa.String(64), nullable=True),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("problem", sa.String(64), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("client", sa.String(512), nullable=True),
    )
    op.create_index("ix_rejections_at", "rejections", ["at"])
    op.create_index("ix_rejections_device", "rejections", ["device_id"])
    op.create_table(
        "flags",
        sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
        sa.Column("at", _utc(), nullable=False),
        sa.Column("device_id", sa.String(36), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=True),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("resolved_at", _utc(), nullable=True),
    )
    op.create_index("ix_flags_device", "flags", ["device_id"])


def downgrade() -> None:
    """Drop every table."""
    for table in ("flags", "rejections", "audit_entries", "records", "batches"):
        op.drop_table(table)
    op.drop_table("enroll_codes")
    op.drop_table("devices")
