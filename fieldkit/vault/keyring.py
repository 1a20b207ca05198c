"""Officer key slots and the data key they guard.

Each officer has an X25519 key pair. The private key is sealed with AES-256-GCM under a key
derived from the officer's passphrase with Argon2id; the associated data binds the vault id,
the officer id, the role, the KDF parameters and the public key, so none of them can be edited
in the file without the slot failing to open. The data key (DEK) is wrapped to each officer's
public key with HPKE, which lets a supervisor rotate the DEK for the remaining officers without
knowing their passphrases.

Slot format 2 (``fieldkit/v2/slot``) seals, beside the private key, the device's public signing
key. The HPKE-wrapped data key needs no secret to write (the slot's public key is in clear),
so someone without a passphrase could wrap a data key of their own to an officer's slot; the
unlock then checks that the data key opens the device signing key whose public half this slot
pinned under the passphrase (:mod:`fieldkit.vault.vault`). A slot of format 1 (made before)
pins nothing; it is re-sealed as format 2 at its officer's next unlock (:func:`upgrade_slot`).
"""

from __future__ import annotations

import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fieldkit import kdf
from fieldkit.vault.crypto import (
    SLOT_SUITE,
    AuthenticationFailed,
    canonical,
    derive_key,
    open_sealed,
    seal,
)
from fieldkit.vault.errors import IntegrityError


@dataclass(frozen=True, slots=True)
class Slot:
    """One officer's key slot as stored."""

    officer_id: str
    role: str
    params: kdf.KdfParams
    salt: bytes
    public_key: bytes
    wrapped_private_key: bytes
    wrapped_dek: bytes
    dek_generation: int
    sealed_name: bytes


def _slot_aad(
    vault_id: str, officer_id: str, role: str, params: kdf.KdfParams, pub: bytes
) -> bytes:
    return canonical(["fieldkit/v1/slot", vault_id, officer_id, role, params.as_dict(), pub.hex()])


def _slot_aad_v2(
    vault_id: str, officer_id: str, role: str, params: kdf.KdfParams, pub: bytes
) -> bytes:
    return canonical(["fieldkit/v2/slot", vault_id, officer_id, role, params.as_dict(), pub.hex()])


SLOT_FORMAT = 2
_PRIVATE_BYTES = 32
_DEVICE_PUBLIC_BYTES = 32


@dataclass(frozen=True, slots=True, repr=False)
class OpenedSlot:
    """What a passphrase opened: the data key and, for a format-2 slot, the pinned device key.

    ``kek`` and ``private_raw`` are kept only to re-seal a format-1 slot as format 2.
    """

    dek: bytes
    format: int
    device_public_key: bytes | None
    kek: bytes
    private_raw: bytes


def _dek_info(vault_id: str, officer_id: str, generation: int) -> bytes:
    return canonical(["fieldkit/v1/slot-dek", vault_id, officer_id, generation])


def _name_aad(officer_id: str) -> bytes:
    return canonical(["fieldkit/v1/officer-name", officer_id])


def seal_name(dek: bytes, officer_id: str, name: str) -> bytes:
    """Seal an officer's name under the data key (names are personal data too)."""
    return seal(derive_key(dek, "officer-names"), name.encode(), _name_aad(officer_id))


def open_name(dek: bytes, officer_id: str, sealed: bytes) -> str:
    """Open a name sealed by :func:`seal_name`."""
    return open_sealed(derive_key(dek, "officer-names"), sealed, _name_aad(officer_id)).decode()


def wrap_dek(
    vault_id: str, officer_id: str, public_key: bytes, dek: bytes, generation: int
) -> bytes:
    """Wrap the data key to an officer's public key (HPKE base mode)."""
    from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PublicKey

    return SLOT_SUITE.encrypt(
        dek,
        X25519PublicKey.from_public_bytes(public_key),
        info=_dek_info(vault_id, officer_id, generation),
    )


def make_slot(
    vault_id: str,
    officer_id: str,
    role: str,
    name: str,
    passphrase: str,
    dek: bytes,
    generation: int,
    params: kdf.KdfParams,
    device_public_key: bytes,
) -> Slot:
    """Create a slot for a new officer (or a new passphrase: a fresh key pair each time).

    Format 2: the device's public signing key is sealed with the private key, pinned.
    """
    private = X25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    salt = os.urandom(kdf.SALT_BYTES)
    kek = kdf.derive(passphrase, salt, params)
    private_raw = private.private_bytes_raw()
    return Slot(
        officer_id=officer_id,
        role=role,
        params=params,
        salt=salt,
        public_key=public,
        wrapped_private_key=seal(
            kek,
            private_raw + _device_public(device_public_key),
            _slot_aad_v2(vault_id, officer_id, role, params, public),
        ),
        wrapped_dek=wrap_dek(vault_id, officer_id, public, dek, generation),
        dek_generation=generation,
        sealed_name=seal_name(dek, officer_id, name),
    )


def _device_public(device_public_key: bytes) -> bytes:
    if len(device_public_key) != _DEVICE_PUBLIC_BYTES:
        raise ValueError("a device public key is 32 bytes")
    return device_public_key


