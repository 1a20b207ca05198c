"""HQ's clock: the times HQ sets itself, aware and in UTC, and their text on the wire."""

from __future__ import annotations

from datetime import UTC, datetime


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 text for a UTC time, as it appears on the wire."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")
