"""Problems on record: refused requests (rejections) and flags raised for HQ staff.

Refusals of a client whose device signature HQ had not verified (anyone on the network can
send them) are bounded, so a flood cannot fill HQ's store: per worker and minute, the first
:data:`ROWS_PER_SOURCE` refusals of one client and problem get a row each, with their details,
and at most :data:`ROWS_PER_MINUTE` such rows are written in all; every further refusal is
counted in one row per minute, client and problem (``count``, ``last_at``; clients beyond
:data:`SOURCES_PER_MINUTE` share the client ``*``), in memory first and written every few
seconds (:func:`flush_rejection_counts`), so a flood costs no write per request.
:func:`prune_rejections` drops rows older than the retention period and the oldest beyond
:data:`MAX_REJECTION_ROWS`. Refusals of a
verified device (an enrolled device's own key signed what was refused) always get a row.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from sync.hq.store.clock import now
from sync.hq.store.database import insert
from sync.hq.store.schema import flags, rejections

ROWS_PER_SOURCE = 60
ROWS_PER_MINUTE = 600
SOURCES_PER_MINUTE = 100
MAX_REJECTION_ROWS = 100_000


@dataclass
class _Budget:
    """Rows for unverified refusals this worker wrote in the current minute."""

    minute: str = ""
    rows: int = 0
    per_source: dict[tuple[str, str], int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Counted rows this worker has written, and the refusals counted since (not yet written:
    # a flood must not cost a write each; :func:`flush_rejection_counts` writes them).
    written: set[str] = field(default_factory=set)
    pending: dict[str, int] = field(default_factory=dict)

    def count_if_written(self, key: str) -> bool:
        """Count one more refusal under ``key`` in memory if its row exists; False if not."""
        with self.lock:
            if key not in self.written:
                return False
            self.pending[key] = self.pending.get(key, 0) + 1
            return True

    def take_pending(self) -> dict[str, int]:
        """The refusals counted in memory since the last call."""
        with self.lock:
            pending, self.pending = self.pending, {}
            return pending

    def aggregate_key(self, minute: str, client: str, problem: str) -> str | None:
        """None: this refusal gets a row of its own; else the key of the row that counts it."""
        with self.lock:
            if minute != self.minute:
                self.minute, self.rows, self.per_source = minute, 0, {}
                self.written = {k for k in self.written if k.startswith(minute)}
            source = (client, problem)
            if source not in self.per_source and len(self.per_source) >= SOURCES_PER_MINUTE:
                return f"{minute}|*|{problem}"
            seen = self.per_source[source] = self.per_source.get(source, 0) + 1
            if seen <= ROWS_PER_SOURCE and self.rows < ROWS_PER_MINUTE:
                self.rows += 1
                return None
            return f"{minute}|{client}|{problem}"[:160]


# One budget per store (a process serves one; tests hold several).
_BUDGETS: dict[str, _Budget] = {}
_BUDGETS_LOCK = threading.Lock()


def _budget(engine: Engine) -> _Budget:
    key = engine.url.render_as_string(hide_password=True)
    with _BUDGETS_LOCK:
        return _BUDGETS.setdefault(key, _Budget())


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
) -> bool:
    """Log a refused request (its own transaction, so it survives the refusal).

    ``device_verified``: HQ had verified the device's signature before refusing, so
    ``device_id`` is proven rather than merely claimed. Returns True when the refusal got a row
    of its own or began a counted one (worth a log line), False when it was only counted.
    """
    moment = now()
    values = {
        "at": moment,
        "device_id": _clip(device_id, 64),
        "batch_id": _clip(batch_id, 64),
        "seq": seq,
        "problem": problem,
        "status": status,
        "detail": detail,
        "client": _clip(client, 512),
        "device_verified": device_verified,
    }
    key = None
    if not device_verified:
        budget = _budget(engine)
        key = budget.aggregate_key(moment.strftime("%Y-%m-%dT%H:%M"), client or "-", problem)
        if key is not None and budget.count_if_written(key):
            return False
    with engine.begin() as conn:
        if key is None:
            conn.execute(rejections.insert().values(**values))
            return True
        statement = insert(conn, rejections).values(**values, aggregate_key=key, last_at=moment)
        counted = conn.execute(
            statement.on_conflict_do_update(
                index_elements=[rejections.c.aggregate_key],
                set_={"count": rejections.c.count + 1, "last_at": moment},
            ).returning(rejections.c.count)
        ).scalar_one()
    budget = _budget(engine)
    with budget.lock:
        budget.written.add(key)
    return int(counted) == 1  # another worker may have written it first


def flush_rejection_counts(engine: Engine) -> int:
    """Write the refusals counted in memory into their rows; how many were written.

    HQ's app calls it every few seconds and when it stops; refusals counted since the last call
    are lost if the worker dies (they were counted, never detailed).
    """
    pending = _budget(engine).take_pending()
    if not pending:
        return 0
    moment = now()
    with engine.begin() as conn:
        for key, counted in pending.items():
            conn.execute(
                rejections.update()
                .where(rejections.c.aggregate_key == key)
                .values(count=rejections.c.count + counted, last_at=moment)
            )
    return sum(pending.values())


def prune_rejections(
    engine: Engine, retention_days: int, max_rows: int = MAX_REJECTION_ROWS
) -> int:
    """Drop rejections older than ``retention_days`` and the oldest beyond ``max_rows``.

    Returns the rows dropped.
    """
    cutoff = now() - timedelta(days=retention_days)
    last = sa.func.coalesce(rejections.c.last_at, rejections.c.at)
    with engine.begin() as conn:
        dropped = conn.execute(rejections.delete().where(last < cutoff)).rowcount or 0
        newest_dropped = conn.execute(
            sa.select(rejections.c.id).order_by(rejections.c.id.desc()).offset(max_rows).limit(1)
        ).scalar()
        if newest_dropped is not None:
            dropped += (
                conn.execute(rejections.delete().where(rejections.c.id <= newest_dropped)).rowcount
                or 0
            )
    return int(dropped)


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
