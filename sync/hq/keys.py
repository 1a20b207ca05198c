"""HQ's keys: the HPKE encryption key pairs devices seal batches to, and the Ed25519 signing key.

Everything lives in one versioned JSON file, ``$FIELDKIT_HQ_HOME/hq-keys.json`` (mode 0600, in
a home folder kept 0700: :func:`secure_home`).
Public parts are in clear; each private part is sealed with AES-256-GCM under a key derived
from HQ's passphrase with Argon2id (parameters calibrated at ``init``, never below 64 MiB
unless ``FIELDKIT_INSECURE_TEST_KDF=1``; they are stored in the file). The associated data of
each sealed part binds the file format, the key's purpose, its kid, its public key and the
KDF parameters, so a sealed private key cannot be moved to another entry or reused with a
weakened KDF.

Rotation: ``encryption_keys`` is a list; one is current (published to devices at enrollment),
the others stay accepted for batches already sealed to them until they are retired.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fieldkit import files, kdf
from sync.wire import envelope

HOME_ENV = "FIELDKIT_HQ_HOME"
PASSPHRASE_ENV = "FIELDKIT_HQ_PASSPHRASE"
KEYS_FILE = "hq-keys.json"
FORMAT = "fieldkit-hq-keys"
VERSION = 1
_NONCE = 12


class KeysError(Exception):
    """HQ's key file is missing, unreadable, or the passphrase does not open it."""


class NotInitialised(KeysError):
    """No key file in HQ's home: run ``fieldkit-hq init``."""


class WrongPassphrase(KeysError):
    """The passphrase does not open HQ's keys (or the file was tampered with)."""


def keys_path(home: Path) -> Path:
    """The key file in ``home``."""
    return home / KEYS_FILE


def signing_kid(public32: bytes) -> str:
    """First 16 hex characters of SHA-256 of the Ed25519 public key (like ``hq_kid``)."""
    return hashlib.sha256(public32).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class EncryptionKey:
    """One HPKE key pair (private 96 B, public 1216 B) and its kid."""

    kid: str
    public: bytes
    private: bytes
    created_at: str
    retired_at: str | None = None


