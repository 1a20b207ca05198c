"""What the vault remembers about syncing with HQ: the enrollment and the sealed batches.

The enrollment (HQ's URL and the HQ keys pinned when the device enrolled) is kept in ``meta``
under ``hq_*`` keys. Each batch is cut once and stored whole in ``sync_batches`` with its batch
id and the outbox and audit ranges it carries, so a retry, even after a crash, resends the same
bytes and HQ can recognise a duplicate. A batch is acknowledged when HQ's signed receipt is
stored beside it; acknowledged batches are never sent again.

HQ's signed reference data (docs/PROTOCOL.md, "Reference data") is kept here too: the signed
document (its roster entries replaced by their digest: they live as records) sealed under the
data key (``meta`` ``reference_sealed``: AES-256-GCM under HKDF(DEK, "reference"), bound to
the vault, the device, the version and the key generation), so the watchlist is never in clear
on disk; beside it in clear only what is not personal and must be readable without a
passphrase: the version (``reference``), the officers HQ revoked (``revoked_officers``) and
this device's own revocation (``device_revoked``). All of these rows, the enrollment and the
acknowledgements are authenticated under the data key (``fieldkit.vault.metaauth``): whoever
writes them here re-seals in the same transaction (``UnlockedVault.seal_settings``).

The device's encryption key pair, to which HQ seals the personal part of its reference data
(format 2), is kept in ``meta`` ``device_encryption_key``: the public key in clear, the private
key sealed under the data key like the device signing key (AES-256-GCM under HKDF(DEK,
"device-encryption-key"), bound to the device, the generation and the public key). The sync
package makes the key (at enrollment, or at the first reference pull of a device enrolled
before format 2); this module only keeps it.

This module only stores and reads; building, sealing and sending batches is the ``sync``
package's work. Nothing here is personal data in clear: envelopes are encrypted to HQ, receipts
carry ids, counts and hashes. ``fieldkit purge`` empties the envelopes of batches HQ
acknowledged at least the retention period ago (``fieldkit.vault.purge``): with HQ's private
key they would still open.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zlib
from dataclasses import dataclass

from fieldkit.domain.fees import FeeSchedule, parse_fee_schedules
from fieldkit.domain.findings import Message
from fieldkit.vault import audit, db, metaauth
from fieldkit.vault.clock import now
from fieldkit.vault.crypto import AuthenticationFailed, canonical, derive_key, open_sealed, seal
from fieldkit.vault.errors import (
    DeviceRevoked,
    EnvelopeEmptied,
    IntegrityError,
    OfficerRevoked,
)
from fieldkit.vault.file import VaultFile
from fieldkit.vault.meta import meta_json, meta_value, put_meta
from fieldkit.vault.session import UnlockedVault

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


def enrollment(vault: VaultFile) -> Enrollment | None:
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


def save_enrollment(session: UnlockedVault, pinned: Enrollment, detail: dict[str, object]) -> None:
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
        session.seal_settings()
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
    """The sealed bytes of a stored batch, exactly as cut.

    Raises :class:`EnvelopeEmptied` for a batch whose envelope a purge emptied (only ever an
    acknowledged one, which is never sent again): never hands out an empty envelope.
    """
    data = bytes(
        conn.execute("SELECT envelope FROM sync_batches WHERE seq = ?", (seq,)).fetchone()[0]
    )
    if not data:
        raise EnvelopeEmptied(
            Message(
                f"Batch {seq} sudah diterima HQ dan isinya sudah dihapus dari laptop ini "
                "('fieldkit purge'); batch itu tidak dikirim lagi.",
                f"Batch {seq} was acknowledged by HQ and its contents purged from this laptop "
                "('fieldkit purge'); it is not sent again.",
            )
        )
    return data


def record_attempt(conn: sqlite3.Connection, seq: int, error: str | None) -> None:
    """Count a send attempt and keep its error (None on success); its own small transaction."""
    with db.transaction(conn):
        conn.execute(
            "UPDATE sync_batches SET attempts = attempts + 1, last_error = ? WHERE seq = ?",
            (error, seq),
        )


def acknowledge(session: UnlockedVault, seq: int, receipt: dict[str, object]) -> bool:
    """Store HQ's verified receipt and the acknowledgement time in one transaction.

    A purge trusts the acknowledgement and its time, so the batch's outbox entries are pinned
    and the settings re-sealed in the same transaction (``fieldkit.vault.metaauth``). Returns
    False when the batch was already acknowledged (the first receipt is kept).
    """
    conn = session.conn
    with db.transaction(conn):
        updated = conn.execute(
            "UPDATE sync_batches SET receipt = ?, acked_at = ?, last_error = NULL "
            "WHERE seq = ? AND acked_at IS NULL",
            (json.dumps(receipt, sort_keys=True, separators=(",", ":")), now(), seq),
        )
        if updated.rowcount == 1:
            metaauth.record_acknowledged(conn, seq)
            session.seal_settings()
    return updated.rowcount == 1


@dataclass(frozen=True, slots=True)
class OutboxStatus:
    """The outbox's record versions by where they are on their way to HQ (no passphrase)."""

    total: int
    not_batched: int  # in no batch yet
    in_unacked_batches: int  # cut into a batch HQ has not acknowledged yet
    acknowledged: int  # in a batch HQ acknowledged with a signed receipt

    @property
    def waiting(self) -> int:
        """Record versions HQ has not acknowledged yet."""
        return self.not_batched + self.in_unacked_batches


