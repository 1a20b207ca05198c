"""Opening, creating and unlocking the vault; an unlocked :class:`Session` reads and writes.

The data key lives only in the memory of an unlocked session, with the visit keys it has
opened. Officer management and key rotation are in :mod:`fieldkit.vault.officers`; purging
acknowledged visits in :mod:`fieldkit.vault.purge`.
"""

from __future__ import annotations

import json
import re
import sqlite3
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fieldkit import kdf
from fieldkit.domain.findings import Message
from fieldkit.domain.passphrase import passphrase_problem
from fieldkit.vault import audit, db, keyring, outbox, records
from fieldkit.vault.crypto import (
    AuthenticationFailed,
    Sealer,
    blind_index,
    canonical,
    derive_key,
    open_sealed,
    random_key,
    seal,
)
from fieldkit.vault.errors import (
    IntegrityError,
    NotFound,
    UnknownOfficer,
    UnlockThrottled,
    VaultError,
    VaultExists,
    VaultLocked,
    VaultMissing,
    WeakPassphrase,
    WrongPassphrase,
)
from fieldkit.vault.home import vault_path

VAULT_FORMAT = 1
FREE_FAILURES = 5
MAX_DELAY = timedelta(minutes=15)


def now() -> str:
    """The current time as stored: UTC, ISO 8601 with microseconds."""
    return datetime.now(UTC).isoformat(timespec="microseconds")


def _device_key_aad(device_id: str) -> bytes:
    return canonical(["fieldkit/v1/device-key", device_id])


def seal_device_key(dek: bytes, device_id: str, private: Ed25519PrivateKey) -> bytes:
    """Seal the device signing key under the data key."""
    return seal(
        derive_key(dek, "device-key"), private.private_bytes_raw(), _device_key_aad(device_id)
    )


_OFFICER_ID = re.compile(r"[A-Za-z0-9._-]{1,32}")


def check_officer_id(officer_id: str) -> None:
    """Refuse an officer id that is not 1–32 letters, digits, dots, dashes or underscores.

    Officer ids appear in clear beside records and in the audit log; keeping them plain keeps
    them from carrying anything personal and keeps bound data unambiguous.
    """
    if not _OFFICER_ID.fullmatch(officer_id):
        raise VaultError(
            Message(
                "ID petugas hanya boleh 1–32 huruf, angka, titik, garis bawah atau tanda hubung.",
                "An officer id is 1–32 letters, digits, dots, underscores or dashes.",
            )
        )


def throttle_delay(failures: int) -> timedelta:
    """How long to wait after ``failures`` consecutive failed unlocks (doubling after 5)."""
    if failures < FREE_FAILURES:
        return timedelta(0)
    return min(timedelta(seconds=2 ** (failures - FREE_FAILURES)), MAX_DELAY)


