"""Data-key rotation and visit keys given at unlock.

Removing an officer rotates the data key so their old slot, or a copy of the old key, opens
nothing written or re-encrypted afterwards. Rotation is resumable: the first transaction
removes the slot, wraps a new key for everyone who remains, keeps the old key sealed under
the new one, and gives every visit that still has a key a NEW visit key (the old visit keys
move to ``visit_keys_previous``, still sealed under the old data key): re-sealing the old
visit keys would leave them in the hands of whoever kept the old data key. Later transactions
re-encrypt records in batches, each row from its old key to its visit's new key; the last
rebuilds the blind index, deletes the previous visit keys and forgets the old data key.
Whoever unlocks next finishes an interrupted rotation (:meth:`Vault.unlock` calls
:func:`resume_rotation`), then :func:`adopt_legacy_visits`.
"""

from __future__ import annotations

import json

from fieldkit.vault import audit, db, keyring, metaauth, records, syncstate
from fieldkit.vault.clock import now
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
from fieldkit.vault.errors import IntegrityError
from fieldkit.vault.meta import meta_json
from fieldkit.vault.records import KeyShredded, index_digests, record_aad, seal_visit_key
from fieldkit.vault.session import UnlockedVault

ROTATION_BATCH = 500


def _rotation_aad(vault_id: str, generation: int) -> bytes:
    return canonical(["fieldkit/v1/rotation", vault_id, generation])


def start_rotation(session: UnlockedVault, removed: str | None = None) -> None:
    """First step: new data key for the remaining slots, the old one kept sealed under it.

    Every visit with a live key gets a new one; its old key is kept (sealed under the old data
    key) until the records are re-encrypted. An unfinished earlier rotation is finished first,
    so two rotations never overlap.
    """
    vault = session.vault
    if meta_json(vault.conn, "rotation") is not None:
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
            "device_private_sealed": keyring.seal_device_key(
                new_dek, vault.device_id, device_key
            ).hex(),
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
        # The settings MAC moves to the new data key with everything else (last: audit head).
        metaauth.seal(session.conn, new_dek, new_generation)
    vault.reload_meta()
    session.deks[new_generation] = new_dek


def _new_visit_keys(session: UnlockedVault, new_dek: bytes, new_generation: int) -> None:
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


def resume_rotation(session: UnlockedVault) -> bool:
    """Finish a pending rotation, if any; return True when one was finished."""
    vault = session.vault
    rotation = meta_json(vault.conn, "rotation")
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


def _rebuild_blind_index(session: UnlockedVault, new_generation: int, old_generation: int) -> None:
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
        metaauth.seal(session.conn, session.deks[new_generation], new_generation)
    vault.reload_meta()
    session.deks.pop(old_generation, None)
    for cached in [k for k in session.visit_keys if k[1] == old_generation]:
        del session.visit_keys[cached]


def adopt_legacy_visits(session: UnlockedVault) -> int:
    """Give every visit written before migration 0003 its own key; return how many got one.

    A migration runs without the data key, so rows written before visit keys existed stay
    sealed under the data key's records key until an unlock: then each such visit gets a key
    and its rows are re-encrypted under it, one transaction per visit (audited as
    ``visit_key_adopted``). A visit whose rows do not authenticate is left as it is (audited as
    ``visit_key_adoption_blocked``; its intact rows stay readable) and retried at the next
    unlock. Skipped while a key rotation is unfinished. Normally there is nothing to do and
    this costs one indexed query.
    """
    conn = session.conn
    if meta_json(session.conn, "rotation") is not None:
        return 0
    # One index seek per distinct visit (a skip scan), not one step per version.
    visits = [
        row[0]
        for row in conn.execute(
            "WITH RECURSIVE v(id) AS ("
            " SELECT MIN(visit_id) FROM record_versions WHERE visit_id IS NOT NULL"
            " UNION ALL"
            " SELECT (SELECT MIN(visit_id) FROM record_versions WHERE visit_id > v.id)"
            " FROM v WHERE v.id IS NOT NULL)"
            " SELECT id FROM v WHERE id IS NOT NULL"
            " AND id NOT IN (SELECT visit_id FROM visit_keys)"
        )
    ]
    adopted = 0
    for visit_id in visits:
        try:
            with db.transaction(conn):
                _adopt_visit(session, visit_id)
        except IntegrityError as exc:
            session.note(
                "visit_key_adoption_blocked",
                f"visit:{visit_id}",
                {"record": f"{exc.kind}:{exc.record_id}", "version": exc.version},
            )
        else:
            adopted += 1
    return adopted


def _adopt_visit(session: UnlockedVault, visit_id: str) -> None:
    conn = session.conn
    generation = session.generation
    rows = conn.execute(
        "SELECT rowid, kind, id, version, state, officer_id, at, key_generation, sealed "
        "FROM record_versions WHERE visit_id = ? AND length(sealed) > 0 ORDER BY rowid",
        (visit_id,),
    ).fetchall()
    key = session.new_visit_key(visit_id, generation, now())
    sealer = Sealer(key)
    updates = []
    for rowid, kind, rid, version, state, officer_id, at, row_generation, sealed in rows:
        aad = records.record_aad(kind, rid, version, visit_id, state, officer_id, at)
        try:
            plaintext = open_sealed(session.record_key(row_generation), sealed, aad)
        except (AuthenticationFailed, KeyError) as exc:
            session.forget_visit(visit_id)
            raise IntegrityError(kind, rid, version, "does not authenticate") from exc
        updates.append((sealer.seal(plaintext, aad), generation, rowid))
    conn.executemany(
        "UPDATE record_versions SET sealed = ?, key_generation = ? WHERE rowid = ?", updates
    )
    audit.append(
        conn,
        session.vault.vault_id,
        session.officer_id,
        "visit_key_adopted",
        f"visit:{visit_id}",
        {"versions": len(updates), "generation": generation},
    )
