"""The vault's SQLite connection and its schema migrations.

WAL journal, ``synchronous=FULL`` so a commit that returned survives a power cut, temporary
tables in memory so nothing spills to a temp file, and foreign keys on. Each user action is one
``BEGIN IMMEDIATE`` transaction (:func:`transaction`).

Migrations are named, run in order inside one transaction each, and recorded in
``schema_migrations``. A vault that records a migration this fieldkit does not know was written
by a newer version and is refused rather than guessed at.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from fieldkit import files
from fieldkit.domain.findings import Message
from fieldkit.vault.errors import VaultError, VaultTooNew


def _run_statements(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT first, breaking the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _initial_schema(conn: sqlite3.Connection) -> None:
    _run_statements(
        conn,
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value BLOB NOT NULL
        );
        -- One slot per officer: the officer's X25519 key wrapped under the passphrase (Argon2id
        -- + AES-GCM) and the data key wrapped to that X25519 key (HPKE), so the data key can be
        -- rotated for the remaining officers without knowing their passphrases.
        CREATE TABLE key_slots (
            officer_id TEXT PRIMARY KEY,
            role TEXT NOT NULL CHECK (role IN ('officer', 'supervisor')),
            kdf TEXT NOT NULL,
            salt BLOB NOT NULL,
            public_key BLOB NOT NULL,
            wrapped_private_key BLOB NOT NULL,
            wrapped_dek BLOB NOT NULL,
            dek_generation INTEGER NOT NULL,
            sealed_name BLOB NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE unlock_failures (
            officer_id TEXT PRIMARY KEY,
            failures INTEGER NOT NULL,
            last_failure_at TEXT NOT NULL,
            locked_until TEXT
        );
        -- Every version of every record. Only what is not personal is in clear.
        CREATE TABLE record_versions (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            visit_id TEXT,
            state TEXT NOT NULL,
            officer_id TEXT NOT NULL,
            at TEXT NOT NULL,
            key_generation INTEGER NOT NULL,
            sealed BLOB NOT NULL,
            PRIMARY KEY (kind, id, version)
        );
        -- The latest version of each record, for listing and counting without decrypting,
        -- with the blind indexes (HMAC digests) of its NIK and booking code.
        CREATE TABLE records (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            visit_id TEXT,
            state TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            nik_index BLOB,
            booking_index BLOB,
            PRIMARY KEY (kind, id)
        ) WITHOUT ROWID;
        CREATE INDEX records_visit ON records (visit_id, kind, state);
        CREATE INDEX records_nik ON records (nik_index) WHERE nik_index IS NOT NULL;
        CREATE INDEX records_booking ON records (booking_index) WHERE booking_index IS NOT NULL;
        -- The blind indexes as rows, for inspection and audits of the file.
        CREATE VIEW blind_index AS
            SELECT 'nik' AS field, nik_index AS digest, kind, id
            FROM records WHERE nik_index IS NOT NULL
            UNION ALL
            SELECT 'booking_code', booking_index, kind, id
            FROM records WHERE booking_index IS NOT NULL;
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            officer_id TEXT,
            action TEXT NOT NULL,
            subject TEXT,
            detail TEXT NOT NULL,
            prev_hash BLOB NOT NULL,
            hash BLOB NOT NULL
        );
        -- Gapless per-device sequence of committed record versions, cut into sync batches.
        CREATE TABLE outbox (
            seq INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            version INTEGER NOT NULL,
            at TEXT NOT NULL,
            UNIQUE (kind, id, version)
        );
        """,
    )


def _sync_schema(conn: sqlite3.Connection) -> None:
    # The enrollment with HQ (URL, pinned keys) lives in ``meta`` under ``hq_*`` keys.
    _run_statements(
        conn,
        """
        -- Sealed batches, cut once and kept: a retry after a crash resends the same bytes with
        -- the same batch id. The envelope is HPKE-encrypted to HQ, so it holds no plaintext.
        CREATE TABLE sync_batches (
            seq INTEGER PRIMARY KEY,
            batch_id TEXT NOT NULL UNIQUE,
            outbox_first INTEGER,
            outbox_last INTEGER,
            audit_first INTEGER,
            audit_last INTEGER,
            item_count INTEGER NOT NULL,
            hq_kid TEXT NOT NULL,
            ct_sha256 TEXT NOT NULL,
            envelope BLOB NOT NULL,
            created_at TEXT NOT NULL,
            receipt TEXT,
            acked_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            CHECK ((receipt IS NULL) = (acked_at IS NULL))
        );
        CREATE INDEX sync_batches_unacked ON sync_batches (seq) WHERE acked_at IS NULL
        """,
    )


