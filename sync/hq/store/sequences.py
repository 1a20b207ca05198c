"""Batch sequence numbers: what arrived, the gaps, and what blocks retiring an HQ key.

A device's :class:`Checkpoint` tells it which batches HQ holds and which are missing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sync.hq.store.database import reading
from sync.hq.store.schema import batches, devices


def seqs(conn: Connection, device_id: str) -> list[int]:
    """The batch sequence numbers received from a device, ascending."""
    rows = conn.execute(
        sa.select(batches.c.seq).where(batches.c.device_id == device_id).order_by(batches.c.seq)
    )
    return [int(row[0]) for row in rows]


def missing_seqs(received: Iterable[int]) -> list[int]:
    """Numbers between 1 and the highest received one that have not arrived."""
    present = sorted(set(received))
    missing: list[int] = []
    expected = 1
    for seq in present:
        missing.extend(range(expected, seq))
        expected = seq + 1
    return missing


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What HQ holds of a device's batches."""

    next_seq: int
    received: list[int]
    missing: list[int]


def checkpoint(conn: Connection, device_id: str) -> Checkpoint:
    """``next_seq``, the seqs received beyond the first gap, and the missing ones."""
    present = seqs(conn, device_id)
    missing = missing_seqs(present)
    beyond = [s for s in present if missing and s > missing[0]]
    return Checkpoint(
        next_seq=(present[-1] + 1) if present else 1, received=beyond, missing=missing
    )


def retirement_blockers(engine: Engine, kid: str, newer: Iterable[str]) -> list[tuple[str, str]]:
    """Active devices that may still send batches sealed to HQ key ``kid``, with the reason.

    A device cuts each batch once and resends it byte for byte, so every batch it sealed to
    ``kid`` before it learned of a newer key must arrive before ``kid`` is retired, or it is
    refused forever. A device is clear once HQ holds a batch of it sealed to a ``newer`` key
    with no sequence number missing below it: every later batch was cut after it. Enrollment time
    proves nothing (a worker not yet restarted after a rotation still hands out the old key),
    so a device that has sent nothing since blocks too: let it sync, or revoke it.
    """
    newer_kids = set(newer)
    blockers: list[tuple[str, str]] = []
    with reading(engine, snapshot=True) as conn:
        active = conn.execute(
            sa.select(devices.c.device_id)
            .where(devices.c.revoked_at.is_(None))
            .order_by(devices.c.enrolled_at, devices.c.device_id)
        ).scalars()
        for device_id in list(active):
            rows = conn.execute(
                sa.select(batches.c.seq, batches.c.hq_kid).where(batches.c.device_id == device_id)
            ).all()
            after = [int(seq) for seq, batch_kid in rows if batch_kid in newer_kids]
            if not after:
                blockers.append((device_id, f"has sent no batch sealed to a key newer than {kid}"))
                continue
            gaps = [n for n in missing_seqs(int(seq) for seq, _ in rows) if n < max(after)]
            if gaps:
                blockers.append((device_id, f"batches {_listed(gaps)} have not arrived"))
    return blockers


def _listed(numbers: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f" … ({len(numbers)} in all)" if len(numbers) > limit else "")
