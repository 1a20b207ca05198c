"""Every error the application layer may raise, for callers to catch by kind.

Each carries ``message`` (id/en) and ``exit_code``; :class:`VaultError` is the base of all of
them except :class:`~fieldkit.settings.SettingsError`.
"""

from __future__ import annotations

from fieldkit.service.progress import Cancelled
from fieldkit.settings import SettingsError
from fieldkit.vault.errors import (
    DeviceRevoked,
    InsecureSlot,
    IntegrityError,
    InvalidInput,
    NotAllowed,
    NotFound,
    OfficerRevoked,
    Purged,
    ReferenceUnavailable,
    Refused,
    UnknownOfficer,
    UnlockThrottled,
    VaultError,
    VaultExists,
    VaultLocked,
    VaultMissing,
    VaultSettingsAltered,
    VaultTooNew,
    VisitNotOpen,
    VisitWithdrawn,
    WeakPassphrase,
    WrongPassphrase,
)
from sync.device.errors import (
    EXIT_PARTIAL,
    EXIT_UNTRUSTED,
    AlreadyEnrolled,
    BadHqUrl,
    HqRefused,
    HqUntrusted,
    NetworkUnavailable,
    NotEnrolled,
    SyncError,
    UntrustedReference,
)

__all__ = [
    "EXIT_PARTIAL",
    "EXIT_UNTRUSTED",
    "AlreadyEnrolled",
    "BadHqUrl",
    "Cancelled",
    "DeviceRevoked",
    "HqRefused",
    "HqUntrusted",
    "InsecureSlot",
    "IntegrityError",
    "InvalidInput",
    "NetworkUnavailable",
    "NotAllowed",
    "NotEnrolled",
    "NotFound",
    "OfficerRevoked",
    "Purged",
    "ReferenceUnavailable",
    "Refused",
    "SettingsError",
    "SyncError",
    "UnknownOfficer",
    "UnlockThrottled",
    "UntrustedReference",
    "VaultError",
    "VaultExists",
    "VaultLocked",
    "VaultMissing",
    "VaultSettingsAltered",
    "VaultTooNew",
    "VisitNotOpen",
    "VisitWithdrawn",
    "WeakPassphrase",
    "WrongPassphrase",
]
