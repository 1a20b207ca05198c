"""Reading reference data: what HQ publishes to one device, and the counts for ``status``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sync.hq.store.clock import iso
from sync.hq.store.database import reading
from sync.hq.store.enrollment import Device, _device
from sync.hq.store.schema import (
    devices,
    officer_revocations,
    reference_state,
    roster_assignments,
    watchlist,
)


@dataclass(frozen=True, slots=True)
class ReferenceSnapshot:
    """What HQ publishes to one device, read in one snapshot."""

    version: int
    hq_kid: str | None
    fees: dict[str, Any] | None
    fees_published_at: datetime | None
    watchlist_updated_at: datetime | None
    # What devices are sent of the watchlist (sync.hq.screening), or None before an import.
    watchlist_publication: dict[str, Any] | None
    rosters: list[Mapping[str, Any]]
    revoked_devices: list[Device]
    withdrawn: list[Mapping[str, Any]]
    revoked_officers: list[Mapping[str, Any]]


def reference_snapshot(conn: Connection, device_id: str) -> ReferenceSnapshot:
    """The reference data for ``device_id`` (call inside ``reading(engine, snapshot=True)``)."""
    state = conn.execute(sa.select(reference_state).where(reference_state.c.id == 1)).first()
    assigned = [
        dict(row._mapping)
        for row in conn.execute(
            sa.select(roster_assignments)
            .where(roster_assignments.c.device_id == device_id)
            .order_by(roster_assignments.c.assigned_at, roster_assignments.c.visit_id)
        )
    ]
    rosters = [r for r in assigned if r["withdrawn_at"] is None]
    withdrawn = sorted(
        (r for r in assigned if r["withdrawn_at"] is not None),
        key=lambda r: (r["withdrawn_at"], r["visit_id"]),
    )
    revoked = [
        _device(row)
        for row in conn.execute(
            sa.select(devices)
            .where(devices.c.revoked_at.is_not(None))
            .order_by(devices.c.revoked_at, devices.c.device_id)
        )
    ]
    officers = [
        dict(row._mapping)
        for row in conn.execute(
            sa.select(officer_revocations)
            .where(officer_revocations.c.scope.in_(("*", device_id)))
            .order_by(officer_revocations.c.officer_id, officer_revocations.c.scope)
        )
    ]
    return ReferenceSnapshot(
        version=int(state.version) if state is not None else 0,
        hq_kid=state.hq_kid if state is not None else None,
        fees=state.fees if state is not None else None,
        fees_published_at=state.fees_published_at if state is not None else None,
        watchlist_updated_at=state.watchlist_updated_at if state is not None else None,
        watchlist_publication=state.watchlist_publication if state is not None else None,
        rosters=rosters,
        revoked_devices=revoked,
        withdrawn=withdrawn,
        revoked_officers=officers,
    )


def reference_summary(engine: Engine) -> dict[str, object]:
    """Counts for ``fieldkit-hq status``: version, fees, watchlist size, rosters, revocations.

    ``roster_assignments`` counts every assignment, ``roster_withdrawn`` those withdrawn.
    """
    with reading(engine) as conn:
        state = conn.execute(sa.select(reference_state).where(reference_state.c.id == 1)).first()
        watchlist_size = conn.execute(sa.select(sa.func.count()).select_from(watchlist)).scalar()
        assignments = conn.execute(
            sa.select(sa.func.count()).select_from(roster_assignments)
        ).scalar()
        withdrawn = conn.execute(
            sa.select(sa.func.count())
            .select_from(roster_assignments)
            .where(roster_assignments.c.withdrawn_at.is_not(None))
        ).scalar()
        officers = conn.execute(
            sa.select(sa.func.count()).select_from(officer_revocations)
        ).scalar()
    fees_at = state.fees_published_at if state is not None else None
    return {
        "version": int(state.version) if state is not None else 0,
        "fees_published_at": iso(fees_at) if fees_at else None,
        "watchlist": int(watchlist_size or 0),
        "roster_assignments": int(assignments or 0),
        "roster_withdrawn": int(withdrawn or 0),
        "revoked_officers": int(officers or 0),
    }
