"""Officers: adding, removing (with data-key rotation), changing passphrases, listing.

Removing an officer rotates the data key so their old slot, or a copy of the old key, opens
nothing written or re-encrypted afterwards. Rotation is resumable: the first transaction
removes the slot, wraps a new key for everyone who remains, keeps the old key sealed under
the new one, and gives every visit that still has a key a NEW visit key (the old visit keys
move to ``visit_keys_previous``, still sealed under the old data key): re-sealing the old
visit keys would leave them in the hands of whoever kept the old data key. Later transactions
re-encrypt records in batches, each row from its old key to its visit's new key; the last
rebuilds the blind index, deletes the previous visit keys and forgets the old data key.
Whoever unlocks next finishes an interrupted rotation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from fieldkit import kdf
from fieldkit.domain.findings import Message
from fieldkit.domain.passphrase import passphrase_problem
from fieldkit.vault import audit, db, keyring, syncstate
from fieldkit.vault.crypto import (
    AuthenticationFailed,
    BlindIndexer,
    Sealer,
    canonical,
    derive_key,
    open_sealed,
    random_key,
    seal,
)
from fieldkit.vault.errors import (
    IntegrityError,
    NotAllowed,
    UnknownOfficer,
    VaultError,
    WeakPassphrase,
)
from fieldkit.vault.records import KeyShredded, index_digests, record_aad, seal_visit_key
from fieldkit.vault.vault import Session, check_officer_id, meta_json, now, seal_device_key

ROLES = ("officer", "supervisor")
ROTATION_BATCH = 500


@dataclass(frozen=True, slots=True)
class Officer:
    """An officer as listed: id, name, role."""

    officer_id: str
    name: str
    role: str


def _require_supervisor(session: Session, action: Message) -> None:
    if session.role != "supervisor":
        raise NotAllowed(
            Message(
                f"Hanya supervisor yang boleh {action.id}.",
                f"Only a supervisor may {action.en}.",
            )
        )


def _check_passphrase(passphrase: str, officer_id: str, name: str) -> None:
    problem = passphrase_problem(passphrase, officer_id=officer_id, name=name)
    if problem is not None:
        raise WeakPassphrase(problem)


def list_officers(session: Session) -> list[Officer]:
    """Every officer with a slot."""
    return [
        Officer(slot.officer_id, session.officer_name(slot), slot.role)
        for slot in keyring.all_slots(session.conn)
    ]


def add_officer(
    session: Session,
    officer_id: str,
    name: str,
    role: str,
    passphrase: str,
    params: kdf.KdfParams | None = None,
) -> Officer:
    """Give a new officer a key slot (supervisors only)."""
    _require_supervisor(session, Message("menambah petugas", "add officers"))
    if role not in ROLES:
        raise VaultError(Message(f"Peran tidak dikenal: {role}.", f"Unknown role: {role}."))
    check_officer_id(officer_id)
    if keyring.load_slot(session.conn, officer_id) is not None:
        raise VaultError(
            Message(
                f"Petugas {officer_id} sudah terdaftar.", f"Officer {officer_id} already exists."
            )
        )
    _check_passphrase(passphrase, officer_id, name)
    _store_slot(
        session, officer_id, role, name, passphrase, params, "officer_added", {"role": role}
    )
    return Officer(officer_id, name, role)


def change_passphrase(
    session: Session, new_passphrase: str, params: kdf.KdfParams | None = None
) -> None:
    """Re-key the unlocked officer's own slot under a new passphrase."""
    slot = keyring.load_slot(session.conn, session.officer_id)
    assert slot is not None  # the session was opened through this slot
    name = session.officer_name(slot)
    _check_passphrase(new_passphrase, session.officer_id, name)
    _store_slot(
        session, session.officer_id, slot.role, name, new_passphrase, params, "passphrase_changed"
    )


def _store_slot(
    session: Session,
    officer_id: str,
    role: str,
    name: str,
    passphrase: str,
    params: kdf.KdfParams | None,
    action: str,
    detail: dict[str, object] | None = None,
) -> None:
    """Make a slot (a fresh key pair) for the current data key; save and audit it at once."""
    generation = session.generation
    slot = keyring.make_slot(
        session.vault.vault_id,
        officer_id,
        role,
        name,
        passphrase,
        session.deks[generation],
        generation,
        params or kdf.calibrate(),
    )
    with db.transaction(session.conn):
        keyring.save_slot(session.conn, slot)
        audit.append(
            session.conn, session.vault.vault_id, session.officer_id, action, officer_id, detail
        )


