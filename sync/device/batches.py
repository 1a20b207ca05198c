"""Cutting sealed batches on the device, from what is not yet in any batch.

A batch carries record versions in outbox order (each decrypted with the session's key and
re-sealed to HQ) and audit entries by audit seq, at most :data:`~sync.envelope.MAX_ITEMS` items
together. Each cut is one vault transaction: the next gapless batch seq, a fresh batch id, the
sealed envelope and the ranges it covers are stored together, so a batch exists exactly once
and is resent byte for byte after any crash.

Some audit entries only say that the laptop was used or synced (unlock, lock, sync reports).
They ride along with the next batch but never cause one on their own: otherwise every sync
would leave an entry that needs another sync, and an idle device would never be "done".
``flush=True`` sends them anyway (before handing a laptop in).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from fieldkit.vault import db, syncstate
from fieldkit.vault.clock import now
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.syncstate import AuditEntry, Enrollment, NewBatch, StoredBatch
from sync.wire import envelope

MAX_ITEMS = envelope.MAX_ITEMS
# Audit entries that never start a batch by themselves (see the module docstring).
HOUSEKEEPING_ACTIONS = frozenset(
    {
        "unlock",
        "lock",
        "device_enrolled",
        "sync_completed",
        "sync_refused",
        "sync_exported",
        "sync_receipts_imported",
        # Purge empties acknowledged envelopes; if its entry started a batch, that batch would
        # be emptied by a later purge, whose entry would start another, for ever.
        "sync_envelopes_emptied",
    }
)


@dataclass(frozen=True, slots=True)
class Waiting:
    """What is in no batch yet."""

    records: int
    audit: int
    audit_due: bool

    def due(self, *, flush: bool = False) -> bool:
        """True when a batch should be cut now."""
        return self.records > 0 or self.audit_due or (flush and self.audit > 0)

    def batches_needed(self, *, flush: bool = False) -> int:
        """About how many batches the waiting entries need (for a progress bar)."""
        if not self.due(flush=flush):
            return 0
        return max(1, -(-(self.records + self.audit) // MAX_ITEMS))


def waiting(session: UnlockedVault) -> Waiting:
    """Count what is waiting to be cut."""
    conn = session.conn
    records, audit = syncstate.waiting(conn)
    _, audit_last = syncstate.last_batched(conn)
    due = audit > 0 and syncstate.audit_waiting_except(conn, audit_last, HOUSEKEEPING_ACTIONS)
    return Waiting(records, audit, due)


def record_item(
    session: UnlockedVault, outbox_seq: int, kind: str, record_id: str, version: int
) -> dict[str, object]:
    """A record version as a body item (docs/PROTOCOL.md), decrypted with the session's key."""
    record = session.read(kind, record_id, version)
    return {
        "t": "r",
        "kind": record.kind,
        "id": record.id,
        "version": record.version,
        "visit_id": record.visit_id,
        "state": record.state,
        "officer_id": record.officer_id,
        "at": record.at,
        "outbox_seq": outbox_seq,
        "data": record.data,
    }


def audit_item(entry: AuditEntry) -> dict[str, object]:
    """An audit entry as a body item: every field but its hashes, which HQ recomputes."""
    return {
        "t": "a",
        "seq": entry.seq,
        "at": entry.at,
        "officer_id": entry.officer_id,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
    }


def _shares(records: int, audit: int, max_items: int) -> tuple[int, int]:
    """How many records and audit entries go into the next batch.

    While records are waiting, a quarter of the batch is kept for audit entries, so the chain
    HQ verifies does not fall far behind during a long capture day.
    """
    audit_slots = min(audit, max(max_items - records, max_items // 4))
    return min(records, max_items - audit_slots), audit_slots


def cut_batch(
    session: UnlockedVault,
    enrolled: Enrollment,
    *,
    flush: bool = False,
    max_items: int = MAX_ITEMS,
) -> StoredBatch | None:
    """Cut, seal and store the next batch in one transaction; None when nothing is due."""
    conn = session.conn
    with db.transaction(conn):
        pending = waiting(session)
        if not pending.due(flush=flush):
            return None
        outbox_last, audit_last = syncstate.last_batched(conn)
        n_records, n_audit = _shares(pending.records, pending.audit, max_items)
        rows = syncstate.unbatched_outbox(conn, outbox_last, n_records)
        entries = syncstate.unbatched_audit(conn, audit_last, n_audit)
        new = _seal_fitting(session, enrolled, syncstate.next_batch_seq(conn), rows, entries)
        syncstate.insert_batch(conn, new)
    return syncstate.batch(conn, new.seq)


def _seal_fitting(
    session: UnlockedVault,
    enrolled: Enrollment,
    seq: int,
    rows: list[tuple[int, str, str, int]],
    entries: list[AuditEntry],
) -> NewBatch:
    """Seal the items, halving them until the envelope fits HQ's size limit."""
    device_key = session.device_signing_key()
    while True:
        items = [record_item(session, *row) for row in rows]
        items += [audit_item(entry) for entry in entries]
        header = envelope.BatchHeader(
            device_id=session.vault.device_id,
            batch_id=str(uuid.uuid4()),
            seq=seq,
            created_at=now(),
            hq_kid=enrolled.hq_kid,
            count=len(items),
            outbox=(rows[0][0], rows[-1][0]) if rows else None,
            audit=(entries[0].seq, entries[-1].seq) if entries else None,
            audit_head=entries[-1].hash.hex() if entries else None,
        )
        try:
            sealed = envelope.seal_batch(
                header, items, hq_public=enrolled.hq_encryption_public_key, device_key=device_key
            )
        except envelope.EnvelopeError as exc:
            if exc.code != "too-large" or len(items) <= 1:
                raise
            rows, entries = rows[: len(rows) // 2], entries[: len(entries) // 2]
            continue
        break
    return NewBatch(
        seq=seq,
        batch_id=header.batch_id,
        outbox=header.outbox,
        audit=header.audit,
        count=header.count,
        hq_kid=header.hq_kid,
        ct_sha256=envelope.parse_envelope(sealed).ct_sha256,
        envelope=sealed,
        created_at=header.created_at,
    )


def cut_batches(
    session: UnlockedVault, enrolled: Enrollment, *, flush: bool = False
) -> Iterator[StoredBatch]:
    """Cut batches until nothing is due, yielding each as soon as it is stored."""
    while (cut := cut_batch(session, enrolled, flush=flush)) is not None:
        yield cut
