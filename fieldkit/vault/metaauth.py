"""Authenticating what the device trusts: a MAC over the vault's settings, keyed from the DEK.

Someone who can edit the vault file but knows no passphrase must not be able to redirect the
laptop: swap HQ's address and pinned keys, the device's identity, HQ's revocations, the
reference version, or mark batches acknowledged (which a later purge trusts). So every
``meta`` row except :data:`CLEAR_KEYS`, and the acknowledgement columns of every acknowledged
batch, are covered by one HMAC-SHA256 under ``HKDF(DEK, "fieldkit/v1/meta-mac")``, stored in
``meta`` as :data:`MAC_KEY`. The MAC is checked at unlock, before every sync and before a
purge (:func:`verify`); every legitimate write of covered state re-seals it in the same
transaction (:func:`seal`), last, after the write's audit entry.

Encoding (version :data:`MAC_VERSION`): length-framed (8-byte big-endian length, then bytes)
``"fieldkit/meta-mac/v1"``, the header as canonical JSON (``v``, ``generation``,
``audit_seq``, ``audit_hash``), ``"meta"``, the number of covered rows, then each row's key
and type-tagged value in key order. Acknowledged batches are covered through the
:data:`ACKS_KEY` row: per batch, the SHA-256 of its :data:`ACKED_BATCH_COLUMNS` (canonical
JSON) and of its outbox entries, added when the batch is acknowledged (so re-sealing after a
receipt costs one row, not one per batch ever acknowledged); :func:`verify` checks every
acknowledged row against it, :func:`verify_acknowledged_outbox` the outbox entries.

Replaying older settings: the header binds the audit chain's head at sealing time, and every
settings change is audited (:data:`SETTINGS_ACTIONS`) in the transaction that re-seals. An older
``(meta, MAC)`` set copied back therefore names an audit head after which a settings change is
recorded, and is refused, unless the attacker also rebuilds the audit chain from that point
(which HQ detects for the part it already holds). Acknowledged batches' outbox entries are
pinned by a digest per batch (:data:`ACKS_KEY`), checked before a purge.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
from collections.abc import Mapping

from fieldkit.vault import audit
from fieldkit.vault.crypto import canonical, derive_key
from fieldkit.vault.errors import VaultSettingsAltered
from fieldkit.vault.meta import meta_json, meta_value, put_meta

# ``meta.format``: 1 = before authenticated settings (no MAC), 2 = with them.
FORMAT = 2
LEGACY_FORMAT = 1
MAC_VERSION = 1
MAC_KEY = "meta_mac"
ACKS_KEY = "acknowledged"
_PURPOSE = "meta-mac"  # HKDF info "fieldkit/v1/meta-mac"
_LABEL = b"fieldkit/meta-mac/v1"

# The security-relevant rows, named once. Every row of ``meta`` that is not in CLEAR_KEYS is
# covered, including any a later version adds; this set is the inventory (a test checks that
# a vault that has enrolled, synced, pulled reference data and rotated its key holds no other).
AUTHENTICATED_KEYS = frozenset(
    {
        "format",  # the version marker: downgrading it must not buy trust-on-first-use again
        "vault_id",
        "device_id",
        "created_at",
        "device_public_key",
        "device_private_sealed",
        "dek_generation",
        "blind_index_generation",
        "rotation",  # an unfinished rotation: deleting it would keep the removed officer's key
        "hq_url",
        "hq_kid",
        "hq_encryption_public_key",
        "hq_signing_public_key",
        "hq_enrolled_at",
        "reference",  # version, issue time and key generation of the stored reference data
        "reference_sealed",  # AEAD-sealed already; covered so deleting or replaying it shows
        "revoked_officers",
        "device_revoked",
        "device_encryption_key",  # the key HQ seals reference data to (reference format 2)
        ACKS_KEY,  # per acknowledged batch: digests of its row and of its outbox entries
    }
)
# Only the MAC itself stays outside it. The unlock throttle (``unlock_failures``) is not in
# ``meta``: it must be written before any key exists, so it cannot be authenticated (an attacker
# who resets it gains guesses at Argon2id speed, no more than copying the file gives).
CLEAR_KEYS = frozenset({MAC_KEY})

# What a purge trusts of an acknowledged batch: its ranges, HQ's receipt and when it came.
# ``attempts``/``last_error`` are retry bookkeeping and ``envelope`` is emptied by a purge.
ACKED_BATCH_COLUMNS = (
    "seq",
    "batch_id",
    "outbox_first",
    "outbox_last",
    "audit_first",
    "audit_last",
    "item_count",
    "hq_kid",
    "ct_sha256",
    "created_at",
    "receipt",
    "acked_at",
)

# The audit actions written in the same transaction as a change of covered settings (then
# re-sealed): one of them after the sealed audit head means the settings were rolled back.
SETTINGS_ACTIONS = frozenset(
    {
        "vault_created",
        "vault_settings_sealed",
        "device_enrolled",
        "device_encryption_key_created",
        "reference_applied",
        "device_revoked",
        "key_rotation_started",
        "key_rotation_completed",
    }
)
SEALED_ACTION = "vault_settings_sealed"


def _frame(mac: hmac.HMAC, data: bytes) -> None:
    mac.update(len(data).to_bytes(8, "big"))
    mac.update(data)


def _tagged(value: object) -> bytes:
    """A stored value with its SQLite type, so text and bytes with equal contents differ."""
    if value is None:
        return b"n"
    if isinstance(value, bytes | bytearray | memoryview):
        return b"b" + bytes(value)
    if isinstance(value, str):
        return b"t" + value.encode()
    if isinstance(value, int):
        return b"i" + str(value).encode()
    if isinstance(value, float):
        return b"f" + repr(value).encode()
    raise TypeError(f"unexpected meta value type {type(value).__name__}")


def mac_key(dek: bytes) -> bytes:
    """The MAC key of a data key (HKDF-SHA256, info ``fieldkit/v1/meta-mac``)."""
    return derive_key(dek, _PURPOSE)


def compute(conn: sqlite3.Connection, key: bytes, header: Mapping[str, object]) -> bytes:
    """The MAC of the covered state as it is now in ``conn`` (see the module doc)."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    _frame(mac, _LABEL)
    _frame(mac, canonical(dict(header)))
    rows = [
        (k, v)
        for k, v in conn.execute("SELECT key, value FROM meta ORDER BY key")
        if k not in CLEAR_KEYS
    ]
    _frame(mac, b"meta")
    _frame(mac, str(len(rows)).encode())
    for key_name, value in rows:
        _frame(mac, str(key_name).encode())
        _frame(mac, _tagged(value))
    return mac.digest()