def outbox_status(conn: sqlite3.Connection) -> OutboxStatus:
    """Count the outbox by batch state, from the batches' outbox ranges (clear columns)."""
    acked, unacked = conn.execute(
        "SELECT "
        "COALESCE(SUM(CASE WHEN acked_at IS NOT NULL THEN outbox_last - outbox_first + 1 END), 0), "
        "COALESCE(SUM(CASE WHEN acked_at IS NULL THEN outbox_last - outbox_first + 1 END), 0) "
        "FROM sync_batches WHERE outbox_first IS NOT NULL"
    ).fetchone()
    not_batched, _ = waiting(conn)
    total = conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    return OutboxStatus(int(total), not_batched, int(unacked), int(acked))


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


# -- reference data from HQ ------------------------------------------------------------------

REFERENCE_KEY = "reference"
REFERENCE_SEALED_KEY = "reference_sealed"
REVOKED_OFFICERS_KEY = "revoked_officers"
DEVICE_REVOKED_KEY = "device_revoked"
_REFERENCE_PURPOSE = "reference"
_REFERENCE_LABEL = "fieldkit/v1/reference"
DEVICE_ENCRYPTION_KEY = "device_encryption_key"
_ENCRYPTION_PURPOSE = "device-encryption-key"
_ENCRYPTION_LABEL = "fieldkit/v1/device-encryption-key"


@dataclass(frozen=True, slots=True)
class ReferenceState:
    """The stored reference data's version and times (clear, not personal)."""

    version: int
    issued_at: str
    applied_at: str
    generation: int


@dataclass(frozen=True, slots=True)
class DeviceRevocation:
    """HQ's revocation of this device, as its signed reference data said."""

    revoked_at: str
    reason: str | None
    version: int
    recorded_at: str

    @property
    def message(self) -> Message:
        """What an officer reads when a command refuses to run."""
        why = (self.reason or "tanpa alasan / no reason given").rstrip(".")
        return Message(
            f"Perangkat ini dicabut di HQ: {why} (sejak {self.revoked_at}). Perangkat ini tidak "
            "dapat lagi sinkron atau merekam data; data yang ada tetap aman di laptop. "
            "Hubungi HQ.",
            f"This device was revoked at HQ: {why} (since {self.revoked_at}). It can no longer "
            "sync or capture data; what it holds stays safe on this laptop. Contact HQ.",
        )


def reference_state(vault: VaultFile) -> ReferenceState | None:
    """The version of the stored reference data, or None when none was ever applied."""
    raw = meta_json(vault.conn, REFERENCE_KEY)
    if not isinstance(raw, dict):
        return None
    return ReferenceState(
        version=int(raw["version"]),
        issued_at=str(raw["issued_at"]),
        applied_at=str(raw["applied_at"]),
        generation=int(raw["generation"]),
    )


def _reference_aad(vault: VaultFile, version: int, generation: int) -> bytes:
    return canonical([_REFERENCE_LABEL, vault.vault_id, vault.device_id, version, generation])


