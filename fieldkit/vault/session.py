"""An unlocked vault: reading and writing records with the keys an officer's slot opened.

The data key lives only in the memory of an :class:`UnlockedVault`, with the visit keys it has
opened. Unlocking is :meth:`fieldkit.vault.vault.Vault.unlock`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.domain.findings import Message
from fieldkit.vault import audit, db, keyring, metaauth, outbox, records
from fieldkit.vault.clock import now
from fieldkit.vault.crypto import blind_index, derive_key, random_key
from fieldkit.vault.errors import NotFound, Purged, VaultError, VaultLocked
from fieldkit.vault.file import VaultFile


@dataclass
class UnlockedVault:
    """An unlocked vault: the data key(s) in memory, the officer who unlocked it.

    Usable from several threads at once (see :mod:`fieldkit.vault.file`): the keys are only
    read after unlock, and the visit-key cache only gains entries.
    """

    vault: VaultFile
    officer_id: str
    role: str
    deks: dict[int, bytes]
    # Records keys derived from the visit keys this session opened, by (visit id, generation).
    visit_keys: dict[tuple[str, int], bytes] = field(default_factory=dict, repr=False)
    # What the officer must be told about this unlock (e.g. a slot under the test KDF).
    warnings: tuple[Message, ...] = ()

    @property
    def conn(self) -> sqlite3.Connection:
        """The vault's connection."""
        return self.vault.conn

    @property
    def generation(self) -> int:
        """The data-key generation new writes use."""
        return int(self.vault.meta["dek_generation"])

    def require_unlocked(self) -> None:
        """Raise :class:`VaultLocked` once :meth:`lock` has forgotten the keys."""
        if not self.deks:
            raise VaultLocked(
                Message(
                    "Vault terkunci; buka lagi dengan kata sandi.",
                    "The vault is locked; unlock it again with a passphrase.",
                )
            )

    def dek(self, generation: int) -> bytes:
        """The data key of a generation (KeyError if this session lacks it)."""
        self.require_unlocked()
        return self.deks[generation]

    def record_key(self, generation: int) -> bytes:
        """The data key's records key of a generation (for records outside any visit)."""
        return derive_key(self.dek(generation), records.RECORDS_PURPOSE)

    def records_key_for(self, visit_id: str | None, generation: int) -> bytes:
        """The key that sealed a row of ``visit_id`` at data-key ``generation``.

        The visit's key of that generation (``visit_keys``, or ``visit_keys_previous`` while a
        rotation retires it); for a row outside a visit, or of a visit that never had a key of
        that generation (written before migration 0003), the data key's records key. Raises
        :class:`records.KeyShredded` for a purged visit, ``KeyError`` for a generation this
        session lacks, ``AuthenticationFailed`` when the sealed visit key does not open.
        """
        if visit_id is None:
            return self.record_key(generation)
        cached = self.visit_keys.get((visit_id, generation))
        if cached is not None:
            return cached
        self.require_unlocked()
        row = self.conn.execute(
            "SELECT dek_generation, sealed_key FROM visit_keys WHERE visit_id = ?", (visit_id,)
        ).fetchone()
        if row is not None and row[1] is None:
            # Before asking for the data key: a purged visit's rows keep the generation they
            # were sealed at, which a later rotation may have retired.
            raise records.KeyShredded(visit_id)
        dek = self.dek(generation)
        if row is None or row[0] != generation:
            row = self.conn.execute(
                "SELECT dek_generation, sealed_key FROM visit_keys_previous "
                "WHERE visit_id = ? AND dek_generation = ?",
                (visit_id, generation),
            ).fetchone()
        if row is None:
            return derive_key(dek, records.RECORDS_PURPOSE)
        return self._remember(visit_id, generation, row[1])

    def _remember(self, visit_id: str, generation: int, sealed_key: bytes) -> bytes:
        visit_key = records.open_visit_key(
            self.dek(generation), self.vault.vault_id, visit_id, generation, sealed_key
        )
        key = derive_key(visit_key, records.RECORDS_PURPOSE)
        self.visit_keys[(visit_id, generation)] = key
        return key

    def forget_visit(self, visit_id: str) -> None:
        """Drop a visit's keys from memory (after a purge)."""
        for cached in [k for k in self.visit_keys if k[0] == visit_id]:
            del self.visit_keys[cached]

    def new_visit_key(self, visit_id: str, generation: int, at: str) -> bytes:
        """Make, seal and store a fresh key for a visit inside the caller's transaction.

        Replaces the visit's live key row; returns the records key derived from the new key.
        """
        visit_key = random_key()
        sealed = records.seal_visit_key(
            self.dek(generation), self.vault.vault_id, visit_id, generation, visit_key
        )
        self.conn.execute(
            "INSERT INTO visit_keys (visit_id, dek_generation, sealed_key, created_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (visit_id) DO UPDATE SET "
            "dek_generation = excluded.dek_generation, sealed_key = excluded.sealed_key, "
            "created_at = excluded.created_at",
            (visit_id, generation, sealed, at),
        )
        key = derive_key(visit_key, records.RECORDS_PURPOSE)
        self.visit_keys[(visit_id, generation)] = key
        return key

    def _write_key(self, visit_id: str | None, generation: int, at: str) -> bytes:
        """The records key new versions of ``visit_id`` are sealed under (inside the write).

        The key row is read inside the writing transaction, so a purge committed by another
        process is seen: nothing is ever sealed under a destroyed key. A visit's first write
        creates its key; a visit written before migration 0003 whose rows could not be given a
        key yet (see :func:`adopt_legacy_visits`) keeps the data key's records key.
        """
        if visit_id is None:
            return self.record_key(generation)
        row = self.conn.execute(
            "SELECT dek_generation, sealed_key FROM visit_keys WHERE visit_id = ?", (visit_id,)
        ).fetchone()
        if row is None:
            legacy = self.conn.execute(
                "SELECT 1 FROM record_versions WHERE visit_id = ? LIMIT 1", (visit_id,)
            ).fetchone()
            if legacy is not None:
                return self.record_key(generation)
            return self.new_visit_key(visit_id, generation, at)
        if row[1] is None:
            raise Purged("visit", visit_id)
        if row[0] != generation:
            raise VaultError(
                Message(
                    "Kunci data diganti oleh sesi lain; buka vault lagi lalu ulangi.",
                    "The data key was rotated by another session; unlock again and retry.",
                )
            )
        cached = self.visit_keys.get((visit_id, generation))
        return cached if cached is not None else self._remember(visit_id, generation, row[1])

    def index_key(self) -> bytes:
        """The key of the blind index as it is currently built."""
        return derive_key(self.deks[int(self.vault.meta["blind_index_generation"])], "blind-index")

    def verify_settings(self) -> None:
        """Check the authenticated settings (and acknowledgements) against the data key.

        Raises :class:`~fieldkit.vault.errors.VaultSettingsAltered` when someone changed them
        outside fieldkit since the last legitimate write. Afterwards :attr:`VaultFile.meta`
        holds the rows just verified, which sync reads its pinned keys from. Called before
        every sync and purge; the unlock checks them too.
        """
        self.require_unlocked()
        self.vault.meta = metaauth.verify(self.conn, self.deks)  # type: ignore[assignment]

    def seal_settings(self) -> None:
        """Re-seal the authenticated settings under the current data key.

        Inside the caller's transaction, after every write of covered state and its audit
        entry (see :mod:`fieldkit.vault.metaauth`).
        """
        generation = int(
            self.conn.execute("SELECT value FROM meta WHERE key = 'dek_generation'").fetchone()[0]
        )
        metaauth.seal(self.conn, self.dek(generation), generation)

    def device_signing_key(self) -> Ed25519PrivateKey:
        """The device's Ed25519 key, for signing sync batches."""
        sealed = bytes.fromhex(self.vault.meta["device_private_sealed"])
        return keyring.open_device_key(self.deks[self.generation], self.vault.device_id, sealed)

    # -- writing ---------------------------------------------------------------------------------

    def write(
        self,
        changes: list[records.Change],
        *,
        action: str,
        audit_detail: Iterable[dict[str, object]] | None = None,
    ) -> list[tuple[str, str, int]]:
        """Write record versions as one user action, in one transaction.

        Versions, blind index, outbox and audit entries commit together or not at all.
        Returns ``(kind, id, version)`` for each change.
        """
        at = now()
        with db.transaction(self.conn):
            written = self.write_in_transaction(
                changes, action=action, at=at, audit_detail=audit_detail
            )
        return written

    def write_in_transaction(
        self,
        changes: list[records.Change],
        *,
        action: str,
        at: str,
        audit_detail: Iterable[dict[str, object]] | None = None,
        summary: tuple[str | None, dict[str, object]] | None = None,
    ) -> list[tuple[str, str, int]]:
        """Like :meth:`write`, inside a transaction the caller holds.

        Each version gets its own audit entry, unless ``summary`` (subject, detail) is given:
        a bulk action such as a roster import is then audited once, with its count and the
        range of outbox numbers it took, which name every version it wrote.
        """
        generation = self.generation
        visits = {change.visit_id for change in changes}
        written = records.write_changes(
            self.conn,
            changes,
            officer_id=self.officer_id,
            at=at,
            generation=generation,
            record_keys={v: self._write_key(v, generation, at) for v in visits},
            index_key=self.index_key(),
        )
        last = outbox.append_many(self.conn, written, at)
        if summary is not None:
            subject, detail = summary
            span = {
                "count": len(written),
                "outbox_first": last - len(written) + 1,
                "outbox_last": last,
            }
            audit.append(
                self.conn, self.vault.vault_id, self.officer_id, action, subject, {**detail, **span}
            )
            return written
        details = list(audit_detail) if audit_detail is not None else [{} for _ in written]
        audit.append_many(
            self.conn,
            self.vault.vault_id,
            [
                (self.officer_id, action, f"{kind}:{rid}", {"version": version, **detail})
                for (kind, rid, version), detail in zip(written, details, strict=True)
            ],
        )
        return written

    def note(
        self, action: str, subject: str | None = None, detail: dict[str, object] | None = None
    ) -> None:
        """Record an audit entry on its own (a view, an export)."""
        with db.transaction(self.conn):
            audit.append(self.conn, self.vault.vault_id, self.officer_id, action, subject, detail)

    # -- reading ---------------------------------------------------------------------------------

    def _key(self, generation: int, visit_id: str | None) -> bytes:
        return self.records_key_for(visit_id, generation)

    def read(self, kind: str, record_id: str, version: int | None = None) -> records.Record:
        """Decrypt one record version (the latest by default); raise NotFound if absent."""
        record = records.read_version(self.conn, kind, record_id, version, self._key)
        if record is None:
            raise NotFound(
                Message(
                    f"Data {kind} {record_id} tidak ditemukan.",
                    f"No {kind} with id {record_id}.",
                )
            )
        return record

    def history(self, kind: str, record_id: str) -> list[records.Record]:
        """Every version of a record, oldest first."""
        return records.history(self.conn, kind, record_id, self._key)

    def find(self, field: str, value: str, kind: str | None = None) -> list[tuple[str, str]]:
        """``(kind, id)`` of records whose ``field`` equals ``value``, via the blind index."""
        column = records.INDEX_COLUMNS[field]
        digest = blind_index(self.index_key(), field, value)
        rows = self.conn.execute(
            f"SELECT kind, id FROM records WHERE {column} = ? ORDER BY kind, id",
            (digest,),
        ).fetchall()
        return [(k, i) for k, i in rows if kind is None or k == kind]

    def latest(self, kind: str, visit_id: str | None = None) -> list[records.Record]:
        """The latest version of every record of ``kind`` (in one visit if given).

        Records of purged visits are left out: their data is gone (``fieldkit status`` counts
        them).
        """
        query = "SELECT id FROM records WHERE kind = ? AND state != ?"
        args: tuple[object, ...] = (kind, records.PURGED_STATE)
        if visit_id is not None:
            query += " AND visit_id = ?"
            args = (*args, visit_id)
        ids = [row[0] for row in self.conn.execute(query + " ORDER BY updated_at, id", args)]
        return [self.read(kind, rid) for rid in ids]

    def officer_name(self, slot: keyring.Slot) -> str:
        """Decrypt an officer's name."""
        return keyring.open_name(self.deks[slot.dek_generation], slot.officer_id, slot.sealed_name)

    def lock(self) -> None:
        """Forget the keys and record the lock."""
        with db.transaction(self.conn):
            audit.append(self.conn, self.vault.vault_id, self.officer_id, "lock")
        self.deks.clear()
        self.visit_keys.clear()