def _visit_keys_schema(conn: sqlite3.Connection) -> None:
    # Only tables here: a migration runs before any unlock, without the data key. Rows written
    # before this migration stay under the data key's records key until the next unlock gives
    # their visit its own key (``fieldkit.vault.vault``: adopt_legacy_visits).
    _run_statements(
        conn,
        """
        -- One random key per visit, sealed under the data key of ``dek_generation``: every
        -- record version of the visit is sealed under a key derived from it. A purge destroys
        -- the key (sealed_key NULL, shredded_at set), which crypto-shreds the visit.
        CREATE TABLE visit_keys (
            visit_id TEXT PRIMARY KEY,
            dek_generation INTEGER NOT NULL,
            sealed_key BLOB,
            created_at TEXT NOT NULL,
            shredded_at TEXT,
            CHECK ((sealed_key IS NULL) = (shredded_at IS NOT NULL))
        );
        -- While a key rotation re-encrypts records, the visit keys of the generation being
        -- retired (sealed under the old data key), emptied when the rotation completes.
        CREATE TABLE visit_keys_previous (
            visit_id TEXT PRIMARY KEY,
            dek_generation INTEGER NOT NULL,
            sealed_key BLOB NOT NULL
        );
        -- A visit's versions without scanning the ciphertexts (purge, status, rotation).
        CREATE INDEX record_versions_visit ON record_versions (visit_id, kind, id, version)
            WHERE visit_id IS NOT NULL
        """,
    )


Migration = tuple[str, Callable[[sqlite3.Connection], None]]

MIGRATIONS: tuple[Migration, ...] = (
    ("0001_initial", _initial_schema),
    ("0002_sync", _sync_schema),
    ("0003_visit_keys", _visit_keys_schema),
)


# The files SQLite keeps beside the vault's database file.
SIDE_FILES = ("-wal", "-shm", "-journal")


class VaultConnection(sqlite3.Connection):
    """A connection to the vault file, with what opening it changed on disk (``notices``)."""

    notices: tuple[Message, ...] = ()


def secure_files(path: Path) -> tuple[Message, ...]:
    """Make the vault's folder 0700 and its files 0600 before SQLite touches them.

    Creates the database file 0600 if it is missing: SQLite gives the ``-wal``, ``-shm`` and
    ``-journal`` files it creates later the database file's mode, whatever the umask
    (:mod:`fieldkit.files`). An existing file or folder others could read is tightened; the
    messages say so. A shared or foreign folder is refused (:class:`VaultError`).
    """
    try:
        notices = [files.private_folder(path.parent)]
        if not files.create_private(path):
            notices += [
                files.tighten_file(path.with_name(path.name + s)) for s in ("", *SIDE_FILES)
            ]
    except files.UnsafeFile as exc:
        raise VaultError(exc.message) from None
    return tuple(n for n in notices if n is not None)


def connect(path: Path) -> VaultConnection:
    """Open the vault file with the durability and privacy settings every session needs.

    Its folder and files are made private first (:func:`secure_files`); what that changed is
    in the connection's ``notices``.
    """
    notices = secure_files(path)
    # Each thread has its own connection (fieldkit.vault.file); the check is off only so that a
    # finished thread's connection can be closed from another thread.
    conn = sqlite3.connect(
        path,
        isolation_level=None,
        timeout=30.0,
        check_same_thread=False,
        factory=VaultConnection,
    )
    conn.notices = notices
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA temp_store=MEMORY")
    # 32 MiB of page cache: a large import then stays in memory until its commit.
    conn.execute("PRAGMA cache_size=-32768")
    conn.execute("PRAGMA foreign_keys=ON")
    # Freed pages are overwritten so superseded ciphertext does not linger in the file.
    conn.execute("PRAGMA secure_delete=ON")
    return conn


@contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """Run one user action atomically: ``BEGIN IMMEDIATE`` … ``COMMIT``, or roll back."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


def applied_migrations(conn: sqlite3.Connection) -> list[str]:
    """Return the names of the migrations this vault records, in order."""
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, applied_at TEXT NOT NULL)"
    )
    return [row[0] for row in conn.execute("SELECT name FROM schema_migrations ORDER BY id")]


def migrate(conn: sqlite3.Connection, migrations: tuple[Migration, ...] = MIGRATIONS) -> list[str]:
    """Apply the migrations the vault lacks, each in its own transaction; return their names.

    Raises :class:`VaultTooNew` when the vault records a migration this version does not know.
    """
    applied = applied_migrations(conn)
    known = [name for name, _ in migrations]
    unknown = [name for name in applied if name not in known]
    if unknown or applied != known[: len(applied)]:
        raise VaultTooNew(
            Message(
                "Vault ini dibuat oleh fieldkit yang lebih baru (skema "
                f"{', '.join(unknown) or applied[-1]}). Perbarui fieldkit; vault tidak diubah.",
                "This vault was written by a newer fieldkit (schema "
                f"{', '.join(unknown) or applied[-1]}). Update fieldkit; the vault was not "
                "changed.",
            )
        )
    done = []
    for name, step in migrations[len(applied) :]:
        with transaction(conn):
            step(conn)
            conn.execute(
                "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)", (name, _now())
            )
        done.append(name)
    return done