@dataclass(frozen=True)
class HQKeys:
    """HQ's unlocked keys."""

    encryption_keys: tuple[EncryptionKey, ...]
    current_kid: str
    signing_key: Ed25519PrivateKey

    @property
    def current(self) -> EncryptionKey:
        """The encryption key devices are given at enrollment."""
        return next(k for k in self.encryption_keys if k.kid == self.current_kid)

    def decryption_key(self, kid: str) -> bytes | None:
        """The private key for ``kid`` if batches sealed to it are accepted, else None."""
        for key in self.encryption_keys:
            if key.kid == kid and key.retired_at is None:
                return key.private
        return None

    @property
    def signing_public(self) -> bytes:
        """HQ's Ed25519 public key (32 B)."""
        return self.signing_key.public_key().public_bytes_raw()

    @property
    def signing_kid(self) -> str:
        """The kid of HQ's signing key, named in receipts."""
        return signing_kid(self.signing_public)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object) -> bytes:
    if not isinstance(text, str):
        raise KeysError("key file: expected base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise KeysError("key file: bad base64") from exc


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _aad(purpose: str, kid: str, public: bytes, kdf_block: dict[str, object]) -> bytes:
    bound = {
        "format": FORMAT,
        "version": VERSION,
        "purpose": purpose,
        "kid": kid,
        "public": _b64(public),
        "kdf": kdf_block,
    }
    return envelope.canonical(bound)


def _seal(kek: bytes, plaintext: bytes, aad: bytes) -> str:
    nonce = os.urandom(_NONCE)
    return _b64(nonce + AESGCM(kek).encrypt(nonce, plaintext, aad))


def _open(kek: bytes, sealed: object, aad: bytes) -> bytes:
    raw = _unb64(sealed)
    if len(raw) < _NONCE + 16:
        raise WrongPassphrase("key file: sealed key too short")
    try:
        return AESGCM(kek).decrypt(raw[:_NONCE], raw[_NONCE:], aad)
    except InvalidTag as exc:
        raise WrongPassphrase("The passphrase does not open HQ's keys.") from exc


def secure_home(home: Path) -> None:
    """Make HQ's home 0700 and its key file 0600, with a warning in HQ's log if they were not.

    Raises :class:`KeysError` for a home HQ must not change (another user's, or a shared
    folder with the sticky bit such as ``/tmp``).
    """
    try:
        notices = [files.private_folder(home), files.tighten_file(keys_path(home))]
    except files.UnsafeFile as exc:
        raise KeysError(exc.message.en) from None
    for notice in notices:
        if notice is not None:
            logging.getLogger("fieldkit.hq").warning("%s", notice.en)


def _write_atomically(path: Path, document: dict[str, object]) -> None:
    secure_home(path.parent)
    text = json.dumps(document, indent=2, sort_keys=True) + "\n"
    fd, tmp = tempfile.mkstemp(prefix=".hq-keys-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _new_encryption_entry(kek: bytes, kdf_block: dict[str, object]) -> dict[str, object]:
    private, public = envelope.generate_hq_encryption_key()
    kid = envelope.hq_kid(public)
    return {
        "kid": kid,
        "public": _b64(public),
        "created_at": _now(),
        "retired_at": None,
        "sealed_private": _seal(kek, private, _aad("encryption", kid, public, kdf_block)),
    }


def create(home: Path, passphrase: str, params: kdf.KdfParams | None = None) -> HQKeys:
    """Generate HQ's keys and write the key file; refuse if one exists already."""
    path = keys_path(home)
    if path.exists():
        raise KeysError(f"HQ's keys already exist in {path}; they are never overwritten.")
    params = params or kdf.calibrate()
    salt = os.urandom(kdf.SALT_BYTES)
    kdf_block: dict[str, object] = {**params.as_dict(), "salt": _b64(salt)}
    kek = kdf.derive(passphrase, salt, params)
    signing = Ed25519PrivateKey.generate()
    signing_public = signing.public_key().public_bytes_raw()
    skid = signing_kid(signing_public)
    encryption = _new_encryption_entry(kek, kdf_block)
    document: dict[str, object] = {
        "format": FORMAT,
        "version": VERSION,
        "created_at": _now(),
        "kdf": kdf_block,
        "current_kid": encryption["kid"],
        "encryption_keys": [encryption],
        "signing_key": {
            "kid": skid,
            "public": _b64(signing_public),
            "created_at": _now(),
            "sealed_private": _seal(
                kek, signing.private_bytes_raw(), _aad("signing", skid, signing_public, kdf_block)
            ),
        },
    }
    _write_atomically(path, document)
    return unlock(home, passphrase)


def _load(home: Path) -> dict[str, object]:
    path = keys_path(home)
    if home.is_dir():
        secure_home(home)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise NotInitialised(
            f"No HQ keys in {home}. Run `fieldkit-hq init` (or set {HOME_ENV})."
        ) from exc
    except OSError as exc:
        raise KeysError(f"Cannot read {path}: {exc.strerror}") from exc
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise KeysError(f"{path} is not valid JSON.") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise KeysError(f"{path} is not an HQ key file.")
    if document.get("version") != VERSION:
        raise KeysError(f"{path} has key file version {document.get('version')!r}; need {VERSION}.")
    return document


def unlock(home: Path, passphrase: str) -> HQKeys:
    """Open HQ's keys with the passphrase."""
    document = _load(home)
    try:
        kdf_block = dict(document["kdf"])  # type: ignore[call-overload]
        salt = _unb64(kdf_block["salt"])
        params = kdf.KdfParams.from_dict(kdf_block)
        kek = kdf.derive(passphrase, salt, params)
        signing_entry = document["signing_key"]
        assert isinstance(signing_entry, dict)
        public = _unb64(signing_entry["public"])
        raw = _open(
            kek,
            signing_entry["sealed_private"],
            _aad("signing", str(signing_entry["kid"]), public, kdf_block),
        )
        signing = Ed25519PrivateKey.from_private_bytes(raw)
        keys = []
        entries = document["encryption_keys"]
        assert isinstance(entries, list)
        for entry in entries:
            public = _unb64(entry["public"])
            kid = str(entry["kid"])
            if envelope.hq_kid(public) != kid:
                raise KeysError(f"key file: kid {kid} does not match its public key")
            private = _open(
                kek, entry["sealed_private"], _aad("encryption", kid, public, kdf_block)
            )
            keys.append(
                EncryptionKey(kid, public, private, str(entry["created_at"]), entry["retired_at"])
            )
        current = str(document["current_kid"])
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        raise KeysError(f"{keys_path(home)} is damaged: {exc!r}") from exc
    if not any(k.kid == current and k.retired_at is None for k in keys):
        raise KeysError("key file: the current encryption key is missing or retired")
    return HQKeys(tuple(keys), current, signing)


def rotate_encryption_key(home: Path, passphrase: str) -> HQKeys:
    """Add a new current encryption key; earlier keys stay accepted until retired."""
    unlock(home, passphrase)  # proves the passphrase before anything is written
    document = _load(home)
    kdf_block = dict(document["kdf"])  # type: ignore[call-overload]
    kek = kdf.derive(passphrase, _unb64(kdf_block["salt"]), kdf.KdfParams.from_dict(kdf_block))
    entry = _new_encryption_entry(kek, kdf_block)
    document["encryption_keys"] = [*document["encryption_keys"], entry]  # type: ignore[misc]
    document["current_kid"] = entry["kid"]
    _write_atomically(keys_path(home), document)
    return unlock(home, passphrase)


def retire_encryption_key(home: Path, passphrase: str, kid: str) -> HQKeys:
    """Stop accepting batches sealed to ``kid`` (never the current key)."""
    keys = unlock(home, passphrase)
    if kid == keys.current_kid:
        raise KeysError("The current encryption key cannot be retired; rotate first.")
    document = _load(home)
    entries = document["encryption_keys"]
    assert isinstance(entries, list)
    if not any(e["kid"] == kid for e in entries):
        raise KeysError(f"No encryption key {kid}.")
    for entry in entries:
        if entry["kid"] == kid and entry["retired_at"] is None:
            entry["retired_at"] = _now()
    _write_atomically(keys_path(home), document)
    return unlock(home, passphrase)


def public_summary(home: Path) -> dict[str, object]:
    """The public half of the key file (no passphrase needed): kids, current, signing kid."""
    document = _load(home)
    entries = document.get("encryption_keys") or []
    signing_entry = document.get("signing_key") or {}
    return {
        "current_kid": document.get("current_kid"),
        "encryption_keys": [
            {"kid": e.get("kid"), "created_at": e.get("created_at"), "retired_at": e["retired_at"]}
            for e in entries  # type: ignore[union-attr]
        ],
        "signing_kid": signing_entry.get("kid"),  # type: ignore[union-attr]
    }
