"""Errors the vault raises, each with a message in both working languages."""

from __future__ import annotations

from fieldkit.domain.findings import Lang, Message


class VaultError(Exception):
    """Base of every vault error; ``message`` is what an officer reads."""

    exit_code = 1

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message

    def text(self, lang: Lang = "id") -> str:
        """Return the message in ``lang``."""
        return self.message.text(lang)


class VaultMissing(VaultError):
    """No vault exists at the configured home."""


class VaultExists(VaultError):
    """``init`` was asked to create a vault where one already exists."""


class VaultTooNew(VaultError):
    """The vault was written by a newer fieldkit; opening it could corrupt it."""


class WrongPassphrase(VaultError):
    """The passphrase does not open the officer's key slot."""


class UnlockThrottled(VaultError):
    """Too many failed unlocks: the officer must wait."""

    def __init__(self, message: Message, wait_seconds: float) -> None:
        super().__init__(message)
        self.wait_seconds = wait_seconds


class WeakPassphrase(VaultError):
    """The passphrase is refused at setup or change, with the reason."""


class InsecureSlot(VaultError):
    """The slot was made under the insecure test KDF and the test setting is off."""


class UnknownOfficer(VaultError):
    """No key slot exists for that officer id."""


class NotAllowed(VaultError):
    """The officer's role does not allow the action."""


class VisitWithdrawn(VaultError):
    """HQ withdrew the visit: nothing new may be captured into it (exit 1, as refusals)."""


class VisitNotOpen(VaultError):
    """The visit is not open (still planned, or closed): the counter may not write to it."""


class Refused(VaultError):
    """A counter rule refused the action (checked in twice, a walk-in outside the groups …).

    ``code`` is the stable dotted code of the rule (``checkin.already``), for scripts.
    """

    def __init__(self, message: Message, code: str) -> None:
        super().__init__(message)
        self.code = code


class IntegrityError(VaultError):
    """Stored data failed authentication: tampered, moved between rows or replayed.

    Never returned as data. ``kind``, ``record_id`` and ``version`` name the row.
    """

    exit_code = 3

    def __init__(self, kind: str, record_id: str, version: int, reason: str) -> None:
        super().__init__(
            Message(
                f"Data {kind} {record_id} versi {version} rusak atau diubah ({reason}); "
                "data tidak ditampilkan. Laporkan ke supervisor.",
                f"Stored {kind} {record_id} version {version} failed its integrity check "
                f"({reason}); it is not shown. Report this to the supervisor.",
            )
        )
        self.kind = kind
        self.record_id = record_id
        self.version = version
        self.reason = reason


class VaultLocked(VaultError):
    """The session was locked: its keys are gone."""


class NotFound(VaultError):
    """No record with that id."""


class InvalidInput(VaultError):
    """Input failed the domain rules; ``findings`` say which fields and why. Nothing stored."""

    exit_code = 2

    def __init__(self, message: Message, findings: list[tuple[int, object]]) -> None:
        super().__init__(message)
        self.findings = findings


class EnvelopeEmptied(VaultError):
    """The batch's envelope was emptied by ``fieldkit purge`` after HQ acknowledged it."""


class DeviceRevoked(VaultError):
    """HQ revoked this device (learned from its signed reference data): no sync, no capture."""


class OfficerRevoked(VaultError):
    """HQ revoked this officer: their slot no longer unlocks the vault."""


class ReferenceUnavailable(VaultError):
    """No reference data (or not the part asked for) is stored on this laptop yet."""


class Purged(VaultError):
    """The record's visit was purged after HQ acknowledged it: its data is gone for good.

    Raised instead of :class:`IntegrityError` when a version of a crypto-shredded visit is read,
    and when something tries to write into a purged visit.
    """

    def __init__(self, kind: str, record_id: str, version: int | None = None) -> None:
        which_id = f"{kind} {record_id}" + (f" versi {version}" if version else "")
        which_en = f"{kind} {record_id}" + (f" version {version}" if version else "")
        super().__init__(
            Message(
                f"Data {which_id} sudah dihapus dari laptop ini setelah diterima HQ "
                "(masa simpan lewat). Datanya ada di HQ.",
                f"{which_en} was purged from this laptop after HQ acknowledged it (retention "
                "period over). HQ holds the data.",
            )
        )
        self.kind = kind
        self.record_id = record_id
        self.version = version


class VaultSettingsAltered(VaultError):
    """The vault's authenticated settings were changed outside fieldkit (exit 3, as tampering).

    Raised at unlock, before a sync and before a purge when the MAC over the security-relevant
    ``meta`` rows and acknowledgements (``fieldkit.vault.metaauth``) is missing or does not
    verify, or when the data key in an officer's slot is not the vault's. Nothing is sent,
    acknowledged or purged. ``reason`` says what did not verify (no personal data).
    """

    exit_code = 3

    def __init__(self, reason: str) -> None:
        super().__init__(
            Message(
                "Pengaturan vault (alamat dan kunci HQ, identitas perangkat, pencabutan, "
                "versi referensi atau tanda terima) diubah di luar fieldkit "
                f"({reason}). Tidak ada yang dikirim, ditandai diterima atau dihapus. "
                "Jangan sinkron; laporkan ke supervisor.",
                "The vault's settings (HQ's address and keys, the device's identity, "
                "revocations, the reference version or HQ's receipts) were altered outside "
                f"fieldkit ({reason}). Nothing was sent, marked acknowledged or purged. Do not "
                "sync; report this to the supervisor.",
            )
        )
        self.reason = reason