def remove_officer(session: Session, officer_id: str) -> None:
    """Remove an officer and rotate the data key (supervisors only)."""
    _require_supervisor(session, Message("menghapus petugas", "remove officers"))
    target = keyring.load_slot(session.conn, officer_id)
    if target is None:
        raise UnknownOfficer(
            Message(
                f"Petugas {officer_id} tidak terdaftar.", f"Officer {officer_id} is not registered."
            )
        )
    if officer_id == session.officer_id:
        raise NotAllowed(
            Message(
                "Supervisor tidak dapat menghapus dirinya sendiri.",
                "A supervisor cannot remove themselves.",
            )
        )
    start_rotation(session, removed=officer_id)
    resume_rotation(session)


def _rotation_aad(vault_id: str, generation: int) -> bytes:
    return canonical(["fieldkit/v1/rotation", vault_id, generation])


def start_rotation(session: Session, removed: str | None = None) -> None:
    """First step: new data key for the remaining slots, the old one kept sealed under it.

    Every visit with a live key gets a new one; its old key is kept (sealed under the old data
    key) until the records are re-encrypted. An unfinished earlier rotation is finished first,
    so two rotations never overlap.
    """
    vault = session.vault
    if meta_json(vault, "rotation") is not None:
        resume_rotation(session)
    old_generation = session.generation
    old_dek = session.deks[old_generation]
    new_generation = old_generation + 1
    new_dek = random_key()
    with db.transaction(session.conn):
        if removed is not None:
            session.conn.execute("DELETE FROM key_slots WHERE officer_id = ?", (removed,))
            session.conn.execute("DELETE FROM unlock_failures WHERE officer_id = ?", (removed,))
        for slot in keyring.all_slots(session.conn):
            name = keyring.open_name(
                session.deks[slot.dek_generation], slot.officer_id, slot.sealed_name
            )
            session.conn.execute(
                "UPDATE key_slots SET wrapped_dek = ?, dek_generation = ?, sealed_name = ? "
                "WHERE officer_id = ?",
                (
                    keyring.wrap_dek(
                        vault.vault_id, slot.officer_id, slot.public_key, new_dek, new_generation
                    ),
                    new_generation,
                    keyring.seal_name(new_dek, slot.officer_id, name),
                    slot.officer_id,
                ),
            )
        rotation = {
            "from_generation": old_generation,
            "to_generation": new_generation,
            "old_dek_sealed": seal(
                derive_key(new_dek, "rotation"),
                old_dek,
                _rotation_aad(vault.vault_id, old_generation),
            ).hex(),
        }
        _new_visit_keys(session, new_dek, new_generation)
        device_key = session.device_signing_key()
        updates = {
            "dek_generation": str(new_generation),
            "rotation": json.dumps(rotation),
            "device_private_sealed": seal_device_key(new_dek, vault.device_id, device_key).hex(),
        }
        session.conn.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", updates.items())
        # HQ's reference data is sealed under the data key too: re-seal it under the new one.
        syncstate.reseal_reference(session.conn, vault, session.deks, new_dek, new_generation)
        if removed is not None:
            audit.append(
                session.conn, vault.vault_id, session.officer_id, "officer_removed", removed
            )
        audit.append(
            session.conn,
            vault.vault_id,
            session.officer_id,
            "key_rotation_started",
            None,
            {"from_generation": old_generation, "to_generation": new_generation},
        )
    vault.reload_meta()
    session.deks[new_generation] = new_dek


def _new_visit_keys(session: Session, new_dek: bytes, new_generation: int) -> None:
    """Inside the first step: keep the live visit keys as previous ones, give each a new one."""
    conn = session.conn
    live = conn.execute(
        "SELECT visit_id, dek_generation, sealed_key FROM visit_keys WHERE sealed_key IS NOT NULL"
    ).fetchall()
    conn.execute("DELETE FROM visit_keys_previous")
    conn.executemany(
        "INSERT INTO visit_keys_previous (visit_id, dek_generation, sealed_key) VALUES (?, ?, ?)",
        live,
    )
    at = now()
    conn.executemany(
        "UPDATE visit_keys SET dek_generation = ?, sealed_key = ?, created_at = ? "
        "WHERE visit_id = ?",
        [
            (
                new_generation,
                seal_visit_key(
                    new_dek, session.vault.vault_id, visit_id, new_generation, random_key()
                ),
                at,
                visit_id,
            )
            for visit_id, _, _ in live
        ],
    )


