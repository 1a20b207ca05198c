"""Opening and migrating HQ's store, read-only transactions, and dialect-aware inserts.

SQLite gets WAL, full sync, foreign keys and ``BEGIN IMMEDIATE`` for writers; PostgreSQL gets a
pool. :func:`migrate` runs Alembic from code, under an advisory lock on PostgreSQL.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from fieldkit import files

DB_FILE = "hq.db"
# ``sync/hq/migrations``, beside this package.
MIGRATIONS = Path(__file__).parent.with_name("migrations")
# Any constant will do: every HQ process migrating the same PostgreSQL database takes it.
_MIGRATION_LOCK = 0x66_6B_68_71  # "fkhq"


def database_url(home: Path, configured: str | None) -> str:
    """The SQLAlchemy URL of the store ``configured`` (the ``hq_db`` setting), else ``home/hq.db``.

    ``postgresql://`` and ``postgres://`` URLs get the psycopg 3 driver.
    """
    url = (configured or "").strip()
    if not url:
        return f"sqlite+pysqlite:///{home / DB_FILE}"
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+pysqlite:///" + url[len("sqlite:///") :]
    return url


def redact(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    try:
        return sa.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        return "<unparsable database URL>"


def secure_sqlite_files(path: Path) -> None:
    """Make the store's folder 0700 and its files 0600 before SQLite opens them.

    The database file is created 0600 when missing; SQLite gives its ``-wal``, ``-shm`` and
    ``-journal`` the database file's mode, whatever the umask (:mod:`fieldkit.files`). Loose
    existing ones are tightened, with a warning in HQ's log; a shared or foreign folder is
    refused (:class:`~fieldkit.files.UnsafeFile`, an ``OSError``).
    """
    notices = [files.private_folder(path.parent)]
    if not files.create_private(path):
        notices += [
            files.tighten_file(path.with_name(path.name + suffix))
            for suffix in ("", "-wal", "-shm", "-journal")
        ]
    for notice in notices:
        if notice is not None:
            logging.getLogger("fieldkit.hq").warning("%s", notice.en)


def create_engine(url: str) -> Engine:
    """An engine for HQ's store with the settings each dialect needs for safe concurrency."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            secure_sqlite_files(Path(parsed.database))
        engine = sa.create_engine(
            parsed,
            connect_args={"timeout": 30, "check_same_thread": False},
            pool_pre_ping=True,
            hide_parameters=True,  # an error's text must not quote the row (docs/hq.md, Logs)
        )
        _sqlite_setup(engine)
        return engine
    engine = sa.create_engine(
        parsed, pool_pre_ping=True, pool_size=5, max_overflow=10, hide_parameters=True
    )
    if parsed.get_backend_name() == "postgresql":
        from sync.hq.store.pglog import quiet_server_log

        sa.event.listen(engine, "connect", lambda dbapi, _record: quiet_server_log(dbapi))
    return engine


def _sqlite_setup(engine: Engine) -> None:
    """WAL, full sync, foreign keys, and ``BEGIN IMMEDIATE`` for every writing transaction.

    A deferred transaction that reads and then writes can fail at once with "database is locked"
    when another process wrote in between; taking the write lock at ``BEGIN`` makes writers
    wait their turn (up to the busy timeout) instead. Read-only work passes
    ``execution_options(readonly=True)`` and begins deferred.
    """

    @sa.event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy, not pysqlite, issues BEGIN
        cursor = dbapi_connection.cursor()
        # The busy timeout first: everything after it may wait for another process's lock.
        cursor.execute("PRAGMA busy_timeout=30000")
        _use_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _begin(conn: Connection) -> None:
        readonly = conn.get_execution_options().get("readonly", False)
        conn.exec_driver_sql("BEGIN" if readonly else "BEGIN IMMEDIATE")


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL once (it stays WAL), retrying while another process writes.

    Switching needs a moment with no other connection writing, which SQLite reports as
    "locked" without waiting for the busy timeout.
    """
    for attempt in range(100):
        if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
            return
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError:
            time.sleep(0.01 * (attempt + 1))
    cursor.execute("PRAGMA journal_mode=WAL")


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` with Alembic, safe to call from many processes at once."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def open_store(url: str) -> Engine:
    """Create the engine for ``url`` and migrate the schema to the newest revision."""
    engine = create_engine(url)
    migrate(engine)
    return engine


@contextmanager
def reading(engine: Engine, *, snapshot: bool = False) -> Iterator[Connection]:
    """A read-only transaction (deferred on SQLite, so it never waits for writers).

    ``snapshot``: every statement sees the same snapshot (PostgreSQL ``REPEATABLE READ``; a
    SQLite read transaction always does), for answers assembled from several queries.
    """
    with engine.connect() as conn:
        conn = conn.execution_options(readonly=True)
        if snapshot and conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            yield conn


def insert(conn: Connection, table: sa.Table) -> Any:
    """The dialect's ``INSERT`` construct, which offers ``ON CONFLICT``."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    if conn.dialect.name == "sqlite":
        return sqlite.insert(table)
    raise RuntimeError(f"unsupported database dialect {conn.dialect.name!r}")


def insert_new(
    conn: Connection, table: sa.Table, rows: list[dict[str, Any]]
) -> set[tuple[Any, ...]]:
    """``INSERT … ON CONFLICT DO NOTHING`` of many rows; the primary keys of those inserted.

    A row whose primary key is already held is skipped, so a caller learns which rows were
    new without looking them up first (a lookup that PostgreSQL plans badly while its
    statistics lag behind a fast-growing table). On PostgreSQL the rows go through ``COPY``
    into a session-local staging table and one ``INSERT … SELECT``: psycopg's ``executemany``
    costs a Bind/Execute per row, which made inserts half of HQ's ingest time
    (docs/BENCHMARKS.md, "Sync"). The staging table empties itself at commit or rollback.
    """
    if not rows:
        return set()
    # Outside a transaction the staging table would empty itself before the INSERT … SELECT.
    if not conn.in_transaction():
        raise RuntimeError("insert_new needs the caller's transaction")
    keys = list(table.primary_key.columns)
    if conn.dialect.name != "postgresql":
        statement = insert(conn, table).on_conflict_do_nothing().returning(*keys)
        return {tuple(row) for row in conn.execute(statement, rows)}
    from psycopg.types.json import Jsonb

    columns = [c.name for c in table.columns]
    as_json = {c.name for c in table.columns if isinstance(c.type, sa.JSON)}
    names = ", ".join(columns)
    staging = f"{table.name}_incoming"
    # Only our own table's and columns' names are formatted into the SQL, never input.
    with conn.connection.driver_connection.cursor() as cur:
        # Only the columns this code writes, without constraints: a later migration adding a
        # NOT NULL column with a default to the table does not break workers still running.
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "
            f"SELECT {names} FROM {table.name} WITH NO DATA"
        )
        with cur.copy(f"COPY {staging} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([Jsonb(row[c]) if c in as_json else row.get(c) for c in columns])
        cur.execute(
            f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {staging} "
            f"ON CONFLICT DO NOTHING RETURNING {', '.join(c.name for c in keys)}"
        )
        return {tuple(row) for row in cur.fetchall()}