def _audit_head(conn: sqlite3.Connection) -> tuple[int, bytes]:
    row = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), bytes(row[1])) if row else (0, b"")


def seal(conn: sqlite3.Connection, dek: bytes, generation: int) -> None:
    """Re-seal the covered state under ``dek`` (of ``generation``), in the caller's transaction.

    Call it last in the transaction, after the write's audit entry: the MAC binds the audit
    head as it is then.
    """
    seq, head = _audit_head(conn)
    header = {
        "v": MAC_VERSION,
        "generation": generation,
        "audit_seq": seq,
        "audit_hash": head.hex(),
    }
    mac = compute(conn, mac_key(dek), header)
    put_meta(conn, MAC_KEY, json.dumps({**header, "mac": mac.hex()}, sort_keys=True))


def sealed_generation(conn: sqlite3.Connection) -> int | None:
    """The data-key generation the stored MAC claims (unverified), or None."""
    raw = meta_json(conn, MAC_KEY)
    generation = raw.get("generation") if isinstance(raw, dict) else None
    return generation if type(generation) is int else None


def verify(conn: sqlite3.Connection, deks: Mapping[int, bytes]) -> dict[str, object]:
    """Check the MAC, the audit binding and the acknowledged batches; return ``meta`` as verified.

    Reads one consistent snapshot (its own read transaction unless the caller holds one).
    Raises :class:`VaultSettingsAltered` when the MAC is missing, unreadable, sealed under a
    key not in ``deks``, does not match, or an audited settings change follows its audit head.
    """
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        return _verify(conn, deks)
    finally:
        if own:
            conn.execute("COMMIT")