def open_slot(vault_id: str, slot: Slot, passphrase: str) -> OpenedSlot:
    """Open the slot (format 2, or 1 for a slot made before), or :class:`AuthenticationFailed`.

    The key is derived once; format 2's associated data is tried first. A format-1 ciphertext
    can only have been made with the passphrase, before the slot was upgraded: nobody without
    it can turn a format-2 slot into one.
    """
    kek = kdf.derive(passphrase, slot.salt, slot.params)
    args = (vault_id, slot.officer_id, slot.role, slot.params, slot.public_key)
    device_public: bytes | None
    try:
        opened = open_sealed(kek, slot.wrapped_private_key, _slot_aad_v2(*args))
        if len(opened) != _PRIVATE_BYTES + _DEVICE_PUBLIC_BYTES:
            raise AuthenticationFailed("slot plaintext has the wrong length")
        slot_format = 2
        private_raw, device_public = opened[:_PRIVATE_BYTES], opened[_PRIVATE_BYTES:]
    except AuthenticationFailed:
        private_raw = open_sealed(kek, slot.wrapped_private_key, _slot_aad(*args))
        slot_format, device_public = 1, None
    private = X25519PrivateKey.from_private_bytes(private_raw)
    try:
        dek = SLOT_SUITE.decrypt(
            slot.wrapped_dek,
            private,
            info=_dek_info(vault_id, slot.officer_id, slot.dek_generation),
        )
    except Exception as exc:  # HPKE raises its own error types; all mean the same here
        raise AuthenticationFailed("data key does not unwrap") from exc
    return OpenedSlot(dek, slot_format, device_public, kek, private_raw)


def upgrade_slot(
    conn: sqlite3.Connection,
    vault_id: str,
    slot: Slot,
    opened: OpenedSlot,
    device_public_key: bytes,
) -> None:
    """Re-seal a format-1 slot's private key as format 2, pinning ``device_public_key``.

    Same key pair, so the wrapped data key stays valid; in the caller's transaction.
    """
    sealed = seal(
        opened.kek,
        opened.private_raw + _device_public(device_public_key),
        _slot_aad_v2(vault_id, slot.officer_id, slot.role, slot.params, slot.public_key),
    )
    conn.execute(
        "UPDATE key_slots SET wrapped_private_key = ? WHERE officer_id = ?",
        (sealed, slot.officer_id),
    )


def save_slot(conn: sqlite3.Connection, slot: Slot) -> None:
    """Insert or replace a slot."""
    conn.execute(
        "INSERT OR REPLACE INTO key_slots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            slot.officer_id,
            slot.role,
            json.dumps(slot.params.as_dict()),
            slot.salt,
            slot.public_key,
            slot.wrapped_private_key,
            slot.wrapped_dek,
            slot.dek_generation,
            slot.sealed_name,
            datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )


def load_slot(conn: sqlite3.Connection, officer_id: str) -> Slot | None:
    """Read one officer's slot, or None."""
    row = conn.execute(
        "SELECT officer_id, role, kdf, salt, public_key, wrapped_private_key, wrapped_dek, "
        "dek_generation, sealed_name FROM key_slots WHERE officer_id = ?",
        (officer_id,),
    ).fetchone()
    if row is None:
        return None
    try:
        params = kdf.KdfParams.from_dict(json.loads(row[2]))
    except (ValueError, KeyError, TypeError) as exc:
        raise IntegrityError("key_slot", officer_id, 0, "unreadable KDF parameters") from exc
    return Slot(
        officer_id=row[0],
        role=row[1],
        params=params,
        salt=row[3],
        public_key=row[4],
        wrapped_private_key=row[5],
        wrapped_dek=row[6],
        dek_generation=row[7],
        sealed_name=row[8],
    )


def all_slots(conn: sqlite3.Connection) -> list[Slot]:
    """Every slot, ordered by officer id."""
    ids = [row[0] for row in conn.execute("SELECT officer_id FROM key_slots ORDER BY officer_id")]
    return [slot for slot in (load_slot(conn, i) for i in ids) if slot is not None]


__all__ = [
    "SLOT_FORMAT",
    "AuthenticationFailed",
    "OpenedSlot",
    "Slot",
    "all_slots",
    "load_slot",
    "make_slot",
    "open_name",
    "open_slot",
    "save_slot",
    "seal_name",
    "upgrade_slot",
    "wrap_dek",
]


def _device_key_aad(device_id: str) -> bytes:
    return canonical(["fieldkit/v1/device-key", device_id])


def seal_device_key(dek: bytes, device_id: str, private: Ed25519PrivateKey) -> bytes:
    """Seal the device signing key under the data key."""
    return seal(
        derive_key(dek, "device-key"), private.private_bytes_raw(), _device_key_aad(device_id)
    )


def open_device_key(dek: bytes, device_id: str, sealed: bytes) -> Ed25519PrivateKey:
    """Open the device signing key sealed by :func:`seal_device_key`."""
    raw = open_sealed(derive_key(dek, "device-key"), sealed, _device_key_aad(device_id))
    return Ed25519PrivateKey.from_private_bytes(raw)