def _seal_reference(
    vault: VaultFile, dek: bytes, generation: int, version: int, plaintext: bytes
) -> bytes:
    return seal(
        derive_key(dek, _REFERENCE_PURPOSE),
        zlib.compress(plaintext, 6),
        _reference_aad(vault, version, generation),
    )


def reference_payload(session: UnlockedVault) -> dict[str, object] | None:
    """The stored signed reference document ``{"document", "sig"}``, opened.

    None when nothing is stored, or when it was sealed under a data key this vault has since
    rotated away (the next sync fetches it again). A sealed value that does not authenticate
    is tampering: :class:`~fieldkit.vault.errors.IntegrityError`.
    """
    state = reference_state(session.vault)
    sealed = meta_value(session.conn, REFERENCE_SEALED_KEY)
    if state is None or sealed is None:
        return None
    dek = session.deks.get(state.generation)
    if dek is None:
        return None
    try:
        packed = open_sealed(
            derive_key(dek, _REFERENCE_PURPOSE),
            bytes(sealed),  # type: ignore[arg-type]
            _reference_aad(session.vault, state.version, state.generation),
        )
    except AuthenticationFailed as exc:
        raise IntegrityError("reference", "hq", state.version, "does not authenticate") from exc
    payload = json.loads(zlib.decompress(packed))
    return payload if isinstance(payload, dict) else None


def reference_document(session: UnlockedVault) -> dict[str, object] | None:
    """The stored reference document (verified when it was applied), or None."""
    payload = reference_payload(session)
    if payload is None:
        return None
    document = payload.get("document")
    return document if isinstance(document, dict) else None


def store_reference(
    session: UnlockedVault, payload: dict[str, object], version: int, issued_at: str
) -> None:
    """Seal and store a verified signed reference document, inside the caller's transaction."""
    vault = session.vault
    generation = session.generation
    sealed = _seal_reference(
        vault, session.deks[generation], generation, version, canonical(payload)
    )
    put_meta(vault.conn, REFERENCE_SEALED_KEY, sealed)
    state = {
        "version": version,
        "issued_at": issued_at,
        "applied_at": now(),
        "generation": generation,
    }
    put_meta(vault.conn, REFERENCE_KEY, json.dumps(state, sort_keys=True))


def reseal_reference(
    conn: sqlite3.Connection,
    vault: VaultFile,
    old_deks: dict[int, bytes],
    new_dek: bytes,
    new_generation: int,
) -> None:
    """Re-seal the stored reference data under a new data key (call during a DEK rotation).

    ``old_deks`` are the data keys the session holds before the rotation. Inside the caller's
    transaction. Without this call, the stored reference data becomes unreadable after the
    rotation and is fetched again at the next sync. The device's encryption key is re-sealed
    here too (it opens the reference data HQ seals to this device).
    """
    _reseal_encryption_key(conn, vault, old_deks, new_dek, new_generation)
    state = reference_state(vault)
    sealed = meta_value(conn, REFERENCE_SEALED_KEY)
    if state is None or sealed is None or state.generation not in old_deks:
        return
    packed = open_sealed(
        derive_key(old_deks[state.generation], _REFERENCE_PURPOSE),
        bytes(sealed),  # type: ignore[arg-type]
        _reference_aad(vault, state.version, state.generation),
    )
    put_meta(
        conn,
        REFERENCE_SEALED_KEY,
        _seal_reference(vault, new_dek, new_generation, state.version, zlib.decompress(packed)),
    )
    put_meta(
        conn,
        REFERENCE_KEY,
        json.dumps(
            {
                "version": state.version,
                "issued_at": state.issued_at,
                "applied_at": state.applied_at,
                "generation": new_generation,
            },
            sort_keys=True,
        ),
    )


# -- the device's encryption key ---------------------------------------------------------------


def _encryption_aad(vault: VaultFile, generation: int, public: bytes) -> bytes:
    return canonical([_ENCRYPTION_LABEL, vault.device_id, generation, public.hex()])


