"""Versioned, encrypted records: every change is a new AES-256-GCM sealed version.

The associated data of a version binds the kind, id and version, and the columns kept in clear
beside it (visit, state, officer, time): a ciphertext moved to another row, record or version,
or a clear column edited, fails to open and is reported, never returned as data.

Every version that belongs to a visit is sealed under that visit's own key (``visit_keys``: a
random 256-bit key per visit, sealed under the data key), so the visit can be crypto-shredded
once HQ has acknowledged it (:mod:`fieldkit.vault.purge`): deleting one small key makes every
copy of its ciphertexts unreadable. A version without a visit is sealed under the data key's
records key. Which key opens a row is decided by the row's ``visit_id`` and ``key_generation``;
see :meth:`fieldkit.vault.vault.Session.records_key_for`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from fieldkit.vault.crypto import (
    AuthenticationFailed,
    BlindIndexer,
    Sealer,
    canonical,
    derive_key,
    open_sealed,
    seal,
)
from fieldkit.vault.errors import IntegrityError, Purged

# Which fields of which kinds get a blind index (an HMAC digest in a column of ``records``),
# so they can be found without decrypting.
INDEXED_KINDS = frozenset({"applicant", "roster"})
INDEX_COLUMNS: Mapping[str, str] = {"nik": "nik_index", "booking_code": "booking_index"}
# Record data is encoded once per version; one encoder avoids building a new one each time.
_ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
_AAD_LABEL = "fieldkit/v1/record"
_UNIT = "\x1f"
# The state of a record's head once its visit was purged (its ciphertexts are gone).
PURGED_STATE = "purged"
# Keys of a given purpose from one generation of the data key.
VISIT_KEYS_PURPOSE = "visit-keys"
RECORDS_PURPOSE = "records"


class KeyShredded(Exception):
    """A key resolver's signal: the visit's key was destroyed by a purge."""

    def __init__(self, visit_id: str) -> None:
        super().__init__(visit_id)
        self.visit_id = visit_id


def visit_key_aad(vault_id: str, visit_id: str, generation: int) -> bytes:
    """The associated data binding a sealed visit key to its vault, visit and generation."""
    return canonical(["fieldkit/v1/visit-key", vault_id, visit_id, generation])


def seal_visit_key(dek: bytes, vault_id: str, visit_id: str, generation: int, key: bytes) -> bytes:
    """Seal a visit's key under the data key of ``generation``."""
    return seal(
        derive_key(dek, VISIT_KEYS_PURPOSE), key, visit_key_aad(vault_id, visit_id, generation)
    )


def open_visit_key(
    dek: bytes, vault_id: str, visit_id: str, generation: int, sealed: bytes
) -> bytes:
    """Open a key sealed by :func:`seal_visit_key`, or raise :class:`AuthenticationFailed`."""
    return open_sealed(
        derive_key(dek, VISIT_KEYS_PURPOSE), sealed, visit_key_aad(vault_id, visit_id, generation)
    )


def record_aad(
    kind: str,
    record_id: str,
    version: int,
    visit_id: str | None,
    state: str,
    officer_id: str,
    at: str,
) -> bytes:
    """The associated data that binds a ciphertext to its row and its clear columns.

    Fields are joined with the unit separator, which no id, state, officer id or timestamp
    may contain (officer ids are checked when a slot is made), so the encoding is unambiguous.
    """
    return _UNIT.join(
        (_AAD_LABEL, kind, record_id, str(version), visit_id or "", state, officer_id, at)
    ).encode()


# Not frozen: thousands are built per import, and a frozen dataclass costs four times as much
# to construct; nothing mutates a Change after it is handed to write_changes.
@dataclass(slots=True)
class Change:
    """One record version to write: ``expected_version`` is 0 for a new record."""

    kind: str
    id: str
    data: Mapping[str, object]
    state: str
    visit_id: str | None = None
    expected_version: int = 0


@dataclass(frozen=True, slots=True)
class Record:
    """One decrypted record version."""

    kind: str
    id: str
    version: int
    visit_id: str | None
    state: str
    officer_id: str
    at: str
    data: dict[str, object] = field(hash=False)


def index_digests(
    kind: str, data: Mapping[str, object], indexer: BlindIndexer
) -> tuple[bytes | None, bytes | None]:
    """The blind-index digests ``(nik_index, booking_index)`` of a record's data."""
    if kind not in INDEXED_KINDS:
        return None, None
    nik, booking = data.get("nik"), data.get("booking_code")
    return (
        indexer.digest("nik", nik) if isinstance(nik, str) and nik else None,
        indexer.digest("booking_code", booking) if isinstance(booking, str) and booking else None,
    )


class VersionConflict(Exception):
    """The record changed since it was read (or a new id already exists)."""


