"""Roster assignments: assign a visit to a device, withdraw it, list them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sync.hq.store.clock import iso, now
from sync.hq.store.database import reading
from sync.hq.store.enrollment import get_device
from sync.hq.store.reference import bump_reference
from sync.hq.store.schema import roster_assignments


class UnknownDevice(LookupError):
    """No enrolled device has that id (or it is revoked, where that matters)."""


class AssignmentRefused(LookupError):
    """The visit id is unknown, already withdrawn, or (to assign) already used."""


def assign_roster(
    engine: Engine,
    device_id: str,
    visit_id: str,
    visit: Mapping[str, Any],
    entries: list[dict[str, Any]],
) -> tuple[int, datetime]:
    """Assign a visit and its roster entries to an active device; the new reference version.

    A visit id already used (assigned, or assigned and withdrawn) is refused with
    :class:`AssignmentRefused`: a withdrawn visit stays withdrawn.
    """
    moment = now()
    with engine.begin() as conn:
        device = get_device(conn, device_id, lock=True)
        if device is None:
            raise UnknownDevice(f"No device {device_id}.")
        if device.revoked:
            raise UnknownDevice(f"Device {device_id} is revoked.")
        _refuse_used_visit_id(conn, visit_id)
        conn.execute(
            roster_assignments.insert().values(
                visit_id=visit_id,
                device_id=device_id,
                assigned_at=moment,
                visit=dict(visit),
                entries=entries,
            )
        )
        version = bump_reference(conn)
    return version, moment


def _refuse_used_visit_id(conn: Connection, visit_id: str) -> None:
    """Raise :class:`AssignmentRefused` when ``visit_id`` was ever assigned."""
    withdrawn_at = conn.execute(
        sa.select(roster_assignments.c.withdrawn_at).where(
            roster_assignments.c.visit_id == visit_id
        )
    ).first()
    if withdrawn_at is None:
        return
    if withdrawn_at[0] is not None:
        raise AssignmentRefused(
            f"Visit {visit_id} was withdrawn at {iso(withdrawn_at[0])}; a withdrawn visit "
            "cannot be assigned again (assign a new visit instead)."
        )
    raise AssignmentRefused(f"Visit {visit_id} is already assigned.")


def withdraw_roster(engine: Engine, visit_id: str, reason: str) -> tuple[int, datetime, str]:
    """Withdraw an assigned visit; ``(reference version, withdrawn_at, device_id)``.

    The assignment is kept (``withdrawn_at``, ``withdraw_reason``) and no longer sent in
    ``rosters``; its device is told in ``withdrawn``. :class:`AssignmentRefused` for a visit
    never assigned or already withdrawn.
    """
    moment = now()
    with engine.begin() as conn:
        device_id = conn.execute(
            roster_assignments.update()
            .where(
                roster_assignments.c.visit_id == visit_id,
                roster_assignments.c.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=moment, withdraw_reason=reason)
            .returning(roster_assignments.c.device_id)
        ).scalar()
        if device_id is None:
            _refuse_withdrawal(conn, visit_id)
        version = bump_reference(conn)
    return version, moment, str(device_id)


def _refuse_withdrawal(conn: Connection, visit_id: str) -> None:
    """Raise :class:`AssignmentRefused` saying why ``visit_id`` cannot be withdrawn."""
    withdrawn_at = conn.execute(
        sa.select(roster_assignments.c.withdrawn_at).where(
            roster_assignments.c.visit_id == visit_id
        )
    ).scalar()
    if withdrawn_at is None:
        raise AssignmentRefused(f"No visit {visit_id} was assigned to a device.")
    raise AssignmentRefused(f"Visit {visit_id} was already withdrawn at {iso(withdrawn_at)}.")


def roster_list(engine: Engine, device_id: str | None = None) -> list[dict[str, Any]]:
    """Roster assignments (newest last, withdrawn ones included), optionally for one device."""
    query = sa.select(roster_assignments).order_by(
        roster_assignments.c.assigned_at, roster_assignments.c.visit_id
    )
    if device_id is not None:
        query = query.where(roster_assignments.c.device_id == device_id)
    with reading(engine) as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
