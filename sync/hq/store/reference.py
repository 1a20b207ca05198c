"""The reference version and what raises it: HQ's key, fees, the watchlist, officer revocations.

Every change to what devices are sent raises the version in the same transaction
(:func:`bump_reference`); roster changes live in :mod:`sync.hq.store.rosters`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sync.hq.store.clock import now
from sync.hq.store.database import insert
from sync.hq.store.schema import officer_revocations, reference_state, watchlist


def _ensure_reference_row(conn: Connection) -> None:
    conn.execute(
        insert(conn, reference_state)
        .values(id=1, version=0, updated_at=now())
        .on_conflict_do_nothing(index_elements=["id"])
    )


def bump_reference(conn: Connection, **values: Any) -> int:
    """Raise the reference version (and set ``values``) in the caller's transaction.

    The row is locked until the transaction ends, so concurrent changes get distinct versions.
    """
    _ensure_reference_row(conn)
    return int(
        conn.execute(
            reference_state.update()
            .where(reference_state.c.id == 1)
            .values(version=reference_state.c.version + 1, updated_at=now(), **values)
            .returning(reference_state.c.version)
        ).scalar_one()
    )


def note_hq_keys(engine: Engine, current_kid: str) -> int:
    """Record HQ's current encryption kid; a change (a rotation) raises the reference version.

    Called by every worker at start; only the first to see a new kid raises the version.
    Returns the reference version.
    """
    with engine.begin() as conn:
        _ensure_reference_row(conn)
        conn.execute(
            reference_state.update()
            .where(
                reference_state.c.id == 1,
                sa.or_(reference_state.c.hq_kid.is_(None), reference_state.c.hq_kid != current_kid),
            )
            .values(version=reference_state.c.version + 1, updated_at=now(), hq_kid=current_kid)
        )
        return int(
            conn.execute(
                sa.select(reference_state.c.version).where(reference_state.c.id == 1)
            ).scalar_one()
        )


def publish_fees(engine: Engine, fees: Mapping[str, Any]) -> tuple[int, datetime]:
    """Publish fee schedules (already validated) to every device; the new reference version."""
    moment = now()
    with engine.begin() as conn:
        version = bump_reference(conn, fees=dict(fees), fees_published_at=moment)
    return version, moment


def replace_watchlist(
    engine: Engine, screening_key: bytes, digests: Iterable[str], publication: Mapping[str, Any]
) -> int:
    """Replace the watchlist; the new reference version.

    ``digests`` are HQ's full-length screening digests under ``screening_key`` (which never
    leaves HQ); ``publication`` is what devices are sent (:mod:`sync.hq.screening`).
    """
    rows = [{"digest": d} for d in sorted(set(digests))]
    with engine.begin() as conn:
        version = bump_reference(
            conn,
            watchlist_key=None,
            watchlist_screening_key=screening_key,
            watchlist_publication=dict(publication),
            watchlist_updated_at=now(),
        )
        conn.execute(watchlist.delete())
        for start in range(0, len(rows), 5000):
            conn.execute(watchlist.insert(), rows[start : start + 5000])
    return version


def revoke_officer(
    engine: Engine, officer_id: str, scope: str, reason: str | None
) -> tuple[datetime, bool]:
    """Revoke an officer on one device or on every device (``scope`` ``*``).

    Returns the revocation time and whether it is new (a second revocation keeps the first).
    """
    moment = now()
    with engine.begin() as conn:
        inserted = conn.execute(
            insert(conn, officer_revocations)
            .values(officer_id=officer_id, scope=scope, revoked_at=moment, reason=reason)
            .on_conflict_do_nothing()
            .returning(officer_revocations.c.officer_id)
        ).first()
        if inserted is not None:
            bump_reference(conn)
            return moment, True
        row = conn.execute(
            sa.select(officer_revocations.c.revoked_at).where(
                officer_revocations.c.officer_id == officer_id,
                officer_revocations.c.scope == scope,
            )
        ).scalar_one()
        return row, False
