"""HQ's tables: one SQLAlchemy Core schema for SQLite and PostgreSQL.

Alembic (``sync/hq/migrations``) creates and upgrades it; its ``env.py`` reads
:data:`metadata`. :class:`UTCDateTime` keeps HQ's own times aware and in UTC on both stores.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both stores (SQLite keeps naive text otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Store UTC; refuse naive datetimes, which would be ambiguous."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_type() -> sa.types.TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL."""
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


metadata = sa.MetaData()

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("device_id", sa.String(36), primary_key=True),
    sa.Column("vault_id", sa.String(36), nullable=False),
    sa.Column("public_key", sa.LargeBinary(32), nullable=False),
    sa.Column("enrolled_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Column("revoke_reason", sa.Text(), nullable=True),
    # Migration 0006: the device's ML-KEM-768 + X25519 key HQ seals reference data to (NULL
    # until the device's first signed reference request offers it).
    sa.Column("encryption_public_key", sa.LargeBinary(), nullable=True),
)

enroll_codes = sa.Table(
    "enroll_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime(), nullable=True),
    sa.Column("used_by", sa.String(36), nullable=True),
)

batches = sa.Table(
    "batches",
    metadata,
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
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("receipt", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("device_id", "batch_id", name="pk_batches"),
    sa.UniqueConstraint("device_id", "seq", name="uq_batches_device_seq"),
)

records = sa.Table(
    "records",
    metadata,
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
    sa.Column("data", json_type(), nullable=False),
    sa.Column("findings", json_type(), nullable=False),
    sa.PrimaryKeyConstraint("kind", "id", "version", name="pk_records"),
    sa.Index("ix_records_visit", "visit_id"),
    sa.Index("ix_records_device", "device_id", "batch_id"),
)

audit_entries = sa.Table(
    "audit_entries",
    metadata,
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

rejections = sa.Table(
    "rejections",
    metadata,
    sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("device_id", sa.String(64), nullable=True),
    sa.Column("batch_id", sa.String(64), nullable=True),
    sa.Column("seq", sa.BigInteger(), nullable=True),
    sa.Column("problem", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("client", sa.String(512), nullable=True),
    # True when HQ had verified the device's signature before refusing: only then is
    # ``device_id`` proven; otherwise it is what the request claimed (anyone can claim any id).
    sa.Column("device_verified", sa.Boolean(), nullable=False, server_default=sa.false()),
    # Migration 0005: refusals of unproven clients beyond the first few a minute are counted
    # in one row per minute, client and problem (``aggregate_key``), not a row each.
    sa.Column("count", sa.Integer(), nullable=False, server_default=sa.text("1")),
    sa.Column("last_at", UTCDateTime(), nullable=True),
    sa.Column("aggregate_key", sa.String(160), nullable=True),
    sa.Index("ix_rejections_at", "at"),
    sa.Index("ux_rejections_aggregate", "aggregate_key", unique=True),
    sa.Index("ix_rejections_device", "device_id"),
)

flags = sa.Table(
    "flags",
    metadata,
    sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("device_id", sa.String(36), nullable=False),
    sa.Column("batch_id", sa.String(36), nullable=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.Index("ix_flags_device", "device_id"),
)


# --- reference data (migration 0002) -------------------------------------------------------
# One row (id 1): the reference version, bumped in the same transaction as every change to
# what devices are sent, and what HQ publishes to every device.
reference_state = sa.Table(
    "reference_state",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("hq_kid", sa.String(16), nullable=True),
    sa.Column("fees", json_type(), nullable=True),
    sa.Column("fees_published_at", UTCDateTime(), nullable=True),
    # Scheme 1's key, sent to devices: cleared by migration 0006 and no longer used.
    sa.Column("watchlist_key", sa.LargeBinary(32), nullable=True),
    sa.Column("watchlist_updated_at", UTCDateTime(), nullable=True),
    # Migration 0006: the key of HQ's own screening digests (never leaves HQ), and what devices
    # are sent (salt, Argon2id cost, truncation, tags: sync.hq.screening).
    sa.Column("watchlist_screening_key", sa.LargeBinary(32), nullable=True),
    sa.Column("watchlist_publication", json_type(), nullable=True),
)

# HMAC-SHA256(watchlist_screening_key, NIK) in hex, full length, for HQ's re-screening at
# ingest (sync.hq.screening): HQ never stores the watchlist's NIKs themselves.
watchlist = sa.Table(
    "watchlist",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
)

roster_assignments = sa.Table(
    "roster_assignments",
    metadata,
    sa.Column("visit_id", sa.String(36), primary_key=True),
    sa.Column("device_id", sa.String(36), sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("assigned_at", UTCDateTime(), nullable=False),
    sa.Column("visit", json_type(), nullable=False),
    sa.Column("entries", json_type(), nullable=False),
    # Migration 0003: a withdrawn assignment is kept, never deleted or assigned again.
    sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
    sa.Column("withdraw_reason", sa.Text(), nullable=True),
    sa.Index("ix_roster_assignments_device", "device_id"),
)

# ``scope`` is a device id, or ``*`` for every device.
officer_revocations = sa.Table(
    "officer_revocations",
    metadata,
    sa.Column("officer_id", sa.String(32), nullable=False),
    sa.Column("scope", sa.String(36), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("officer_id", "scope", name="pk_officer_revocations"),
)