class Vault:
    """An open vault file. Reading counts and verifying the audit chain need no passphrase."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        self.vault_id: str = self.meta["vault_id"]
        self.device_id: str = self.meta["device_id"]

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def open(cls, home: Path | None = None) -> Vault:
        """Open the existing vault, applying pending migrations; refuse a newer one."""
        path = vault_path(home)
        if not path.exists():
            raise VaultMissing(
                Message(
                    f"Belum ada vault di {path.parent}. Jalankan 'fieldkit init' dahulu.",
                    f"There is no vault in {path.parent}. Run 'fieldkit init' first.",
                )
            )
        conn = db.connect(path)
        try:
            db.migrate(conn)
        except BaseException:
            conn.close()
            raise
        return cls(path, conn)

    @classmethod
    def create(
        cls,
        home: Path | None,
        *,
        officer_id: str,
        name: str,
        passphrase: str,
        params: kdf.KdfParams | None = None,
    ) -> Session:
        """Create a vault with its first officer (a supervisor) and return it unlocked."""
        check_officer_id(officer_id)
        problem = passphrase_problem(passphrase, officer_id=officer_id, name=name)
        if problem is not None:
            raise WeakPassphrase(problem)
        path = vault_path(home)
        if path.exists():
            raise VaultExists(
                Message(
                    f"Vault sudah ada di {path.parent}; tidak ditimpa.",
                    f"A vault already exists in {path.parent}; it was not overwritten.",
                )
            )
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        params = params or kdf.calibrate()
        conn = db.connect(path)
        db.migrate(conn)
        vault_id, device_id = str(uuid.uuid4()), str(uuid.uuid4())
        dek = random_key()
        device_key = Ed25519PrivateKey.generate()
        slot = keyring.make_slot(
            vault_id, officer_id, "supervisor", name, passphrase, dek, 1, params
        )
        with db.transaction(conn):
            meta = {
                "format": str(VAULT_FORMAT),
                "vault_id": vault_id,
                "device_id": device_id,
                "created_at": now(),
                "dek_generation": "1",
                "blind_index_generation": "1",
                "device_public_key": device_key.public_key()
                .public_bytes(Encoding.Raw, PublicFormat.Raw)
                .hex(),
                "device_private_sealed": seal_device_key(dek, device_id, device_key).hex(),
            }
            conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            keyring.save_slot(conn, slot)
            audit.append(conn, vault_id, officer_id, "vault_created", device_id, {"format": 1})
            audit.append(conn, vault_id, officer_id, "unlock")
        vault = cls(path, conn)
        return Session(vault, officer_id, "supervisor", {1: dek})

    def close(self) -> None:
        """Close the file."""
        self.conn.close()

    def reload_meta(self) -> None:
        """Re-read the meta table after a change."""
        self.meta = dict(self.conn.execute("SELECT key, value FROM meta").fetchall())

    # -- unlocking ---------------------------------------------------------------------------

    def unlock(self, officer_id: str, passphrase: str) -> Session:
        """Open the officer's slot; failures are counted, throttled and audited."""
        slot = keyring.load_slot(self.conn, officer_id)
        if slot is None:
            # What was typed is not logged: it might be a passphrase or a NIK typed in the wrong
            # field, and the audit log travels to HQ.
            with db.transaction(self.conn):
                audit.append(
                    self.conn,
                    self.vault_id,
                    None,
                    "unlock_failed",
                    None,
                    {"reason": "unknown officer"},
                )
            raise UnknownOfficer(
                Message(
                    f"Petugas {officer_id!r} tidak terdaftar di vault ini.",
                    f"Officer {officer_id!r} is not registered in this vault.",
                )
            )
        self._refuse_if_throttled(officer_id)
        try:
            dek = keyring.open_slot(self.vault_id, slot, passphrase)
        except AuthenticationFailed:
            failures = self._record_failure(officer_id)
            raise WrongPassphrase(
                Message(
                    f"Kata sandi salah untuk petugas {officer_id} (gagal {failures} kali). "
                    "Tidak ada data yang dibuka.",
                    f"Wrong passphrase for officer {officer_id} ({failures} failed attempts). "
                    "Nothing was decrypted.",
                )
            ) from None
        session = Session(self, officer_id, slot.role, {slot.dek_generation: dek})
        with db.transaction(self.conn):
            self.conn.execute("DELETE FROM unlock_failures WHERE officer_id = ?", (officer_id,))
            audit.append(self.conn, self.vault_id, officer_id, "unlock")
        from fieldkit.vault.officers import resume_rotation

        try:
            resume_rotation(session)
        except IntegrityError as exc:
            # A damaged row must not lock every officer out: intact data stays readable with
            # both keys in memory, and the rotation is retried at the next unlock.
            session.note(
                "key_rotation_blocked",
                f"{exc.kind}:{exc.record_id}",
                {"version": exc.version, "reason": exc.reason},
            )
        else:
            adopt_legacy_visits(session)
        return session

    def _refuse_if_throttled(self, officer_id: str) -> None:
        row = self.conn.execute(
            "SELECT locked_until FROM unlock_failures WHERE officer_id = ?", (officer_id,)
        ).fetchone()
        if row is None or row[0] is None:
            return
        wait = (datetime.fromisoformat(row[0]) - datetime.now(UTC)).total_seconds()
        if wait > 0:
            with db.transaction(self.conn):
                audit.append(
                    self.conn,
                    self.vault_id,
                    officer_id,
                    "unlock_refused",
                    None,
                    {"wait_seconds": round(wait)},
                )
            raise UnlockThrottled(
                Message(
                    f"Terlalu banyak percobaan gagal. Coba lagi dalam {wait:.0f} detik.",
                    f"Too many failed attempts. Try again in {wait:.0f} seconds.",
                ),
                wait,
            )

    def _record_failure(self, officer_id: str) -> int:
        with db.transaction(self.conn):
            row = self.conn.execute(
                "SELECT failures FROM unlock_failures WHERE officer_id = ?", (officer_id,)
            ).fetchone()
            failures = (row[0] if row else 0) + 1
            at = datetime.now(UTC)
            delay = throttle_delay(failures)
            locked_until = (at + delay).isoformat() if delay else None
            self.conn.execute(
                "INSERT OR REPLACE INTO unlock_failures VALUES (?, ?, ?, ?)",
                (officer_id, failures, at.isoformat(), locked_until),
            )
            audit.append(
                self.conn,
                self.vault_id,
                officer_id,
                "unlock_failed",
                None,
                {"failures": failures, "delay_seconds": delay.total_seconds()},
            )
        return failures

    # -- what anyone may see -------------------------------------------------------------------

    def counts(self) -> list[tuple[str | None, str, str, int]]:
        """Record counts by visit, kind and state (metadata, no personal data)."""
        return self.conn.execute(
            "SELECT visit_id, kind, state, COUNT(*) FROM records "
            "GROUP BY visit_id, kind, state ORDER BY visit_id, kind, state"
        ).fetchall()

    def outbox_depth(self) -> int:
        """Record versions waiting to be synced."""
        return outbox.depth(self.conn)

    def verify_audit(self) -> audit.AuditVerdict:
        """Verify the whole audit chain."""
        return audit.verify(self.conn, self.vault_id)

    def integrity_check(self) -> str:
        """SQLite's own structural check ('ok' when sound)."""
        return self.conn.execute("PRAGMA integrity_check").fetchone()[0]


@dataclass
class Session:
    """An unlocked vault: the data key(s) in memory, the officer who unlocked it."""

    vault: Vault
    officer_id: str
    role: str
    deks: dict[int, bytes]
    # Records keys derived from the visit keys this session opened, by (visit id, generation).
    visit_keys: dict[tuple[str, int], bytes] = field(default_factory=dict, repr=False)

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
            raise records.Purged("visit", visit_id)
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

    def device_signing_key(self) -> Ed25519PrivateKey:
        """The device's Ed25519 key, for signing sync batches."""
        sealed = bytes.fromhex(self.vault.meta["device_private_sealed"])
        raw = open_sealed(
            derive_key(self.deks[self.generation], "device-key"),
            sealed,
            _device_key_aad(self.vault.device_id),
        )
        return Ed25519PrivateKey.from_private_bytes(raw)

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


def adopt_legacy_visits(session: Session) -> int:
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
    if meta_json(session.vault, "rotation") is not None:
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


def _adopt_visit(session: Session, visit_id: str) -> None:
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


def meta_json(vault: Vault, key: str) -> dict[str, object] | None:
    """A JSON value from the meta table, or None."""
    raw = vault.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    return json.loads(raw[0]) if raw else None