def write_changes(
    conn: sqlite3.Connection,
    changes: list[Change],
    *,
    officer_id: str,
    at: str,
    generation: int,
    record_keys: Mapping[str | None, bytes],
    index_key: bytes,
) -> list[tuple[str, str, int]]:
    """Write the versions inside the caller's transaction; return ``(kind, id, version)``s.

    ``record_keys`` maps each visit id of the changes (None for records outside a visit) to
    the records key its versions are sealed under at ``generation``.
    """
    sealers = {visit_id: Sealer(key) for visit_id, key in record_keys.items()}
    indexer = BlindIndexer(index_key)
    version_rows = []
    head_inserts = []
    head_updates = []
    written = []
    for change in changes:
        kind, rid, visit_id, state = change.kind, change.id, change.visit_id, change.state
        version = change.expected_version + 1
        aad = record_aad(kind, rid, version, visit_id, state, officer_id, at)
        sealed = sealers[visit_id].seal(_ENCODE(change.data).encode(), aad)
        version_rows.append(
            (kind, rid, version, visit_id, state, officer_id, at, generation, sealed)
        )
        nik_index, booking_index = index_digests(kind, change.data, indexer)
        if change.expected_version == 0:
            head_inserts.append((kind, rid, version, visit_id, state, at, nik_index, booking_index))
        else:
            head_updates.append(
                (version, visit_id, state, at, nik_index, booking_index, kind, rid, version - 1)
            )
        written.append((kind, rid, version))
    for row in head_updates:
        updated = conn.execute(
            "UPDATE records SET version = ?, visit_id = ?, state = ?, updated_at = ?, "
            "nik_index = ?, booking_index = ? WHERE kind = ? AND id = ? AND version = ?",
            row,
        )
        if updated.rowcount != 1:
            raise VersionConflict(f"{row[6]} {row[7]} is not at version {row[8]}")
    try:
        conn.executemany("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?, ?)", head_inserts)
    except sqlite3.IntegrityError as exc:
        raise VersionConflict("a record with that id already exists") from exc
    conn.executemany("INSERT INTO record_versions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", version_rows)
    return written


# ``keys(generation, visit_id)``: the records key that sealed a row; raises KeyError for a
# generation the session lacks, KeyShredded for a purged visit, AuthenticationFailed when the
# visit's sealed key does not open.
KeyResolver = Callable[[int, str | None], bytes]


def read_version(
    conn: sqlite3.Connection,
    kind: str,
    record_id: str,
    version: int | None,
    keys: KeyResolver,
) -> Record | None:
    """Read and decrypt one version (the latest when ``version`` is None).

    Raises :class:`IntegrityError` when the ciphertext does not authenticate for its row, or
    when the latest version recorded in the outbox is missing (a rolled-back record), and
    :class:`Purged` when the record's visit was purged.
    """
    head = _checked_head(conn, kind, record_id)
    if head is None:
        return None
    wanted = head if version is None else version
    row = conn.execute(
        "SELECT visit_id, state, officer_id, at, key_generation, sealed FROM record_versions "
        "WHERE kind = ? AND id = ? AND version = ?",
        (kind, record_id, wanted),
    ).fetchone()
    if row is None:
        if version is None:
            raise IntegrityError(kind, record_id, wanted, "latest version missing")
        return None
    _refuse_emptied(conn, kind, record_id, wanted, row[0], row[-1])
    return _decrypt(kind, record_id, wanted, row, keys)


def _refuse_emptied(
    conn: sqlite3.Connection,
    kind: str,
    record_id: str,
    version: int,
    visit_id: str | None,
    sealed: bytes,
) -> None:
    """An emptied ciphertext is :class:`Purged` if its visit's key was destroyed, else damage.

    Checked against the file, not the session's memory: another process may have purged the
    visit while this session still holds its key.
    """
    if sealed:
        return
    shredded = (
        visit_id is not None
        and conn.execute(
            "SELECT 1 FROM visit_keys WHERE visit_id = ? AND shredded_at IS NOT NULL", (visit_id,)
        ).fetchone()
    )
    if shredded:
        raise Purged(kind, record_id, version)
    raise IntegrityError(kind, record_id, version, "ciphertext missing")


def _checked_head(conn: sqlite3.Connection, kind: str, record_id: str) -> int | None:
    """The latest version, after checking the outbox knows of none newer (a rollback)."""
    head = conn.execute(
        "SELECT version FROM records WHERE kind = ? AND id = ?", (kind, record_id)
    ).fetchone()
    if head is None:
        return None
    queued = conn.execute(
        "SELECT MAX(version) FROM outbox WHERE kind = ? AND id = ?", (kind, record_id)
    ).fetchone()[0]
    if queued is not None and queued > head[0]:
        raise IntegrityError(kind, record_id, queued, "newer version missing: rolled back")
    return int(head[0])


def _decrypt(
    kind: str,
    record_id: str,
    version: int,
    row: tuple[object, ...],
    keys: KeyResolver,
) -> Record:
    visit_id, state, officer_id, at, generation, sealed = row
    try:
        key = keys(int(generation), visit_id)  # type: ignore[arg-type]
    except KeyShredded as exc:
        raise Purged(kind, record_id, version) from exc
    except KeyError as exc:
        raise IntegrityError(
            kind, record_id, version, f"unknown key generation {generation}"
        ) from exc
    except AuthenticationFailed as exc:
        raise IntegrityError(
            kind, record_id, version, f"the key of visit {visit_id} does not authenticate"
        ) from exc
    aad = record_aad(kind, record_id, version, visit_id, state, officer_id, at)  # type: ignore[arg-type]
    try:
        data = json.loads(open_sealed(key, sealed, aad))  # type: ignore[arg-type]
    except AuthenticationFailed as exc:
        raise IntegrityError(kind, record_id, version, "does not authenticate") from exc
    return Record(kind, record_id, version, visit_id, state, officer_id, at, data)  # type: ignore[arg-type]


def history(conn: sqlite3.Connection, kind: str, record_id: str, keys: KeyResolver) -> list[Record]:
    """Every version of a record, oldest first, each decrypted and checked."""
    if _checked_head(conn, kind, record_id) is None:
        return []
    rows = conn.execute(
        "SELECT version, visit_id, state, officer_id, at, key_generation, sealed "
        "FROM record_versions WHERE kind = ? AND id = ? ORDER BY version",
        (kind, record_id),
    ).fetchall()
    for row in rows:
        _refuse_emptied(conn, kind, record_id, row[0], row[1], row[-1])
    return [_decrypt(kind, record_id, row[0], row[1:], keys) for row in rows]
