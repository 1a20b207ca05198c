"""The time as the vault stores it."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> str:
    """The current time as stored: UTC, ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")