def resume_rotation(session: Session) -> bool:
    """Finish a pending rotation, if any; return True when one was finished."""
    vault = session.vault
    rotation = meta_json(vault, "rotation")
    if rotation is None:
        return False
    new_generation = int(rotation["to_generation"])  # type: ignore[arg-type]
    old_generation = int(rotation["from_generation"])  # type: ignore[arg-type]
    new_dek = session.deks[new_generation]
    if old_generation not in session.deks:
        session.deks[old_generation] = open_sealed(
            derive_key(new_dek, "rotation"),
            bytes.fromhex(str(rotation["old_dek_sealed"])),
            _rotation_aad(vault.vault_id, old_generation),
        )
    # One sealer per visit: each row moves from its old key to its visit's new key (the data
    # key's records key for rows outside a visit or of a visit without a key).
    sealers: dict[str | None, Sealer] = {}
    after = 0
    while True:
        # Walk the rows in rowid order, one batch per transaction, so an interruption loses at
        # most a batch and a resumed rotation skips what is already under the new key.
        with db.transaction(session.conn):
            rows = session.conn.execute(
                "SELECT rowid, kind, id, version, visit_id, state, officer_id, at, "
                "key_generation, sealed FROM record_versions "
                "WHERE rowid > ? ORDER BY rowid LIMIT ?",
                (after, ROTATION_BATCH),
            ).fetchall()
            updates = []
            for (
                rowid,
                kind,
                rid,
                version,
                visit_id,
                state,
                officer_id,
                at,
                generation,
                sealed,
            ) in rows:
                if generation == new_generation or not sealed:
                    continue  # already re-encrypted, or purged (no ciphertext left)
                aad = record_aad(kind, rid, version, visit_id, state, officer_id, at)
                try:
                    plaintext = open_sealed(
                        session.records_key_for(visit_id, generation), sealed, aad
                    )
                    sealer = sealers.get(visit_id)
                    if sealer is None:
                        sealer = sealers[visit_id] = Sealer(
                            session.records_key_for(visit_id, new_generation)
                        )
                except (AuthenticationFailed, KeyError, KeyShredded) as exc:
                    raise IntegrityError(
                        kind, rid, version, "does not authenticate during key rotation"
                    ) from exc
                updates.append((sealer.seal(plaintext, aad), new_generation, rowid))
            session.conn.executemany(
                "UPDATE record_versions SET sealed = ?, key_generation = ? WHERE rowid = ?", updates
            )
        if len(rows) < ROTATION_BATCH:
            break
        after = rows[-1][0]
    _rebuild_blind_index(session, new_generation, old_generation)
    return True


def _rebuild_blind_index(session: Session, new_generation: int, old_generation: int) -> None:
    vault = session.vault
    indexer = BlindIndexer(derive_key(session.deks[new_generation], "blind-index"))
    with db.transaction(session.conn):
        heads = session.conn.execute(
            "SELECT kind, id FROM records WHERE nik_index IS NOT NULL OR booking_index IS NOT NULL"
        ).fetchall()
        updates = []
        for kind, rid in heads:
            record = session.read(kind, rid)
            updates.append((*index_digests(kind, record.data, indexer), kind, rid))
        session.conn.executemany(
            "UPDATE records SET nik_index = ?, booking_index = ? WHERE kind = ? AND id = ?", updates
        )
        session.conn.execute(
            "INSERT OR REPLACE INTO meta VALUES ('blind_index_generation', ?)",
            (str(new_generation),),
        )
        session.conn.execute("DELETE FROM meta WHERE key = 'rotation'")
        session.conn.execute("DELETE FROM visit_keys_previous")
        audit.append(
            session.conn,
            vault.vault_id,
            session.officer_id,
            "key_rotation_completed",
            None,
            {"generation": new_generation},
        )
    vault.reload_meta()
    session.deks.pop(old_generation, None)
    for cached in [k for k in session.visit_keys if k[1] == old_generation]:
        del session.visit_keys[cached]
