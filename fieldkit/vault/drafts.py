"""Forms in progress, sealed: what an officer was typing when the laptop locked itself.

When the field app locks after idle time, the form on screen is neither saved as a record
version (it may not pass the rules yet) nor kept in clear: it is sealed here, in ``meta`` under
``draft:<officer>:<name>``, as AES-256-GCM under HKDF(DEK, "draft") of the data-key generation
it was written with, the officer, the vault and the name bound in as associated data. Only an
unlocked vault can seal or open one, and only the officer who wrote it gets it back. Drafts
never travel to HQ (they are not records and not in the outbox).

Stored value (format 1): ``{"format": 1, "generation": g, "sealed": hex}``.
"""

from __future__ import annotations

import json

from fieldkit.vault import db
from fieldkit.vault.crypto import AuthenticationFailed, derive_key, open_sealed, seal
from fieldkit.vault.errors import IntegrityError
from fieldkit.vault.meta import meta_json, put_meta
from fieldkit.vault.session import UnlockedVault

DRAFT_FORMAT = 1
_PURPOSE = "draft"


def _key(officer_id: str, name: str) -> str:
    return f"draft:{officer_id}:{name}"


def _aad(vault_id: str, officer_id: str, name: str) -> bytes:
    return f"fieldkit/v1/draft|{vault_id}|{officer_id}|{name}".encode()


def save_draft(unlocked: UnlockedVault, name: str, data: dict[str, object]) -> None:
    """Seal ``data`` (JSON) as the unlocked officer's draft ``name``, replacing an older one."""
    generation = unlocked.generation
    plaintext = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
    key = derive_key(unlocked.dek(generation), _PURPOSE)
    sealed = seal(key, plaintext, _aad(unlocked.vault.vault_id, unlocked.officer_id, name))
    stored = {"format": DRAFT_FORMAT, "generation": generation, "sealed": sealed.hex()}
    with db.transaction(unlocked.conn):
        put_meta(unlocked.conn, _key(unlocked.officer_id, name), json.dumps(stored))


def load_draft(unlocked: UnlockedVault, name: str) -> dict[str, object] | None:
    """The unlocked officer's draft ``name``, or None; :class:`IntegrityError` if altered."""
    stored = meta_json(unlocked.conn, _key(unlocked.officer_id, name))
    if stored is None:
        return None
    try:
        if not isinstance(stored, dict) or stored.get("format") != DRAFT_FORMAT:
            raise ValueError("unknown draft format")
        key = derive_key(unlocked.dek(int(stored["generation"])), _PURPOSE)
        aad = _aad(unlocked.vault.vault_id, unlocked.officer_id, name)
        data = json.loads(open_sealed(key, bytes.fromhex(str(stored["sealed"])), aad))
    except (AuthenticationFailed, KeyError, ValueError, TypeError) as exc:
        raise IntegrityError("draft", name, 0, str(exc) or type(exc).__name__) from None
    return data if isinstance(data, dict) else None


def discard_draft(unlocked: UnlockedVault, name: str) -> None:
    """Forget the unlocked officer's draft ``name`` (nothing happens if there is none)."""
    with db.transaction(unlocked.conn):
        unlocked.conn.execute("DELETE FROM meta WHERE key = ?", (_key(unlocked.officer_id, name),))