def _put_encryption_key(
    conn: sqlite3.Connection,
    vault: VaultFile,
    dek: bytes,
    generation: int,
    public: bytes,
    private: bytes,
) -> None:
    sealed = seal(
        derive_key(dek, _ENCRYPTION_PURPOSE), private, _encryption_aad(vault, generation, public)
    )
    value = {"public": public.hex(), "sealed": sealed.hex(), "generation": generation}
    put_meta(conn, DEVICE_ENCRYPTION_KEY, json.dumps(value, sort_keys=True))


def store_device_encryption_key(session: UnlockedVault, public: bytes, private: bytes) -> None:
    """Keep the device's encryption key pair (private half sealed), in the caller's transaction.

    The row is authenticated settings (:mod:`fieldkit.vault.metaauth`): the change is audited
    and the settings re-sealed, last, in the same transaction.
    """
    generation = session.generation
    vault = session.vault
    _put_encryption_key(session.conn, vault, session.deks[generation], generation, public, private)
    audit.append(
        session.conn,
        vault.vault_id,
        session.officer_id,
        "device_encryption_key_created",
        f"device:{vault.device_id}",
        {"public_sha256": hashlib.sha256(public).hexdigest()[:16]},
    )
    session.seal_settings()


def device_encryption_key(session: UnlockedVault) -> tuple[bytes, bytes] | None:
    """The device's encryption key pair ``(public, private)``, or None when it has none yet.

    A sealed private key that does not authenticate is tampering:
    :class:`~fieldkit.vault.errors.IntegrityError`.
    """
    raw = meta_json(session.conn, DEVICE_ENCRYPTION_KEY)
    if not isinstance(raw, dict):
        return None
    try:
        public = bytes.fromhex(str(raw["public"]))
        generation = int(raw["generation"])
        private = open_sealed(
            derive_key(session.deks[generation], _ENCRYPTION_PURPOSE),
            bytes.fromhex(str(raw["sealed"])),
            _encryption_aad(session.vault, generation, public),
        )
    except (KeyError, ValueError, TypeError, AuthenticationFailed) as exc:
        raise IntegrityError("device_key", "encryption", 0, "does not authenticate") from exc
    return public, private


def _reseal_encryption_key(
    conn: sqlite3.Connection,
    vault: VaultFile,
    old_deks: dict[int, bytes],
    new_dek: bytes,
    new_generation: int,
) -> None:
    raw = meta_json(conn, DEVICE_ENCRYPTION_KEY)
    if not isinstance(raw, dict) or int(raw["generation"]) not in old_deks:
        return
    public, generation = bytes.fromhex(str(raw["public"])), int(raw["generation"])
    private = open_sealed(
        derive_key(old_deks[generation], _ENCRYPTION_PURPOSE),
        bytes.fromhex(str(raw["sealed"])),
        _encryption_aad(vault, generation, public),
    )
    _put_encryption_key(conn, vault, new_dek, new_generation, public, private)


def drop_reference(conn: sqlite3.Connection) -> None:
    """Forget the sealed reference document (the version stays), in the caller's transaction."""
    conn.execute("DELETE FROM meta WHERE key = ?", (REFERENCE_SEALED_KEY,))


def published_fee_schedules(session: UnlockedVault) -> tuple[FeeSchedule, ...] | None:
    """The fee schedules HQ published in the stored reference data, or None (use the packaged)."""
    document = reference_document(session)
    fees = document.get("fees") if document else None
    if not isinstance(fees, dict):
        return None
    checked = parse_fee_schedules(fees.get("data"))
    return checked.value if checked.ok else None


# -- revocations -------------------------------------------------------------------------------


def revoked_officer_entries(vault: VaultFile) -> list[dict[str, object]]:
    """The officers HQ revoked for this device: ``{"officer_id", "revoked_at", "reason"}``."""
    raw = meta_json(vault.conn, REVOKED_OFFICERS_KEY)
    return [e for e in raw if isinstance(e, dict)] if isinstance(raw, list) else []


def revoked_officers(vault: VaultFile) -> set[str]:
    """Ids of the officers HQ revoked (readable without the data key: ids are not personal)."""
    return {str(e["officer_id"]) for e in revoked_officer_entries(vault) if "officer_id" in e}


def save_revoked_officers(conn: sqlite3.Connection, entries: list[dict[str, object]]) -> None:
    """Replace the revoked officers with HQ's current list, in the caller's transaction."""
    put_meta(conn, REVOKED_OFFICERS_KEY, json.dumps(entries, sort_keys=True))


