"""The hash-chained audit log: verify it without a passphrase."""

from __future__ import annotations

from fieldkit.settings import Settings
from fieldkit.vault.audit import AuditVerdict
from fieldkit.vault.vault import Vault

__all__ = ["AuditVerdict", "verify_audit"]


def verify_audit(settings: Settings) -> AuditVerdict:
    """Verify the whole chain; the verdict names the first entry that fails."""
    vault = Vault.open(settings.home)
    try:
        return vault.verify_audit()
    finally:
        vault.close()
