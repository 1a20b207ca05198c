"""Officers: who may unlock the vault. Adding, removing (rotates the data key), passphrases."""

from __future__ import annotations

from fieldkit.service.session import OfficerSession, kdf_params
from fieldkit.settings import Settings
from fieldkit.vault import officers as vault_officers
from fieldkit.vault.officers import ROLES, Officer

__all__ = [
    "ROLES",
    "Officer",
    "add_officer",
    "change_passphrase",
    "list_officers",
    "remove_officer",
]


def list_officers(session: OfficerSession) -> list[Officer]:
    """Every officer with a key slot: id, name, role."""
    return vault_officers.list_officers(session.unlocked)


def add_officer(
    session: OfficerSession,
    settings: Settings,
    officer_id: str,
    name: str,
    role: str,
    passphrase: str,
) -> Officer:
    """Give a new officer a key slot (supervisors only; the passphrase's strength is checked)."""
    return vault_officers.add_officer(
        session.unlocked, officer_id, name, role, passphrase, kdf_params(settings)
    )


def remove_officer(session: OfficerSession, officer_id: str) -> None:
    """Remove an officer and rotate the data key (supervisors only; resumable)."""
    vault_officers.remove_officer(session.unlocked, officer_id)


def change_passphrase(session: OfficerSession, settings: Settings, new_passphrase: str) -> None:
    """Re-key the unlocked officer's own slot under a new passphrase."""
    vault_officers.change_passphrase(session.unlocked, new_passphrase, kdf_params(settings))
