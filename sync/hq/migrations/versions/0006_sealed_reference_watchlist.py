"""HQ store: device encryption keys, and the watchlist in its slow, truncated form.

Reference document version 2 (docs/PROTOCOL.md, "Reference data") seals rosters and the
watchlist to each device's encryption key, and replaces the watchlist's HMAC digests and the
key that travelled beside them with truncated Argon2id tags:

- ``devices.encryption_public_key``: the device's ML-KEM-768 + X25519 public key (1216 B), set
  by the device's first signed reference request that offers it (NULL until then);
- ``reference_state.watchlist_screening_key``: HMAC key of HQ's own full-length screening
  digests (``watchlist.digest``); it never leaves HQ;
- ``reference_state.watchlist_publication``: what devices are sent (salt, Argon2id cost,
  truncation, tags).

The old watchlist cannot be converted (HQ never kept the NIKs, and its key was sent to every
device): its digests and key are cleared and the reference version raised, so devices drop the
old form at their next sync. Operators import the watchlist again after upgrading
(docs/hq.md).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Add the columns, clear the scheme-1 watchlist, raise the reference version."""
    op.add_column("devices", sa.Column("encryption_public_key", sa.LargeBinary(), nullable=True))
    op.add_column(
        "reference_state",
        sa.Column("watchlist_screening_key", sa.LargeBinary(32), nullable=True),
    )
    op.add_column("reference_state", sa.Column("watchlist_publication", _json(), nullable=True))
    op.execute("DELETE FROM watchlist")
    op.execute(
        "UPDATE reference_state SET version = version + 1, watchlist_key = NULL, "
        "watchlist_updated_at = NULL WHERE id = 1"
    )


def downgrade() -> None:
    """Drop the columns (the watchlist stays empty: import it again)."""
    with op.batch_alter_table("reference_state") as batch:
        batch.drop_column("watchlist_publication")
        batch.drop_column("watchlist_screening_key")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("encryption_public_key")
