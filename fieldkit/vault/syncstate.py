"""What the vault remembers about syncing with HQ: the enrollment and the sealed batches.

The enrollment (HQ's URL and the HQ keys pinned when the device enrolled) is kept in ``meta``
under ``hq_*`` keys. Each batch is cut once and stored whole in ``sync_batches`` with its batch
id and the outbox and audit ranges it carries, so a retry, even after a crash, resends the same
bytes and HQ can recognise a duplicate. A batch is acknowledged when HQ's signed receipt is
stored beside it; acknowledged batches are never sent again.

This module only stores and reads; building, sealing and sending batches is the ``sync``
package's work. Nothing here is personal data: envelopes are encrypted to HQ, receipts carry ids,
counts and hashes.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from fieldkit.vault import audit, db
from fieldkit.vault.vault import Session, Vault, now

_BATCH_COLUMNS = (
    "seq, batch_id, outbox_first, outbox_last, audit_first, audit_last, item_count, hq_kid, "
    "ct_sha256, created_at, receipt, acked_at, attempts, last_error"
)


@dataclass(frozen=True, slots=True)
class Enrollment:
    """The HQ this device is enrolled with, and the HQ keys pinned at enrollment."""

    hq_url: str
    hq_kid: str
    hq_encryption_public_key: bytes
    hq_signing_public_key: bytes
    enrolled_at: str


@dataclass(frozen=True, slots=True)
class StoredBatch:
    """One cut batch as the vault keeps it (without its envelope bytes; see :func:`envelope`)."""

    seq: int
    batch_id: str
    outbox: tuple[int, int] | None
    audit: tuple[int, int] | None
    count: int
    hq_kid: str
    ct_sha256: str
    created_at: str
    receipt: dict[str, object] | None
    acked_at: str | None
    attempts: int
    last_error: str | None

    @property
    def acked(self) -> bool:
        """True once HQ's verified receipt is stored."""
        return self.acked_at is not None


@dataclass(frozen=True, slots=True)
class NewBatch:
    """A sealed batch about to be stored."""

    seq: int
    batch_id: str
    outbox: tuple[int, int] | None
    audit: tuple[int, int] | None
    count: int
    hq_kid: str
    ct_sha256: str
    envelope: bytes
    created_at: str


@dataclass(frozen=True, slots=True)
class SyncSummary:
    """Counts for a status report: no passphrase needed."""

    batches: int
    acked: int
    unacked: int
    outbox_waiting: int
    audit_waiting: int
    last_acked_at: str | None


# -- enrollment ------------------------------------------------------------------------------


def enrollment(vault: Vault) -> Enrollment | None:
    """The pinned enrollment, or None when the device has not enrolled."""
    meta = vault.meta
    if "hq_kid" not in meta:
        return None
    return Enrollment(
        hq_url=meta["hq_url"],
        hq_kid=meta["hq_kid"],
        hq_encryption_public_key=bytes.fromhex(meta["hq_encryption_public_key"]),
        hq_signing_public_key=bytes.fromhex(meta["hq_signing_public_key"]),
        enrolled_at=meta["hq_enrolled_at"],
    )


def save_enrollment(session: Session, pinned: Enrollment, detail: dict[str, object]) -> None:
    """Pin HQ's keys and audit the enrollment, in one transaction."""
    values = {
        "hq_url": pinned.hq_url,
        "hq_kid": pinned.hq_kid,
        "hq_encryption_public_key": pinned.hq_encryption_public_key.hex(),
        "hq_signing_public_key": pinned.hq_signing_public_key.hex(),
        "hq_enrolled_at": pinned.enrolled_at,
    }
    vault = session.vault
    with db.transaction(vault.conn):
        vault.conn.executemany(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", values.items()
        )
        audit.append(
            vault.conn,
            vault.vault_id,
            session.officer_id,
            "device_enrolled",
            f"device:{vault.device_id}",
            {"hq_url": pinned.hq_url, "hq_kid": pinned.hq_kid, **detail},
        )
    vault.reload_meta()


# -- what is waiting -------------------------------------------------------------------------


def last_batched(conn: sqlite3.Connection) -> tuple[int, int]:
    """The last outbox number and the last audit seq already in a batch (0 when none)."""
    row = conn.execute(
        "SELECT COALESCE(MAX(outbox_last), 0), COALESCE(MAX(audit_last), 0) FROM sync_batches"
    ).fetchone()
    return int(row[0]), int(row[1])


