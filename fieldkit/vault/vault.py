"""Opening, creating and unlocking the vault.

:meth:`Vault.unlock` returns an :class:`~fieldkit.vault.session.UnlockedVault`, which reads and
writes. Officer management is in :mod:`fieldkit.vault.officers`, key rotation in
:mod:`fieldkit.vault.rotation`, purging acknowledged visits in :mod:`fieldkit.vault.purge`.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fieldkit import kdf
from fieldkit.domain.findings import Message
from fieldkit.domain.passphrase import passphrase_problem
from fieldkit.vault import audit, db, keyring, metaauth
from fieldkit.vault.clock import now
from fieldkit.vault.crypto import (
    AuthenticationFailed,
    random_key,
)
from fieldkit.vault.errors import (
    InsecureSlot,
    IntegrityError,
    UnknownOfficer,
    UnlockThrottled,
    VaultError,
    VaultExists,
    VaultMissing,
    VaultSettingsAltered,
    WeakPassphrase,
    WrongPassphrase,
)
from fieldkit.vault.file import VaultFile
from fieldkit.vault.home import vault_path
from fieldkit.vault.rotation import adopt_legacy_visits, resume_rotation
from fieldkit.vault.session import UnlockedVault

VAULT_FORMAT = metaauth.FORMAT
FREE_FAILURES = 5
MAX_DELAY = timedelta(minutes=15)


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


class Vault(VaultFile):
    """The vault file, opened or created; :meth:`unlock` opens an officer's key slot."""

    # -- lifecycle -------------------------------------------------------------------------

    @classmethod
    def open(cls, home: Path) -> Vault:
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
        home: Path,
        *,
        officer_id: str,
        name: str,
        passphrase: str,
        params: kdf.KdfParams | None = None,
    ) -> UnlockedVault:
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
        warnings = (kdf.INSECURE_WARNING,) if kdf.is_insecure(params) else ()
        conn = db.connect(path)
        db.migrate(conn)
        vault_id, device_id = str(uuid.uuid4()), str(uuid.uuid4())
        dek = random_key()
        device_key = Ed25519PrivateKey.generate()
        device_public = device_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        slot = keyring.make_slot(
            vault_id, officer_id, "supervisor", name, passphrase, dek, 1, params, device_public
        )
        with db.transaction(conn):
            meta = {
                "format": str(VAULT_FORMAT),
                "vault_id": vault_id,
                "device_id": device_id,
                "created_at": now(),
                "dek_generation": "1",
                "blind_index_generation": "1",
                "device_public_key": device_public.hex(),
                "device_private_sealed": keyring.seal_device_key(dek, device_id, device_key).hex(),
            }
            conn.executemany("INSERT INTO meta VALUES (?, ?)", meta.items())
            keyring.save_slot(conn, slot)
            audit.append(
                conn, vault_id, officer_id, "vault_created", device_id, {"format": VAULT_FORMAT}
            )
            audit.append(conn, vault_id, officer_id, "unlock")
            metaauth.seal(conn, dek, 1)  # last: it binds the audit head
        vault = cls(path, conn)
        return UnlockedVault(vault, officer_id, "supervisor", {1: dek}, warnings=warnings)

    # -- unlocking ---------------------------------------------------------------------------

    def unlock(
        self, officer_id: str, passphrase: str, *, allow_test_kdf: bool = False
    ) -> UnlockedVault:
        """Open the officer's slot; failures are counted, throttled and audited.

        A slot made under the insecure test KDF (cheap Argon2id) opens only with
        ``allow_test_kdf`` (the explicit test setting), and then with a warning in
        :attr:`UnlockedVault.warnings`; without it the unlock is refused and audited before
        the passphrase is tried. With the right passphrase, the vault's authenticated settings
        and the slot's data key are verified before anything else
        (:class:`~fieldkit.vault.errors.VaultSettingsAltered`, audited); a vault or slot of an
        older format is upgraded (see :mod:`fieldkit.vault.metaauth`).
        """
        slot, opened, warnings = self._open_slot(officer_id, passphrase, allow_test_kdf)
        self._authenticate(slot, opened)
        session = UnlockedVault(
            self, officer_id, slot.role, {slot.dek_generation: opened.dek}, warnings=warnings
        )
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

    def authenticate_officer(
        self,
        officer_id: str,
        passphrase: str,
        *,
        allow_test_kdf: bool = False,
        purpose: str = "approval",
    ) -> str:
        """Verify ``officer_id``'s passphrase on this open vault; return the slot's role.

        For a second officer approving on the same laptop (a supervisor closing a visit) while
        another officer's unlock stays as it is: nothing here replaces or widens that session,
        and the data key the slot opens is dropped. The attempt is refused, counted, throttled
        and audited exactly as :meth:`unlock` does it (the same failure count: guessing a
        supervisor's passphrase here costs what guessing it at the unlock prompt costs), and
        the vault's settings are verified with that slot's key. Success is audited as
        ``officer_authenticated`` with ``purpose``.
        """
        slot, opened, _warnings = self._open_slot(officer_id, passphrase, allow_test_kdf)
        self._authenticate(
            slot, opened, action="officer_authenticated", detail={"purpose": purpose}
        )
        return slot.role

    def _open_slot(
        self, officer_id: str, passphrase: str, allow_test_kdf: bool
    ) -> tuple[keyring.Slot, keyring.OpenedSlot, tuple[Message, ...]]:
        """Open an officer's slot with a passphrase: unknown, insecure, throttled, wrong refused.

        Every attempt is counted before the key is derived and every refusal audited; the
        caller verifies the settings next (:meth:`_authenticate`), which clears the count.
        """
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
        warnings = self._refuse_insecure_slot(slot, allow_test_kdf)
        # The attempt is counted before the key is derived, in one write transaction with the
        # throttle check: parallel attempts (other processes) queue on SQLite's write lock, and
        # each sees the ones before it, so no more guesses run than the throttle allows.
        failures = self._take_attempt(officer_id)
        try:
            opened = keyring.open_slot(self.vault_id, slot, passphrase)
        except AuthenticationFailed:
            self._audit_failure(officer_id, failures)
            raise WrongPassphrase(
                Message(
                    f"Kata sandi salah untuk petugas {officer_id} (gagal {failures} kali). "
                    "Tidak ada data yang dibuka.",
                    f"Wrong passphrase for officer {officer_id} ({failures} failed attempts). "
                    "Nothing was decrypted.",
                )
            ) from None
        return slot, opened, warnings

    def _refuse_insecure_slot(
        self, slot: keyring.Slot, allow_test_kdf: bool
    ) -> tuple[Message, ...]:
        if not kdf.is_insecure(slot.params):
            return ()
        if allow_test_kdf:
            return (kdf.INSECURE_WARNING,)
        with db.transaction(self.conn):
            audit.append(
                self.conn,
                self.vault_id,
                slot.officer_id,
                "unlock_refused",
                None,
                {"reason": "slot made under the insecure test KDF"},
            )
        raise InsecureSlot(
            Message(
                f"Slot petugas {slot.officer_id} dibuat dengan derivasi kunci uji yang tidak aman "
                f"({kdf.TEST_KDF_ENV}); vault tidak dibuka. Buat ulang slot ini di laptop "
                "lapangan, atau aktifkan pengaturan uji hanya untuk pengujian.",
                f"Officer {slot.officer_id}'s slot was made with the insecure test key "
                f"derivation ({kdf.TEST_KDF_ENV}); the vault was not unlocked. Make the slot "
                "again on a field laptop, or turn the test setting on for tests only.",
            )
        )

    def _take_attempt(self, officer_id: str) -> int:
        """Refuse while throttled; otherwise count this attempt as a failure, before deriving.

        One ``BEGIN IMMEDIATE`` transaction: the check and the count cannot be separated by
        another process's attempt. A correct passphrase clears the count afterwards; an
        attempt that never finishes (a crash, a killed process) stays one counted failure,
        whose delay runs out like any other (at most :data:`MAX_DELAY`).
        """
        wait = 0.0
        with db.transaction(self.conn):
            row = self.conn.execute(
                "SELECT failures, locked_until FROM unlock_failures WHERE officer_id = ?",
                (officer_id,),
            ).fetchone()
            at = datetime.now(UTC)
            if row is not None and row[1] is not None:
                wait = (datetime.fromisoformat(row[1]) - at).total_seconds()
            if wait > 0:
                audit.append(
                    self.conn,
                    self.vault_id,
                    officer_id,
                    "unlock_refused",
                    None,
                    {"wait_seconds": round(wait)},
                )
            else:
                failures = (row[0] if row else 0) + 1
                delay = throttle_delay(failures)
                locked_until = (at + delay).isoformat() if delay else None
                self.conn.execute(
                    "INSERT OR REPLACE INTO unlock_failures VALUES (?, ?, ?, ?)",
                    (officer_id, failures, at.isoformat(), locked_until),
                )
        if wait > 0:
            raise UnlockThrottled(
                Message(
                    f"Terlalu banyak percobaan gagal. Coba lagi dalam {wait:.0f} detik.",
                    f"Too many failed attempts. Try again in {wait:.0f} seconds.",
                ),
                wait,
            )
        return failures

    def _audit_failure(self, officer_id: str, failures: int) -> None:
        """Audit a wrong passphrase (already counted by :meth:`_take_attempt`)."""
        with db.transaction(self.conn):
            audit.append(
                self.conn,
                self.vault_id,
                officer_id,
                "unlock_failed",
                None,
                {"failures": failures, "delay_seconds": throttle_delay(failures).total_seconds()},
            )

    # -- authenticated settings --------------------------------------------------------------

    def _authenticate(
        self,
        slot: keyring.Slot,
        opened: keyring.OpenedSlot,
        *,
        action: str = "unlock",
        detail: dict[str, object] | None = None,
    ) -> None:
        """Verify the settings MAC and the slot's data key; upgrade an older vault or slot.

        The passphrase was right, so the failure count is cleared either way. Raises
        :class:`VaultSettingsAltered` (audited as ``unlock_refused``); on success the unlock is
        audited and :attr:`meta` holds the verified rows.
        """
        conn = self.conn
        officer_id = slot.officer_id
        legacy = opened.format == 1 and not metaauth.ever_sealed(conn)
        try:
            if legacy:
                verified = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            else:
                sealed_at = metaauth.sealed_generation(conn)
                if sealed_at is not None and sealed_at != slot.dek_generation:
                    raise VaultSettingsAltered(
                        f"sealed under data-key generation {sealed_at}, officer {officer_id}'s "
                        f"slot holds generation {slot.dek_generation}"
                    )
                verified = metaauth.verify(conn, {slot.dek_generation: opened.dek})
            device_public = self._check_data_key(slot, opened, verified)
        except VaultSettingsAltered as exc:
            with db.transaction(conn):
                conn.execute("DELETE FROM unlock_failures WHERE officer_id = ?", (officer_id,))
                audit.append(
                    conn,
                    self.vault_id,
                    officer_id,
                    "unlock_refused",
                    None,
                    {"reason": "settings altered outside fieldkit", "detail": exc.reason},
                )
            raise
        with db.transaction(conn):
            conn.execute("DELETE FROM unlock_failures WHERE officer_id = ?", (officer_id,))
            if opened.format < keyring.SLOT_FORMAT:
                keyring.upgrade_slot(conn, self.vault_id, slot, opened, device_public)
                audit.append(
                    conn,
                    self.vault_id,
                    officer_id,
                    "key_slot_upgraded",
                    officer_id,
                    {"format": keyring.SLOT_FORMAT, "from_format": opened.format},
                )
            audit.append(conn, self.vault_id, officer_id, action, None, detail)
            if legacy:
                metaauth.upgrade(conn, self.vault_id, officer_id, opened.dek, slot.dek_generation)
        if legacy:
            self.reload_meta()
        else:
            self.meta = verified  # type: ignore[assignment]

    def _check_data_key(
        self, slot: keyring.Slot, opened: keyring.OpenedSlot, meta: dict[str, object]
    ) -> bytes:
        """The device's public key, once the slot's data key proved to be this vault's.

        A data key wrapped to the slot by someone else cannot open the device signing key
        sealed under the real one; and a format-2 slot pinned that key's public half under the
        passphrase, so sealing a device key of one's own under a substituted data key fails
        too. Returns the public key (to pin in a format-1 slot being upgraded).
        """
        whose = f"officer {slot.officer_id}'s slot"
        try:
            device_id = str(meta["device_id"])
            vault_id = str(meta["vault_id"])
            claimed = bytes.fromhex(str(meta["device_public_key"]))
            sealed = bytes.fromhex(str(meta["device_private_sealed"]))
            private = keyring.open_device_key(opened.dek, device_id, sealed)
        except (KeyError, ValueError, AuthenticationFailed) as exc:
            raise VaultSettingsAltered(
                f"the data key in {whose} does not open the device signing key"
            ) from exc
        actual = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        if actual != claimed:
            raise VaultSettingsAltered("the device public key is not its signing key's")
        if opened.device_public_key is not None and actual != opened.device_public_key:
            raise VaultSettingsAltered(
                f"the data key in {whose} is not this vault's (its device key is not the one "
                "the slot pinned)"
            )
        if (device_id, vault_id) != (self.device_id, self.vault_id):
            raise VaultSettingsAltered("the vault or device id changed while unlocking")
        return actual
