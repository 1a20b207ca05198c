"""The status report: what HQ holds of each device, open flags, rejections by problem.

Per device: batches, the last seq, missing seqs, records and unverified audit entries; and
what HQ holds of every record at its latest version, counted by kind and state.
"""

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
from sync.hq.store.schema import audit_entries, batches, devices, flags, records, rejections
from sync.hq.store.sequences import missing_seqs


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """One device's line in ``fieldkit-hq status`` and ``device list``."""

    device: Device
    batches: int
    last_seq: int | None
    last_received_at: datetime | None
    missing: list[int]
    records: int
    audit_unverified: int

    def as_json(self) -> dict[str, object]:
        """JSON-ready fields."""
        d = self.device
        return {
            "device_id": d.device_id,
            "vault_id": d.vault_id,
            "enrolled_at": iso(d.enrolled_at),
            "revoked_at": iso(d.revoked_at) if d.revoked_at else None,
            "revoke_reason": d.revoke_reason,
            "batches": self.batches,
            "last_seq": self.last_seq,
            "last_received_at": iso(self.last_received_at) if self.last_received_at else None,
            "missing": self.missing,
            "records": self.records,
            "audit_unverified": self.audit_unverified,
        }


def device_statuses(engine: Engine) -> list[DeviceStatus]:
    """Per device: batches, last seq, missing seqs, records and unverified audit entries."""
    with reading(engine) as conn:
        all_seqs: dict[str, list[int]] = {}
        last_at: dict[str, datetime] = {}
        for row in conn.execute(
            sa.select(batches.c.device_id, batches.c.seq, batches.c.received_at).order_by(
                batches.c.device_id, batches.c.seq
            )
        ):
            all_seqs.setdefault(row.device_id, []).append(int(row.seq))
            if row.device_id not in last_at or row.received_at > last_at[row.device_id]:
                last_at[row.device_id] = row.received_at
        record_counts = _counts(conn, records, records.c.device_id)
        unverified = _counts(
            conn, audit_entries, audit_entries.c.device_id, audit_entries.c.verified.is_(False)
        )
        rows = conn.execute(sa.select(devices).order_by(devices.c.enrolled_at))
        out = []
        for row in rows:
            present = all_seqs.get(row.device_id, [])
            out.append(
                DeviceStatus(
                    device=_device(row),
                    batches=len(present),
                    last_seq=present[-1] if present else None,
                    last_received_at=last_at.get(row.device_id),
                    missing=missing_seqs(present),
                    records=record_counts.get(row.device_id, 0),
                    audit_unverified=unverified.get(row.device_id, 0),
                )
            )
        return out


def _counts(
    conn: Connection, table: sa.Table, key: sa.Column[Any], *where: sa.ColumnElement[bool]
) -> dict[str, int]:
    query = sa.select(key, sa.func.count()).select_from(table).where(*where).group_by(key)
    return {row[0]: int(row[1]) for row in conn.execute(query)}


def received_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Records HQ holds, each at its latest version, counted by kind and then by state.

    ``{"applicant": {"accepted": 49, "pending_documents": 6, …}, "roster": {…}, …}``: what the
    devices' work came to, whatever number of versions it took to get there.
    """
    latest = (
        sa.select(records.c.kind, records.c.id, sa.func.max(records.c.version).label("version"))
        .group_by(records.c.kind, records.c.id)
        .subquery()
    )
    query = (
        sa.select(records.c.kind, records.c.state, sa.func.count())
        .select_from(
            records.join(
                latest,
                sa.and_(
                    records.c.kind == latest.c.kind,
                    records.c.id == latest.c.id,
                    records.c.version == latest.c.version,
                ),
            )
        )
        .group_by(records.c.kind, records.c.state)
        .order_by(records.c.kind, records.c.state)
    )
    counts: dict[str, dict[str, int]] = {}
    with reading(engine) as conn:
        for kind, state, count in conn.execute(query):
            counts.setdefault(str(kind), {})[str(state)] = int(count)
    return counts


def open_flags(engine: Engine) -> list[Mapping[str, Any]]:
    """Unresolved flags, oldest first."""
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(flags).where(flags.c.resolved_at.is_(None)).order_by(flags.c.id)
        )
        return [dict(row._mapping) for row in rows]


def rejection_counts(engine: Engine, since: datetime) -> dict[str, int]:
    """Refusals since ``since``, by problem type (counted rows count as often as they say)."""
    with reading(engine) as conn:
        query = (
            sa.select(rejections.c.problem, sa.func.sum(rejections.c.count))
            .where(sa.func.coalesce(rejections.c.last_at, rejections.c.at) >= since)
            .group_by(rejections.c.problem)
        )
        return {row[0]: int(row[1]) for row in conn.execute(query)}
