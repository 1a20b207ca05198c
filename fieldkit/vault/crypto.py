"""The few cryptographic building blocks the vault composes, all from ``cryptography``.

AES-256-GCM with a fresh random 96-bit nonce for every ciphertext, HKDF-SHA256 to derive one
key per purpose from the data key, HMAC-SHA256 for blind indexes, HPKE to wrap the data key to
each officer's slot key. Nothing here invents a construction.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
# Every sealed value starts with this format byte, so a later format can be told apart and the
# old one still opened.
SEALED_FORMAT = b"\x01"
# Slot wrapping: HPKE base mode to the officer's X25519 key (RFC 9180).
SLOT_SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.AES_256_GCM)


class AuthenticationFailed(Exception):
    """A ciphertext did not authenticate under the key and associated data given."""


def random_key() -> bytes:
    """Return a fresh 256-bit key."""
    return os.urandom(KEY_BYTES)


def derive_key(dek: bytes, purpose: str) -> bytes:
    """Derive the key for one ``purpose`` from the data key (HKDF-SHA256, no salt)."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=KEY_BYTES,
        salt=None,
        info=f"fieldkit/v1/{purpose}".encode(),
    ).derive(dek)


class Sealer:
    """AES-256-GCM under one key, for sealing many values (the cipher is set up once)."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, aad: bytes) -> bytes:
        """Encrypt; the result is format byte ‖ nonce ‖ ciphertext ‖ tag."""
        nonce = os.urandom(NONCE_BYTES)
        return SEALED_FORMAT + nonce + self._aead.encrypt(nonce, plaintext, aad)


def seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    """Encrypt one value with AES-256-GCM (see :class:`Sealer`)."""
    return Sealer(key).seal(plaintext, aad)


def open_sealed(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    """Decrypt what :func:`seal` produced, or raise :class:`AuthenticationFailed`."""
    if not isinstance(sealed, bytes) or len(sealed) < 1 + NONCE_BYTES + 16:
        raise AuthenticationFailed("ciphertext too short")
    if sealed[:1] != SEALED_FORMAT:
        raise AuthenticationFailed(f"unknown sealed format {sealed[0]}")
    body = sealed[1:]
    try:
        return AESGCM(key).decrypt(body[:NONCE_BYTES], body[NONCE_BYTES:], aad)
    except InvalidTag as exc:
        raise AuthenticationFailed("authentication tag mismatch") from exc


class BlindIndexer:
    """HMAC-SHA256 blind indexes under one key, for many values (the key schedule is done once)."""

    def __init__(self, key: bytes) -> None:
        self._base = hmac.new(key, digestmod=hashlib.sha256)

    def digest(self, field: str, value: str) -> bytes:
        """The same digest as :func:`blind_index`."""
        mac = self._base.copy()
        mac.update(f"{field}|{value}".encode())
        return mac.digest()


def blind_index(key: bytes, field: str, value: str) -> bytes:
    """Keyed digest of a normalised value, for lookups without decryption."""
    return hmac.digest(key, f"{field}|{value}".encode(), "sha256")


def canonical(value: object) -> bytes:
    """Canonical JSON bytes: sorted keys, no spaces, UTF-8; the form that is hashed and bound."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
