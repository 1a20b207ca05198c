"""Problems on record: refused requests (rejections) and flags raised for HQ staff."""

from __future__ import annotations

from sqlalchemy.engine import Connection, Engine

from sync.hq.store.clock import now
from sync.hq.store.schema import flags, rejections


def add_rejection(
    engine: Engine,
    *,
    problem: str,
    status: int,
    detail: str,
    client: str | None,
    device_id: str | None = None,
    batch_id: str | None = None,
    seq: int | None = None,
    device_verified: bool = False,
) -> None:
    """Log a refused request (its own transaction, so it survives the refusal).

    ``device_verified``: HQ had verified the device's signature before refusing, so
    ``device_id`` is proven rather than merely claimed.
    """
    with engine.begin() as conn:
        conn.execute(
            rejections.insert().values(
                at=now(),
                device_id=_clip(device_id, 64),
                batch_id=_clip(batch_id, 64),
                seq=seq,
                problem=problem,
                status=status,
                detail=detail,
                client=_clip(client, 512),
                device_verified=device_verified,
            )
        )


def add_flag(
    conn: Connection, device_id: str, kind: str, detail: str, batch_id: str | None = None
) -> None:
    """Raise a flag for HQ staff inside the caller's transaction."""
    conn.execute(
        flags.insert().values(
            at=now(), device_id=device_id, batch_id=batch_id, kind=kind, detail=detail
        )
    )


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None