def next_batch_seq(conn: sqlite3.Connection) -> int:
    """The per-device number the next batch gets (gapless: batches are never deleted)."""
    return int(conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM sync_batches").fetchone()[0])


def waiting(conn: sqlite3.Connection) -> tuple[int, int]:
    """How many outbox entries and audit entries are in no batch yet."""
    outbox_last, audit_last = last_batched(conn)
    outbox_waiting = conn.execute(
        "SELECT COUNT(*) FROM outbox WHERE seq > ?", (outbox_last,)
    ).fetchone()[0]
    audit_waiting = conn.execute(
        "SELECT COUNT(*) FROM audit WHERE seq > ?", (audit_last,)
    ).fetchone()[0]
    return int(outbox_waiting), int(audit_waiting)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One audit entry as it travels (HQ recomputes the hash) and its stored hash."""

    seq: int
    at: str
    officer_id: str | None
    action: str
    subject: str | None
    detail: str
    hash: bytes


def unbatched_outbox(
    conn: sqlite3.Connection, after: int, limit: int
) -> list[tuple[int, str, str, int]]:
    """Outbox entries ``(seq, kind, id, version)`` numbered after ``after``, in order."""
    return conn.execute(
        "SELECT seq, kind, id, version FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
        (after, limit),
    ).fetchall()


def unbatched_audit(conn: sqlite3.Connection, after: int, limit: int) -> list[AuditEntry]:
    """Audit entries after seq ``after``, in order."""
    rows = conn.execute(
        "SELECT seq, at, officer_id, action, subject, detail, hash FROM audit WHERE seq > ? "
        "ORDER BY seq LIMIT ?",
        (after, limit),
    )
    return [AuditEntry(*row) for row in rows]


def audit_waiting_except(conn: sqlite3.Connection, after: int, actions: frozenset[str]) -> bool:
    """True when an audit entry after seq ``after`` has an action not in ``actions``."""
    marks = ", ".join("?" * len(actions)) or "NULL"
    row = conn.execute(
        f"SELECT EXISTS (SELECT 1 FROM audit WHERE seq > ? AND action NOT IN ({marks}))",
        (after, *sorted(actions)),
    ).fetchone()
    return bool(row[0])


# -- batches ---------------------------------------------------------------------------------


def insert_batch(conn: sqlite3.Connection, batch: NewBatch) -> None:
    """Store a newly cut batch, inside the caller's transaction."""
    conn.execute(
        "INSERT INTO sync_batches (seq, batch_id, outbox_first, outbox_last, audit_first, "
        "audit_last, item_count, hq_kid, ct_sha256, envelope, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            batch.seq,
            batch.batch_id,
            *(batch.outbox or (None, None)),
            *(batch.audit or (None, None)),
            batch.count,
            batch.hq_kid,
            batch.ct_sha256,
            batch.envelope,
            batch.created_at,
        ),
    )


def _batch(row: tuple[object, ...]) -> StoredBatch:
    (seq, batch_id, o_first, o_last, a_first, a_last, count, kid, ct, created, receipt, acked) = (
        row[:12]
    )
    return StoredBatch(
        seq=int(seq),  # type: ignore[arg-type]
        batch_id=str(batch_id),
        outbox=None if o_first is None else (int(o_first), int(o_last)),  # type: ignore[arg-type]
        audit=None if a_first is None else (int(a_first), int(a_last)),  # type: ignore[arg-type]
        count=int(count),  # type: ignore[arg-type]
        hq_kid=str(kid),
        ct_sha256=str(ct),
        created_at=str(created),
        receipt=json.loads(receipt) if receipt else None,  # type: ignore[arg-type]
        acked_at=acked,  # type: ignore[arg-type]
        attempts=int(row[12]),  # type: ignore[arg-type]
        last_error=row[13],  # type: ignore[arg-type]
    )


def batches(conn: sqlite3.Connection, *, unacked_only: bool = False) -> list[StoredBatch]:
    """Stored batches in seq order (only those without a receipt when ``unacked_only``)."""
    where = " WHERE acked_at IS NULL" if unacked_only else ""
    rows = conn.execute(f"SELECT {_BATCH_COLUMNS} FROM sync_batches{where} ORDER BY seq")
    return [_batch(row) for row in rows]


def batch(conn: sqlite3.Connection, seq: int) -> StoredBatch | None:
    """One stored batch by its seq."""
    row = conn.execute(
        f"SELECT {_BATCH_COLUMNS} FROM sync_batches WHERE seq = ?", (seq,)
    ).fetchone()
    return _batch(row) if row else None


def batch_by_id(conn: sqlite3.Connection, batch_id: str) -> StoredBatch | None:
    """One stored batch by its batch id."""
    row = conn.execute(
        f"SELECT {_BATCH_COLUMNS} FROM sync_batches WHERE batch_id = ?", (batch_id,)
    ).fetchone()
    return _batch(row) if row else None


def envelope(conn: sqlite3.Connection, seq: int) -> bytes:
    """The sealed bytes of a stored batch, exactly as cut."""
    return bytes(
        conn.execute("SELECT envelope FROM sync_batches WHERE seq = ?", (seq,)).fetchone()[0]
    )


def record_attempt(conn: sqlite3.Connection, seq: int, error: str | None) -> None:
    """Count a send attempt and keep its error (None on success); its own small transaction."""
    with db.transaction(conn):
        conn.execute(
            "UPDATE sync_batches SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
            (error, seq),
        )


def acknowledge(conn: sqlite3.Connection, seq: int, receipt: dict[str, object]) -> bool:
    """Store HQ's verified receipt and the acknowledgement time in one transaction.

    Returns False when the batch was already acknowledged (the first receipt is kept).
    """
    with db.transaction(conn):
        updated = conn.execute(
            "UPDATE sync_batches SET receipt = ?, acked_at = ?, last_error = NULL "
            "WHERE seq = ? AND acked_at IS NULL",
            (json.dumps(receipt, sort_keys=True, separators=(",", ":")), now(), seq),
        )
    return updated.rowcount == 1


def summary(conn: sqlite3.Connection) -> SyncSummary:
    """Batches cut, acknowledged and waiting, and entries in no batch yet."""
    total, acked, last = conn.execute(
        "SELECT COUNT(*), COUNT(acked_at), MAX(acked_at) FROM sync_batches"
    ).fetchone()
    outbox_waiting, audit_waiting = waiting(conn)
    return SyncSummary(
        batches=int(total),
        acked=int(acked),
        unacked=int(total) - int(acked),
        outbox_waiting=outbox_waiting,
        audit_waiting=audit_waiting,
        last_acked_at=last,
    )
