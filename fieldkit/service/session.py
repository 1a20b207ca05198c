"""Creating the vault, unlocking it as an officer, locking it: the :class:`OfficerSession`.

An :class:`OfficerSession` is what the CLI and the field app hold while an officer works: the
unlocked vault, the officer's id and role, what they must be told about the unlock, and what is
read once per unlock (HQ's published fee schedules, refreshed when new reference data is
applied). Every other module of the application layer takes one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from fieldkit import kdf
from fieldkit.domain.fees import FeeSchedule
from fieldkit.domain.findings import Message
from fieldkit.settings import Settings
from fieldkit.vault import syncstate
from fieldkit.vault.home import vault_path
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault

PassphraseSource = Callable[[], str]
"""Asked for the passphrase only once the officer may unlock (after the revocation check)."""


class OfficerSession:
    """An officer's unlocked vault, as the CLI and the field app hold it.

    Safe to share between the main thread and worker threads (see :mod:`fieldkit.service`).
    ``unlocked`` is for the application layer only.
    """

    def __init__(self, unlocked: UnlockedVault) -> None:
        self.unlocked = unlocked
        self._fees_lock = threading.Lock()
        self._fees: tuple[int | None, tuple[FeeSchedule, ...] | None] | None = None

    @property
    def officer_id(self) -> str:
        """The officer who unlocked."""
        return self.unlocked.officer_id

    @property
    def role(self) -> str:
        """``officer`` or ``supervisor``."""
        return self.unlocked.role

    @property
    def device_id(self) -> str:
        """The laptop's device id."""
        return self.unlocked.vault.device_id

    @property
    def vault_id(self) -> str:
        """The vault's id."""
        return self.unlocked.vault.vault_id

    @property
    def home(self) -> Path:
        """The folder that holds the vault."""
        return self.unlocked.vault.path.parent

    @property
    def warnings(self) -> tuple[Message, ...]:
        """What the officer must be told about this unlock (shown once, after unlocking).

        First what opening the vault changed on disk (a loose folder or file made private).
        """
        return (*self.unlocked.vault.notices, *self.unlocked.warnings)

    def fee_schedules(self) -> tuple[FeeSchedule, ...] | None:
        """HQ's published fee schedules (None: use the packaged ones), read once per version.

        The stored reference document is decrypted and parsed only when its version differs
        from the one last read: once per unlock, and again after a sync applied new reference
        data (by this session, another thread or another process).
        """
        state = syncstate.reference_state(self.unlocked.vault)
        version = state.version if state is not None else None
        with self._fees_lock:
            if self._fees is None or self._fees[0] != version:
                self._fees = (version, syncstate.published_fee_schedules(self.unlocked))
            return self._fees[1]

    def lock(self) -> None:
        """Forget the keys (audited) and close the vault file."""
        self.unlocked.lock()
        self.unlocked.vault.close()


def create_vault(settings: Settings, officer_id: str, name: str, passphrase: str) -> OfficerSession:
    """Create the vault in ``settings.home`` with its first officer, a supervisor, unlocked.

    Key derivation is calibrated on this laptop (about a second), or cheap under the explicit
    test setting (with a warning in :attr:`OfficerSession.warnings`).
    """
    unlocked = Vault.create(
        settings.home,
        officer_id=officer_id,
        name=name,
        passphrase=passphrase,
        params=kdf_params(settings),
    )
    return OfficerSession(unlocked)


def unlock(settings: Settings, officer_id: str, passphrase: PassphraseSource) -> OfficerSession:
    """Open the vault and unlock it as ``officer_id``.

    An officer HQ revoked is refused (audited) before ``passphrase`` is even asked for.
    Failures are counted and throttled by the vault; a slot made under the insecure test KDF
    opens only with the test setting on.
    """
    vault = Vault.open(settings.home)
    try:
        syncstate.refuse_revoked_officer(vault, officer_id)
        unlocked = vault.unlock(officer_id, passphrase(), allow_test_kdf=settings.insecure_test_kdf)
    except BaseException:
        vault.close()
        raise
    return OfficerSession(unlocked)


def kdf_params(settings: Settings) -> kdf.KdfParams:
    """Key-derivation parameters for a new slot (calibrated, or cheap under the test setting)."""
    return kdf.calibrate(insecure=settings.insecure_test_kdf)


def vault_exists(settings: Settings) -> bool:
    """Whether ``settings.home`` holds a vault yet (the field app offers setup when not)."""
    return vault_path(settings.home).exists()
