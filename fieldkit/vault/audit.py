"""The audit chain: append-only entries, each holding the hash of the one before.

``hash = SHA-256(prev_hash ‖ canonical([seq, at, officer_id, action, subject, detail]))``, the
first entry chaining from a genesis hash bound to the vault id. Entries hold no personal data:
ids, actions and counts only. A modified, removed, inserted or reordered entry breaks the chain
at that point; :func:`verify` names the first entry that does not fit.

The chain proves order and completeness to anyone holding a later hash: HQ receives every
entry in signed batches, so rewriting history after a sync is detected there. Someone with
write access to the laptop's file could rebuild the unsynced tail; the threat model says so.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from fieldkit.vault.crypto import canonical


def genesis_hash(vault_id: str) -> bytes:
    """The hash the first entry chains from."""
    return hashlib.sha256(f"fieldkit/v1/audit-genesis|{vault_id}".encode()).digest()


def entry_hash(
    prev_hash: bytes,
    seq: int,
    at: str,
    officer_id: str | None,
    action: str,
    subject: str | None,
    detail: str,
) -> bytes:
    """The hash of one entry given its predecessor's."""
    body = canonical([seq, at, officer_id, action, subject, detail])
    return hashlib.sha256(prev_hash + body).digest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _head(conn: sqlite3.Connection, vault_id: str) -> tuple[int, bytes]:
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (row[0], row[1]) if row else (0, genesis_hash(vault_id))


def append(
    conn: sqlite3.Connection,
    vault_id: str,
    officer_id: str | None,
    action: str,
    subject: str | None = None,
    detail: dict[str, object] | None = None,
) -> int:
    """Append one entry inside the caller's transaction; return its sequence number."""
    return append_many(conn, vault_id, [(officer_id, action, subject, detail or {})])[-1]


def append_many(
    conn: sqlite3.Connection,
    vault_id: str,
    entries: list[tuple[str | None, str, str | None, dict[str, object]]],
) -> list[int]:
    """Append entries ``(officer_id, action, subject, detail)`` in order; return their seqs."""
    seq, prev = _head(conn, vault_id)
    at = _now()
    rows = []
    for officer_id, action, subject, detail in entries:
        seq += 1
        text = json.dumps(detail, sort_keys=True, separators=(",", ":"))
        digest = entry_hash(prev, seq, at, officer_id, action, subject, text)
        rows.append((seq, at, officer_id, action, subject, text, prev, digest))
        prev = digest
    conn.executemany("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return [row[0] for row in rows]


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    """The outcome of :func:`verify`: how many entries, and the first bad one if any."""

    entries: int
    first_bad_seq: int | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        """True when the whole chain verifies."""
        return self.first_bad_seq is None


def verify(conn: sqlite3.Connection, vault_id: str) -> AuditVerdict:
    """Walk the chain from the genesis hash and report the first entry that does not fit."""
    prev = genesis_hash(vault_id)
    expected_seq = 1
    count = 0
    rows = conn.execute(
        "SELECT seq, at, officer_id, action, subject, detail, prev_hash, hash FROM audit "
        "ORDER BY seq"
    )
    for seq, at, officer_id, action, subject, detail, prev_hash, digest in rows:
        count += 1
        if seq != expected_seq:
            reason = "missing entries before it" if seq > expected_seq else "out of order"
            return AuditVerdict(count, seq, reason)
        if prev_hash != prev:
            return AuditVerdict(count, seq, "does not chain from the entry before it")
        if entry_hash(prev, seq, at, officer_id, action, subject, detail) != digest:
            return AuditVerdict(count, seq, "modified")
        prev = digest
        expected_seq += 1
    return AuditVerdict(count)
