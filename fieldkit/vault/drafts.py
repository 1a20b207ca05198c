"""Forms in progress, sealed: what an officer was typing when the laptop locked itself.

When the field app locks after idle time, the form on screen is neither saved as a record
version (it may not pass the rules yet) nor kept in clear: it is sealed into its own file
beside the vault, ``drafts/<officer>.<name>.draft`` (folder 0700, file 0600, written whole and
renamed, so a power cut leaves the old draft or the new one), as AES-256-GCM under
HKDF(DEK, "draft") of the data-key generation it was written with; the vault, the officer and
the name are bound in as associated data, so a draft copied to another officer or vault does
not open. Only an unlocked vault can seal or open one, and only the officer who wrote it gets
it back. Drafts are not records: they never travel to HQ, and they stay out of ``meta`` (whose
rows the settings MAC covers).

File (format 1): the byte ``0x01``, the generation as 4 bytes big-endian, then the sealed
JSON (format byte, nonce, ciphertext, tag).
"""

from __future__ import annotations

import contextlib
import json
import re
from pathlib import Path

from fieldkit.files import UnsafeFile, read_regular, write_replacing
from fieldkit.vault.crypto import AuthenticationFailed, derive_key, open_sealed, seal
from fieldkit.vault.errors import IntegrityError
from fieldkit.vault.session import UnlockedVault

DRAFT_FORMAT = b"\x01"
DRAFTS_FOLDER = "drafts"
MAX_DRAFT_BYTES = 1024 * 1024
_PURPOSE = "draft"
_SAFE = re.compile(r"[^A-Za-z0-9_-]")


def _path(unlocked: UnlockedVault, name: str) -> Path:
    # Officer ids and draft names are plain words; anything else is escaped out of the name.
    officer = _SAFE.sub("_", unlocked.officer_id)
    return unlocked.vault.path.parent / DRAFTS_FOLDER / f"{officer}.{_SAFE.sub('_', name)}.draft"


def _aad(vault_id: str, officer_id: str, name: str) -> bytes:
    return f"fieldkit/v1/draft|{vault_id}|{officer_id}|{name}".encode()


def save_draft(unlocked: UnlockedVault, name: str, data: dict[str, object]) -> None:
    """Seal ``data`` (JSON) as the unlocked officer's draft ``name``, replacing an older one."""
    generation = unlocked.generation
    plaintext = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
    key = derive_key(unlocked.dek(generation), _PURPOSE)
    sealed = seal(key, plaintext, _aad(unlocked.vault.vault_id, unlocked.officer_id, name))
    path = _path(unlocked, name)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    write_replacing(path, DRAFT_FORMAT + generation.to_bytes(4, "big") + sealed)


def load_draft(unlocked: UnlockedVault, name: str) -> dict[str, object] | None:
    """The unlocked officer's draft ``name``, or None; :class:`IntegrityError` if altered."""
    path = _path(unlocked, name)
    if not path.exists():
        return None
    try:
        raw = read_regular(path, MAX_DRAFT_BYTES)
        if raw[:1] != DRAFT_FORMAT or len(raw) < 5:
            raise ValueError("unknown draft format")
        key = derive_key(unlocked.dek(int.from_bytes(raw[1:5], "big")), _PURPOSE)
        aad = _aad(unlocked.vault.vault_id, unlocked.officer_id, name)
        data = json.loads(open_sealed(key, raw[5:], aad))
    except (AuthenticationFailed, UnsafeFile, KeyError, ValueError) as exc:
        raise IntegrityError("draft", name, 0, str(exc) or type(exc).__name__) from None
    return data if isinstance(data, dict) else None


def discard_draft(unlocked: UnlockedVault, name: str) -> None:
    """Forget the unlocked officer's draft ``name`` (nothing happens if there is none)."""
    with contextlib.suppress(FileNotFoundError):
        _path(unlocked, name).unlink()
