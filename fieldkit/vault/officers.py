"""Officers: adding, removing (with data-key rotation), changing passphrases, listing.

Removing an officer rotates the data key so their old slot, or a copy of the old key, opens
nothing written or re-encrypted afterwards; :mod:`fieldkit.vault.rotation` does the rotation
and explains how it resumes after an interruption.
"""

from __future__ import annotations

from dataclasses import dataclass

from fieldkit import kdf
from fieldkit.domain.findings import Message
from fieldkit.domain.passphrase import passphrase_problem
from fieldkit.vault import audit, db, keyring
from fieldkit.vault.errors import (
    NotAllowed,
    UnknownOfficer,
    VaultError,
    WeakPassphrase,
)
from fieldkit.vault.rotation import resume_rotation, start_rotation
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import check_officer_id

ROLES = ("officer", "supervisor")
ROTATION_BATCH = 500


@dataclass(frozen=True, slots=True)
class Officer:
    """An officer as listed: id, name, role."""

    officer_id: str
    name: str
    role: str


def _require_supervisor(session: UnlockedVault, action: Message) -> None:
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


def list_officers(session: UnlockedVault) -> list[Officer]:
    """Every officer with a slot."""
    return [
        Officer(slot.officer_id, session.officer_name(slot), slot.role)
        for slot in keyring.all_slots(session.conn)
    ]


def add_officer(
    session: UnlockedVault,
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
    session: UnlockedVault, new_passphrase: str, params: kdf.KdfParams | None = None
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
    session: UnlockedVault,
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
        bytes.fromhex(session.vault.meta["device_public_key"]),  # verified at unlock
    )
    with db.transaction(session.conn):
        keyring.save_slot(session.conn, slot)
        audit.append(
            session.conn, session.vault.vault_id, session.officer_id, action, officer_id, detail
        )


def remove_officer(session: UnlockedVault, officer_id: str) -> None:
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