def _verify(conn: sqlite3.Connection, deks: Mapping[int, bytes]) -> dict[str, object]:
    raw = meta_value(conn, MAC_KEY)
    if raw is None:
        raise VaultSettingsAltered("the authentication record is missing")
    try:
        record = json.loads(raw)  # type: ignore[arg-type]
        header = {
            "v": record["v"],
            "generation": record["generation"],
            "audit_seq": record["audit_seq"],
            "audit_hash": record["audit_hash"],
        }
        stored = bytes.fromhex(record["mac"])
        audit_seq, audit_hash = int(record["audit_seq"]), bytes.fromhex(record["audit_hash"])
    except (ValueError, KeyError, TypeError) as exc:
        raise VaultSettingsAltered("the authentication record is unreadable") from exc
    if header["v"] != MAC_VERSION:
        raise VaultSettingsAltered(f"unknown authentication version {header['v']!r}")
    dek = deks.get(header["generation"])  # type: ignore[call-overload]
    if dek is None:
        raise VaultSettingsAltered(
            "sealed under a data key this session does not hold; if a supervisor just removed "
            "an officer, unlock again"
        )
    if not hmac.compare_digest(compute(conn, mac_key(dek), header), stored):
        raise VaultSettingsAltered("the authentication code does not match")
    if audit_seq:
        row = conn.execute("SELECT hash FROM audit WHERE seq = ?", (audit_seq,)).fetchone()
        if row is None or bytes(row[0]) != audit_hash:
            raise VaultSettingsAltered("the audit chain no longer holds the sealing entry")
    marks = ", ".join("?" * len(SETTINGS_ACTIONS))
    later = conn.execute(
        f"SELECT seq FROM audit WHERE seq > ? AND action IN ({marks}) ORDER BY seq LIMIT 1",
        (audit_seq, *sorted(SETTINGS_ACTIONS)),
    ).fetchone()
    if later is not None:
        raise VaultSettingsAltered(
            f"older settings were put back (audit entry {later[0]} records a later change)"
        )
    _check_acknowledged_rows(conn)
    return {k: v for k, v in conn.execute("SELECT key, value FROM meta") if k not in CLEAR_KEYS}


def _pinned_acks(conn: sqlite3.Connection) -> dict[str, list[object]]:
    pinned = meta_json(conn, ACKS_KEY)
    return dict(pinned) if isinstance(pinned, dict) else {}


def _row_digest(row: tuple[object, ...]) -> str:
    return hashlib.sha256(b"fieldkit/acked-batch/v1" + canonical(list(row))).hexdigest()


def _acked_rows(conn: sqlite3.Connection) -> list[tuple[object, ...]]:
    return conn.execute(
        f"SELECT {', '.join(ACKED_BATCH_COLUMNS)} FROM sync_batches "
        "WHERE acked_at IS NOT NULL ORDER BY seq"
    ).fetchall()


def _check_acknowledged_rows(conn: sqlite3.Connection) -> None:
    """Every acknowledged batch is one fieldkit acknowledged, with the columns it wrote."""
    pinned = _pinned_acks(conn)
    rows = _acked_rows(conn)
    if set(pinned) != {str(row[0]) for row in rows}:
        raise VaultSettingsAltered("the acknowledged batches are not the ones HQ acknowledged")
    for row in rows:
        entry = pinned[str(row[0])]
        if not isinstance(entry, list) or not entry or entry[0] != _row_digest(row):
            raise VaultSettingsAltered(f"acknowledged batch {row[0]} was changed")


# -- the vault before authenticated settings --------------------------------------------------