def refuse_revoked_officer(vault: VaultFile, officer_id: str) -> None:
    """Raise :class:`OfficerRevoked` (audited) if HQ revoked ``officer_id``; call before unlock."""
    for entry in revoked_officer_entries(vault):
        if entry.get("officer_id") != officer_id:
            continue
        with db.transaction(vault.conn):
            audit.append(
                vault.conn,
                vault.vault_id,
                officer_id,
                "unlock_refused",
                None,
                {"reason": "officer revoked at HQ"},
            )
        why = str(entry.get("reason") or "tanpa alasan / no reason given").rstrip(".")
        raise OfficerRevoked(
            Message(
                f"Petugas {officer_id} dicabut oleh HQ: {why} (sejak {entry.get('revoked_at')})."
                " Vault tidak dibuka. Hubungi supervisor atau HQ.",
                f"Officer {officer_id} was revoked by HQ: {why} (since "
                f"{entry.get('revoked_at')}). The vault was not unlocked. Contact the supervisor "
                "or HQ.",
            )
        )


def device_revocation(vault: VaultFile) -> DeviceRevocation | None:
    """HQ's revocation of this device, once a signed reference document reported it."""
    raw = meta_json(vault.conn, DEVICE_REVOKED_KEY)
    if not isinstance(raw, dict):
        return None
    return DeviceRevocation(
        revoked_at=str(raw["revoked_at"]),
        reason=raw.get("reason"),  # type: ignore[arg-type]
        version=int(raw["version"]),
        recorded_at=str(raw["recorded_at"]),
    )


def record_device_revocation(
    conn: sqlite3.Connection, revoked_at: str, reason: str | None, version: int
) -> None:
    """Remember that HQ revoked this device, in the caller's transaction."""
    value = {"revoked_at": revoked_at, "reason": reason, "version": version, "recorded_at": now()}
    put_meta(conn, DEVICE_REVOKED_KEY, json.dumps(value, sort_keys=True))


def require_active_device(vault: VaultFile) -> None:
    """Raise :class:`DeviceRevoked` with HQ's reason once HQ has revoked this device."""
    revocation = device_revocation(vault)
    if revocation is not None:
        raise DeviceRevoked(revocation.message)


def pin_encryption_key(conn: sqlite3.Connection, kid: str, public: bytes) -> None:
    """Pin a new HQ encryption key for future batches, in the caller's transaction.

    Only for a key that arrived in a document verified with the pinned HQ signing key.
    """
    put_meta(conn, "hq_kid", kid)
    put_meta(conn, "hq_encryption_public_key", public.hex())


def existing_ids(conn: sqlite3.Connection, kind: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` already name a record of ``kind``."""
    found: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT id FROM records WHERE kind = ? AND id IN ({marks})", (kind, *chunk)
        )
        found.update(row[0] for row in rows)
    return found


def oldest_waiting_at(conn: sqlite3.Connection) -> str | None:
    """When the oldest record version HQ has not acknowledged was written (None: none waits)."""
    row = conn.execute(
        "SELECT MIN(o.at) FROM outbox o WHERE NOT EXISTS (SELECT 1 FROM sync_batches b "
        "WHERE b.acked_at IS NOT NULL AND o.seq BETWEEN b.outbox_first AND b.outbox_last)"
    ).fetchone()
    return row[0] if row else None


def acknowledged_by_visit(conn: sqlite3.Connection, kind: str) -> dict[str, int]:
    """How many records of ``kind`` HQ holds at their latest version, by visit."""
    rows = conn.execute(
        "SELECT r.visit_id, COUNT(*) FROM records r JOIN outbox o "
        "ON o.kind = r.kind AND o.id = r.id AND o.version = r.version "
        "WHERE r.kind = ? AND r.visit_id IS NOT NULL AND EXISTS (SELECT 1 FROM sync_batches b "
        "WHERE b.acked_at IS NOT NULL AND o.seq BETWEEN b.outbox_first AND b.outbox_last) "
        "GROUP BY r.visit_id",
        (kind,),
    ).fetchall()
    return {str(visit): int(count) for visit, count in rows}