def ever_sealed(conn: sqlite3.Connection) -> bool:
    """True when anything shows this vault had authenticated settings.

    The MAC row, a format marker of 2 or more, or the audit chain's record of the upgrade (or
    of a creation at format 2). Deleting the MAC and lowering the marker is not enough to be
    treated as an old vault again: the audit entry stays.
    """
    if meta_value(conn, MAC_KEY) is not None:
        return True
    marker = meta_value(conn, "format")
    try:
        if marker is not None and int(marker) >= FORMAT:  # type: ignore[call-overload]
            return True
    except (TypeError, ValueError):
        return True  # an unreadable marker is not the old format's
    if conn.execute("SELECT 1 FROM audit WHERE action = ? LIMIT 1", (SEALED_ACTION,)).fetchone():
        return True
    for (detail,) in conn.execute("SELECT detail FROM audit WHERE action = 'vault_created'"):
        try:
            created_format = json.loads(detail).get("format")
        except (ValueError, AttributeError):
            return True
        if not isinstance(created_format, int) or created_format >= FORMAT:
            return True
    return False


def upgrade(
    conn: sqlite3.Connection, vault_id: str, officer_id: str, dek: bytes, generation: int
) -> None:
    """Seal an older vault's settings as they are now (trust on first use), audited.

    In the caller's transaction. What someone changed in the file before this moment is not
    detected; everything after is.
    """
    batches = rebuild_acknowledged(conn)
    put_meta(conn, "format", str(FORMAT))
    audit.append(
        conn,
        vault_id,
        officer_id,
        SEALED_ACTION,
        None,
        {"format": FORMAT, "from_format": LEGACY_FORMAT, "acked_batches": batches},
    )
    seal(conn, dek, generation)


# -- acknowledged batches' outbox entries -----------------------------------------------------


def outbox_digest(conn: sqlite3.Connection, first: int, last: int) -> str:
    """SHA-256 over the outbox entries ``first..last`` (seq, kind, id, version), framed."""
    digest = hashlib.sha256(b"fieldkit/acked-outbox/v1")
    count = 0
    for row in conn.execute(
        "SELECT seq, kind, id, version FROM outbox WHERE seq BETWEEN ? AND ? ORDER BY seq",
        (first, last),
    ):
        body = canonical(list(row))
        digest.update(len(body).to_bytes(8, "big") + body)
        count += 1
    digest.update(str(count).encode())
    return digest.hexdigest()


def _ack_entry(conn: sqlite3.Connection, row: tuple[object, ...]) -> list[object]:
    first, last = row[2], row[3]
    outbox = None if first is None else outbox_digest(conn, int(first), int(last))  # type: ignore[call-overload]
    return [_row_digest(row), outbox]


def record_acknowledged(conn: sqlite3.Connection, seq: int) -> None:
    """Pin newly acknowledged batch ``seq`` (its row and outbox entries), caller's transaction."""
    row = conn.execute(
        f"SELECT {', '.join(ACKED_BATCH_COLUMNS)} FROM sync_batches "
        "WHERE seq = ? AND acked_at IS NOT NULL",
        (seq,),
    ).fetchone()
    if row is None:
        return
    pinned = _pinned_acks(conn)
    pinned[str(seq)] = _ack_entry(conn, row)
    put_meta(conn, ACKS_KEY, json.dumps(pinned, sort_keys=True))


def rebuild_acknowledged(conn: sqlite3.Connection) -> int:
    """Pin every acknowledged batch as it is now (the upgrade); how many."""
    pinned = {str(row[0]): _ack_entry(conn, row) for row in _acked_rows(conn)}
    put_meta(conn, ACKS_KEY, json.dumps(pinned, sort_keys=True))
    return len(pinned)


def verify_acknowledged_outbox(conn: sqlite3.Connection) -> None:
    """Refuse (:class:`VaultSettingsAltered`) when an acknowledged batch's outbox was changed.

    A purge decides a visit reached HQ by where its versions' outbox numbers fall: moving a
    version that never left into an acknowledged batch's range would get it shredded. Call
    after :func:`verify` (which authenticates the pinned digests and the batches' ranges).
    """
    pinned = _pinned_acks(conn)
    for row in _acked_rows(conn):
        first, last = row[2], row[3]
        if first is None:
            continue
        entry = pinned.get(str(row[0]))
        expected = entry[1] if isinstance(entry, list) and len(entry) == 2 else None
        actual = outbox_digest(conn, int(first), int(last))  # type: ignore[call-overload]
        if not isinstance(expected, str) or not hmac.compare_digest(expected, actual):
            raise VaultSettingsAltered(f"the outbox entries of acknowledged batch {row[0]} changed")
