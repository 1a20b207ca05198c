"""HQ's store: one SQLAlchemy Core schema for SQLite (embedded default) and PostgreSQL.

The schema is created and upgraded by Alembic (``sync/hq/migrations``), run from code with
:func:`migrate`; no ``alembic.ini`` is needed. Concurrency rests on the database, not on the
process: primary keys and unique constraints decide every race, inserts use the dialect's
``INSERT … ON CONFLICT``, and each batch is ingested in one transaction that first locks its
device (``SELECT … FOR UPDATE`` on PostgreSQL; ``BEGIN IMMEDIATE`` on SQLite, whose writers are
serialised anyway). Any number of HQ worker processes may share one database.

Times HQ sets itself are timezone-aware UTC; times a device reported (``at`` of records and
audit entries, a batch's ``created_at``) are kept as the text the device sent.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

DB_ENV = "FIELDKIT_HQ_DB"
DB_FILE = "hq.db"
MIGRATIONS = Path(__file__).with_name("migrations")
# Any constant will do: every HQ process migrating the same PostgreSQL database takes it.
_MIGRATION_LOCK = 0x66_6B_68_71  # "fkhq"
# Read aloud over a phone line: no 0/O, 1/I/L, 2/Z, 5/S, 8/B.
CODE_ALPHABET = "34679ACDEFGHJKMNPQRTUVWXY"
CODE_GROUPS = 4
CODE_GROUP_LEN = 4


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on both stores (SQLite keeps naive text otherwise)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Store UTC; refuse naive datetimes, which would be ambiguous."""
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        """Return an aware UTC datetime."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def json_type() -> sa.types.TypeEngine[Any]:
    """JSON on SQLite, JSONB on PostgreSQL."""
    return sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


metadata = sa.MetaData()

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("device_id", sa.String(36), primary_key=True),
    sa.Column("vault_id", sa.String(36), nullable=False),
    sa.Column("public_key", sa.LargeBinary(32), nullable=False),
    sa.Column("enrolled_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=True),
    sa.Column("revoke_reason", sa.Text(), nullable=True),
)

enroll_codes = sa.Table(
    "enroll_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("used_at", UTCDateTime(), nullable=True),
    sa.Column("used_by", sa.String(36), nullable=True),
)

batches = sa.Table(
    "batches",
    metadata,
    sa.Column("device_id", sa.String(36), sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("batch_id", sa.String(36), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("ct_sha256", sa.String(64), nullable=False),
    sa.Column("count", sa.Integer(), nullable=False),
    sa.Column("created_at", sa.String(64), nullable=False),
    sa.Column("hq_kid", sa.String(16), nullable=False),
    sa.Column("outbox_first", sa.BigInteger(), nullable=True),
    sa.Column("outbox_last", sa.BigInteger(), nullable=True),
    sa.Column("audit_first", sa.BigInteger(), nullable=True),
    sa.Column("audit_last", sa.BigInteger(), nullable=True),
    sa.Column("audit_head", sa.String(64), nullable=True),
    sa.Column("received_at", UTCDateTime(), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("receipt", sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint("device_id", "batch_id", name="pk_batches"),
    sa.UniqueConstraint("device_id", "seq", name="uq_batches_device_seq"),
)

records = sa.Table(
    "records",
    metadata,
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("id", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer(), nullable=False),
    sa.Column("device_id", sa.String(36), nullable=False),
    sa.Column("batch_id", sa.String(36), nullable=False),
    sa.Column("outbox_seq", sa.BigInteger(), nullable=False),
    sa.Column("visit_id", sa.String(64), nullable=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("officer_id", sa.String(64), nullable=True),
    sa.Column("at", sa.String(64), nullable=False),
    sa.Column("data", json_type(), nullable=False),
    sa.Column("findings", json_type(), nullable=False),
    sa.PrimaryKeyConstraint("kind", "id", "version", name="pk_records"),
    sa.Index("ix_records_visit", "visit_id"),
    sa.Index("ix_records_device", "device_id", "batch_id"),
)

audit_entries = sa.Table(
    "audit_entries",
    metadata,
    sa.Column("device_id", sa.String(36), nullable=False),
    sa.Column("seq", sa.BigInteger(), nullable=False),
    sa.Column("batch_id", sa.String(36), nullable=False),
    sa.Column("at", sa.String(64), nullable=False),
    sa.Column("officer_id", sa.String(64), nullable=True),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("subject", sa.Text(), nullable=True),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("hash", sa.String(64), nullable=True),
    sa.Column("verified", sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint("device_id", "seq", name="pk_audit_entries"),
)

rejections = sa.Table(
    "rejections",
    metadata,
    sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("device_id", sa.String(64), nullable=True),
    sa.Column("batch_id", sa.String(64), nullable=True),
    sa.Column("seq", sa.BigInteger(), nullable=True),
    sa.Column("problem", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer(), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("client", sa.String(512), nullable=True),
    sa.Index("ix_rejections_at", "at"),
    sa.Index("ix_rejections_device", "device_id"),
)

flags = sa.Table(
    "flags",
    metadata,
    sa.Column("id", sa.Integer(), sa.Identity(), primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("device_id", sa.String(36), nullable=False),
    sa.Column("batch_id", sa.String(36), nullable=True),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("detail", sa.Text(), nullable=False),
    sa.Column("resolved_at", UTCDateTime(), nullable=True),
    sa.Index("ix_flags_device", "device_id"),
)


# --- reference data (migration 0002) -------------------------------------------------------
# One row (id 1): the reference version, bumped in the same transaction as every change to
# what devices are sent, and what HQ publishes to every device.
reference_state = sa.Table(
    "reference_state",
    metadata,
    sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
    sa.Column("version", sa.BigInteger(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("hq_kid", sa.String(16), nullable=True),
    sa.Column("fees", json_type(), nullable=True),
    sa.Column("fees_published_at", UTCDateTime(), nullable=True),
    sa.Column("watchlist_key", sa.LargeBinary(32), nullable=True),
    sa.Column("watchlist_updated_at", UTCDateTime(), nullable=True),
)

# HMAC-SHA256(watchlist_key, NIK) in hex: HQ never stores the watchlist's NIKs themselves.
watchlist = sa.Table(
    "watchlist",
    metadata,
    sa.Column("digest", sa.String(64), primary_key=True),
)

roster_assignments = sa.Table(
    "roster_assignments",
    metadata,
    sa.Column("visit_id", sa.String(36), primary_key=True),
    sa.Column("device_id", sa.String(36), sa.ForeignKey("devices.device_id"), nullable=False),
    sa.Column("assigned_at", UTCDateTime(), nullable=False),
    sa.Column("visit", json_type(), nullable=False),
    sa.Column("entries", json_type(), nullable=False),
    # Migration 0003: a withdrawn assignment is kept, never deleted or assigned again.
    sa.Column("withdrawn_at", UTCDateTime(), nullable=True),
    sa.Column("withdraw_reason", sa.Text(), nullable=True),
    sa.Index("ix_roster_assignments_device", "device_id"),
)

# ``scope`` is a device id, or ``*`` for every device.
officer_revocations = sa.Table(
    "officer_revocations",
    metadata,
    sa.Column("officer_id", sa.String(32), nullable=False),
    sa.Column("scope", sa.String(36), nullable=False),
    sa.Column("revoked_at", UTCDateTime(), nullable=False),
    sa.Column("reason", sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint("officer_id", "scope", name="pk_officer_revocations"),
)


def now() -> datetime:
    """The current time, aware, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 text for a UTC time, as it appears on the wire."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# --- opening and migrating ---------------------------------------------------------------


def database_url(home: Path, configured: str | None = None) -> str:
    """The SQLAlchemy URL: ``FIELDKIT_HQ_DB`` when set, else ``$FIELDKIT_HQ_HOME/hq.db``.

    ``postgresql://`` and ``postgres://`` URLs get the psycopg 3 driver.
    """
    url = configured if configured is not None else os.environ.get(DB_ENV, "")
    url = url.strip()
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


def create_engine(url: str) -> Engine:
    """An engine for HQ's store with the settings each dialect needs for safe concurrency."""
    parsed = sa.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            parsed, connect_args={"timeout": 30, "check_same_thread": False}, pool_pre_ping=True
        )
        _sqlite_setup(engine)
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, pool_size=5, max_overflow=10)


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


# --- enrollment codes and devices ------------------------------------------------------


def hash_code(code: str) -> str:
    """The stored form of a one-time code: SHA-256 of its normalised text.

    Codes carry about 74 bits of randomness, so a plain hash is enough: nobody can search the
    code space, and the database alone does not reveal a usable code.
    """
    return hashlib.sha256(normalise_code(code).encode("ascii", "replace")).hexdigest()


def normalise_code(code: str) -> str:
    """Upper case without separators, so ``ab3d-…`` typed by hand still matches."""
    return "".join(ch for ch in code.upper() if ch.isalnum())


def create_enroll_code(engine: Engine, expires: timedelta) -> tuple[str, datetime]:
    """Store a new one-time enrollment code (its hash only); return the code and its expiry."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_GROUPS * CODE_GROUP_LEN))
    code = "-".join(raw[i : i + CODE_GROUP_LEN] for i in range(0, len(raw), CODE_GROUP_LEN))
    created = now()
    expires_at = created + expires
    with engine.begin() as conn:
        conn.execute(
            enroll_codes.insert().values(
                code_hash=hash_code(code), created_at=created, expires_at=expires_at
            )
        )
    return code, expires_at


@dataclass(frozen=True, slots=True)
class Device:
    """An enrolled device as HQ knows it."""

    device_id: str
    vault_id: str
    public_key: bytes
    enrolled_at: datetime
    revoked_at: datetime | None
    revoke_reason: str | None

    @property
    def revoked(self) -> bool:
        """True once the device has been revoked."""
        return self.revoked_at is not None


def _device(row: sa.Row[Any]) -> Device:
    return Device(
        row.device_id,
        row.vault_id,
        bytes(row.public_key),
        row.enrolled_at,
        row.revoked_at,
        row.revoke_reason,
    )


class EnrollRefused(Exception):
    """An enrollment the store refused: ``reason`` is ``code`` or ``device-exists``."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def enroll_device(
    engine: Engine, code: str, device_id: str, vault_id: str, public_key: bytes
) -> Device:
    """Use a one-time code to enroll a device, atomically: the code is spent only on success.

    Raises :class:`EnrollRefused` for an unknown, expired or used code, or a device id that
    is already enrolled.
    """
    moment = now()
    with engine.begin() as conn:
        claimed = conn.execute(
            enroll_codes.update()
            .where(
                enroll_codes.c.code_hash == hash_code(code),
                enroll_codes.c.used_at.is_(None),
                enroll_codes.c.expires_at > moment,
            )
            .values(used_at=moment, used_by=device_id)
            .returning(enroll_codes.c.code_hash)
        ).first()
        if claimed is None:
            again = _same_enrollment(conn, code, device_id, vault_id, public_key)
            if again is not None:
                # A retry after the answer was lost: the code was spent on this very device
                # with this very key, so answering again is safe and lets the device pin HQ.
                return again
            raise EnrollRefused("code", "The enrollment code is unknown, expired or used.")
        inserted = conn.execute(
            insert(conn, devices)
            .values(
                device_id=device_id, vault_id=vault_id, public_key=public_key, enrolled_at=moment
            )
            .on_conflict_do_nothing()
            .returning(devices.c.device_id)
        ).first()
        if inserted is None:  # the exception rolls the code claim back
            raise EnrollRefused("device-exists", f"Device {device_id} is already enrolled.")
    return Device(device_id, vault_id, public_key, moment, None, None)


def _same_enrollment(
    conn: Connection, code: str, device_id: str, vault_id: str, public_key: bytes
) -> Device | None:
    """The device this code already enrolled, when it is the same device, vault and key."""
    used_by = conn.execute(
        sa.select(enroll_codes.c.used_by).where(enroll_codes.c.code_hash == hash_code(code))
    ).scalar()
    if used_by != device_id:
        return None
    device = get_device(conn, device_id)
    if device is None or device.revoked_at is not None:
        return None
    if device.vault_id != vault_id or bytes(device.public_key) != public_key:
        return None
    return device


def get_device(conn: Connection, device_id: str, *, lock: bool = False) -> Device | None:
    """The device, or None; ``lock`` holds it ``FOR UPDATE`` until the transaction ends."""
    query = sa.select(devices).where(devices.c.device_id == device_id)
    if lock:
        query = query.with_for_update()
    row = conn.execute(query).first()
    return _device(row) if row is not None else None


def list_devices(engine: Engine) -> list[Device]:
    """Every enrolled device, in enrollment order."""
    with reading(engine) as conn:
        rows = conn.execute(sa.select(devices).order_by(devices.c.enrolled_at, devices.c.device_id))
        return [_device(row) for row in rows]


def revoke_device(engine: Engine, device_id: str, reason: str | None) -> Device | None:
    """Revoke a device (a second revocation keeps the first time and reason); None if unknown.

    A new revocation raises the reference version: devices learn of it from reference data.
    """
    with engine.begin() as conn:
        revoked = conn.execute(
            devices.update()
            .where(devices.c.device_id == device_id, devices.c.revoked_at.is_(None))
            .values(revoked_at=now(), revoke_reason=reason)
        )
        if revoked.rowcount:
            bump_reference(conn)
        return get_device(conn, device_id)


# --- batches, gaps and flags --------------------------------------------------------------


def seqs(conn: Connection, device_id: str) -> list[int]:
    """The batch sequence numbers received from a device, ascending."""
    rows = conn.execute(
        sa.select(batches.c.seq).where(batches.c.device_id == device_id).order_by(batches.c.seq)
    )
    return [int(row[0]) for row in rows]


def missing_seqs(received: Iterable[int]) -> list[int]:
    """Numbers between 1 and the highest received one that have not arrived."""
    present = sorted(set(received))
    missing: list[int] = []
    expected = 1
    for seq in present:
        missing.extend(range(expected, seq))
        expected = seq + 1
    return missing


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """What HQ holds of a device's batches."""

    next_seq: int
    received: list[int]
    missing: list[int]


def checkpoint(conn: Connection, device_id: str) -> Checkpoint:
    """``next_seq``, the seqs received beyond the first gap, and the missing ones."""
    present = seqs(conn, device_id)
    missing = missing_seqs(present)
    beyond = [s for s in present if missing and s > missing[0]]
    return Checkpoint(
        next_seq=(present[-1] + 1) if present else 1, received=beyond, missing=missing
    )


def retirement_blockers(engine: Engine, kid: str, newer: Iterable[str]) -> list[tuple[str, str]]:
    """Active devices that may still send batches sealed to HQ key ``kid``, with the reason.

    A device cuts each batch once and resends it byte for byte, so every batch it sealed to
    ``kid`` before it learned of a newer key must arrive before ``kid`` is retired, or it is
    refused forever. A device is clear once HQ holds a batch of it sealed to a ``newer`` key
    with no sequence number missing below it: every later batch was cut after it. Enrollment time
    proves nothing (a worker not yet restarted after a rotation still hands out the old key),
    so a device that has sent nothing since blocks too: let it sync, or revoke it.
    """
    newer_kids = set(newer)
    blockers: list[tuple[str, str]] = []
    with reading(engine, snapshot=True) as conn:
        active = conn.execute(
            sa.select(devices.c.device_id)
            .where(devices.c.revoked_at.is_(None))
            .order_by(devices.c.enrolled_at, devices.c.device_id)
        ).scalars()
        for device_id in list(active):
            rows = conn.execute(
                sa.select(batches.c.seq, batches.c.hq_kid).where(batches.c.device_id == device_id)
            ).all()
            after = [int(seq) for seq, batch_kid in rows if batch_kid in newer_kids]
            if not after:
                blockers.append((device_id, f"has sent no batch sealed to a key newer than {kid}"))
                continue
            gaps = [n for n in missing_seqs(int(seq) for seq, _ in rows) if n < max(after)]
            if gaps:
                blockers.append((device_id, f"batches {_listed(gaps)} have not arrived"))
    return blockers


def _listed(numbers: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (f" … ({len(numbers)} in all)" if len(numbers) > limit else "")


def add_rejection(
    engine: Engine,
    *,
    problem: str,
    status: int,
    detail: str,
    client: str | None,
    device_id: str | None = None,
    batch_id: str | None = None,
    seq: int | None = None,
) -> None:
    """Log a refused request (its own transaction, so it survives the refusal)."""
    with engine.begin() as conn:
        conn.execute(
            rejections.insert().values(
                at=now(),
                device_id=_clip(device_id, 64),
                batch_id=_clip(batch_id, 64),
                seq=seq,
                problem=problem,
                status=status,
                detail=detail,
                client=_clip(client, 512),
            )
        )


def add_flag(
    conn: Connection, device_id: str, kind: str, detail: str, batch_id: str | None = None
) -> None:
    """Raise a flag for HQ staff inside the caller's transaction."""
    conn.execute(
        flags.insert().values(
            at=now(), device_id=device_id, batch_id=batch_id, kind=kind, detail=detail
        )
    )


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value is not None else None


# --- the status report ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeviceStatus:
    """One device's line in ``fieldkit-hq status`` and ``device list``."""

    device: Device
    batches: int
    last_seq: int | None
    last_received_at: datetime | None
    missing: list[int]
    records: int
    audit_unverified: int

    def as_json(self) -> dict[str, object]:
        """JSON-ready fields."""
        d = self.device
        return {
            "device_id": d.device_id,
            "vault_id": d.vault_id,
            "enrolled_at": iso(d.enrolled_at),
            "revoked_at": iso(d.revoked_at) if d.revoked_at else None,
            "revoke_reason": d.revoke_reason,
            "batches": self.batches,
            "last_seq": self.last_seq,
            "last_received_at": iso(self.last_received_at) if self.last_received_at else None,
            "missing": self.missing,
            "records": self.records,
            "audit_unverified": self.audit_unverified,
        }


def device_statuses(engine: Engine) -> list[DeviceStatus]:
    """Per device: batches, last seq, missing seqs, records and unverified audit entries."""
    with reading(engine) as conn:
        all_seqs: dict[str, list[int]] = {}
        last_at: dict[str, datetime] = {}
        for row in conn.execute(
            sa.select(batches.c.device_id, batches.c.seq, batches.c.received_at).order_by(
                batches.c.device_id, batches.c.seq
            )
        ):
            all_seqs.setdefault(row.device_id, []).append(int(row.seq))
            if row.device_id not in last_at or row.received_at > last_at[row.device_id]:
                last_at[row.device_id] = row.received_at
        record_counts = _counts(conn, records, records.c.device_id)
        unverified = _counts(
            conn, audit_entries, audit_entries.c.device_id, audit_entries.c.verified.is_(False)
        )
        rows = conn.execute(sa.select(devices).order_by(devices.c.enrolled_at))
        out = []
        for row in rows:
            present = all_seqs.get(row.device_id, [])
            out.append(
                DeviceStatus(
                    device=_device(row),
                    batches=len(present),
                    last_seq=present[-1] if present else None,
                    last_received_at=last_at.get(row.device_id),
                    missing=missing_seqs(present),
                    records=record_counts.get(row.device_id, 0),
                    audit_unverified=unverified.get(row.device_id, 0),
                )
            )
        return out


def _counts(
    conn: Connection, table: sa.Table, key: sa.Column[Any], *where: sa.ColumnElement[bool]
) -> dict[str, int]:
    query = sa.select(key, sa.func.count()).select_from(table).where(*where).group_by(key)
    return {row[0]: int(row[1]) for row in conn.execute(query)}


def open_flags(engine: Engine) -> list[Mapping[str, Any]]:
    """Unresolved flags, oldest first."""
    with reading(engine) as conn:
        rows = conn.execute(
            sa.select(flags).where(flags.c.resolved_at.is_(None)).order_by(flags.c.id)
        )
        return [dict(row._mapping) for row in rows]


def rejection_counts(engine: Engine, since: datetime) -> dict[str, int]:
    """Rejections since ``since``, by problem type."""
    with reading(engine) as conn:
        query = (
            sa.select(rejections.c.problem, sa.func.count())
            .where(rejections.c.at >= since)
            .group_by(rejections.c.problem)
        )
        return {row[0]: int(row[1]) for row in conn.execute(query)}


# --- reference data --------------------------------------------------------------------------


def _ensure_reference_row(conn: Connection) -> None:
    conn.execute(
        insert(conn, reference_state)
        .values(id=1, version=0, updated_at=now())
        .on_conflict_do_nothing(index_elements=["id"])
    )


def bump_reference(conn: Connection, **values: Any) -> int:
    """Raise the reference version (and set ``values``) in the caller's transaction.

    The row is locked until the transaction ends, so concurrent changes get distinct versions.
    """
    _ensure_reference_row(conn)
    return int(
        conn.execute(
            reference_state.update()
            .where(reference_state.c.id == 1)
            .values(version=reference_state.c.version + 1, updated_at=now(), **values)
            .returning(reference_state.c.version)
        ).scalar_one()
    )


def note_hq_keys(engine: Engine, current_kid: str) -> int:
    """Record HQ's current encryption kid; a change (a rotation) raises the reference version.

    Called by every worker at start; only the first to see a new kid raises the version.
    Returns the reference version.
    """
    with engine.begin() as conn:
        _ensure_reference_row(conn)
        conn.execute(
            reference_state.update()
            .where(
                reference_state.c.id == 1,
                sa.or_(reference_state.c.hq_kid.is_(None), reference_state.c.hq_kid != current_kid),
            )
            .values(version=reference_state.c.version + 1, updated_at=now(), hq_kid=current_kid)
        )
        return int(
            conn.execute(
                sa.select(reference_state.c.version).where(reference_state.c.id == 1)
            ).scalar_one()
        )


def publish_fees(engine: Engine, fees: Mapping[str, Any]) -> tuple[int, datetime]:
    """Publish fee schedules (already validated) to every device; the new reference version."""
    moment = now()
    with engine.begin() as conn:
        version = bump_reference(conn, fees=dict(fees), fees_published_at=moment)
    return version, moment


def replace_watchlist(engine: Engine, key: bytes, digests: Iterable[str]) -> int:
    """Replace the watchlist with ``digests`` made with the new ``key``; the new version."""
    rows = [{"digest": d} for d in sorted(set(digests))]
    with engine.begin() as conn:
        version = bump_reference(conn, watchlist_key=key, watchlist_updated_at=now())
        conn.execute(watchlist.delete())
        for start in range(0, len(rows), 5000):
            conn.execute(watchlist.insert(), rows[start : start + 5000])
    return version


class UnknownDevice(LookupError):
    """No enrolled device has that id (or it is revoked, where that matters)."""


class AssignmentRefused(LookupError):
    """The visit id is unknown, already withdrawn, or (to assign) already used."""


def assign_roster(
    engine: Engine,
    device_id: str,
    visit_id: str,
    visit: Mapping[str, Any],
    entries: list[dict[str, Any]],
) -> tuple[int, datetime]:
    """Assign a visit and its roster entries to an active device; the new reference version.

    A visit id already used (assigned, or assigned and withdrawn) is refused with
    :class:`AssignmentRefused`: a withdrawn visit stays withdrawn.
    """
    moment = now()
    with engine.begin() as conn:
        device = get_device(conn, device_id, lock=True)
        if device is None:
            raise UnknownDevice(f"No device {device_id}.")
        if device.revoked:
            raise UnknownDevice(f"Device {device_id} is revoked.")
        _refuse_used_visit_id(conn, visit_id)
        conn.execute(
            roster_assignments.insert().values(
                visit_id=visit_id,
                device_id=device_id,
                assigned_at=moment,
                visit=dict(visit),
                entries=entries,
            )
        )
        version = bump_reference(conn)
    return version, moment


def _refuse_used_visit_id(conn: Connection, visit_id: str) -> None:
    """Raise :class:`AssignmentRefused` when ``visit_id`` was ever assigned."""
    withdrawn_at = conn.execute(
        sa.select(roster_assignments.c.withdrawn_at).where(
            roster_assignments.c.visit_id == visit_id
        )
    ).first()
    if withdrawn_at is None:
        return
    if withdrawn_at[0] is not None:
        raise AssignmentRefused(
            f"Visit {visit_id} was withdrawn at {iso(withdrawn_at[0])}; a withdrawn visit "
            "cannot be assigned again (assign a new visit instead)."
        )
    raise AssignmentRefused(f"Visit {visit_id} is already assigned.")


def withdraw_roster(engine: Engine, visit_id: str, reason: str) -> tuple[int, datetime, str]:
    """Withdraw an assigned visit; ``(reference version, withdrawn_at, device_id)``.

    The assignment is kept (``withdrawn_at``, ``withdraw_reason``) and no longer sent in
    ``rosters``; its device is told in ``withdrawn``. :class:`AssignmentRefused` for a visit
    never assigned or already withdrawn.
    """
    moment = now()
    with engine.begin() as conn:
        device_id = conn.execute(
            roster_assignments.update()
            .where(
                roster_assignments.c.visit_id == visit_id,
                roster_assignments.c.withdrawn_at.is_(None),
            )
            .values(withdrawn_at=moment, withdraw_reason=reason)
            .returning(roster_assignments.c.device_id)
        ).scalar()
        if device_id is None:
            _refuse_withdrawal(conn, visit_id)
        version = bump_reference(conn)
    return version, moment, str(device_id)


def _refuse_withdrawal(conn: Connection, visit_id: str) -> None:
    """Raise :class:`AssignmentRefused` saying why ``visit_id`` cannot be withdrawn."""
    withdrawn_at = conn.execute(
        sa.select(roster_assignments.c.withdrawn_at).where(
            roster_assignments.c.visit_id == visit_id
        )
    ).scalar()
    if withdrawn_at is None:
        raise AssignmentRefused(f"No visit {visit_id} was assigned to a device.")
    raise AssignmentRefused(f"Visit {visit_id} was already withdrawn at {iso(withdrawn_at)}.")


def revoke_officer(
    engine: Engine, officer_id: str, scope: str, reason: str | None
) -> tuple[datetime, bool]:
    """Revoke an officer on one device or on every device (``scope`` ``*``).

    Returns the revocation time and whether it is new (a second revocation keeps the first).
    """
    moment = now()
    with engine.begin() as conn:
        inserted = conn.execute(
            insert(conn, officer_revocations)
            .values(officer_id=officer_id, scope=scope, revoked_at=moment, reason=reason)
            .on_conflict_do_nothing()
            .returning(officer_revocations.c.officer_id)
        ).first()
        if inserted is not None:
            bump_reference(conn)
            return moment, True
        row = conn.execute(
            sa.select(officer_revocations.c.revoked_at).where(
                officer_revocations.c.officer_id == officer_id,
                officer_revocations.c.scope == scope,
            )
        ).scalar_one()
        return row, False


@dataclass(frozen=True, slots=True)
class ReferenceSnapshot:
    """What HQ publishes to one device, read in one snapshot."""

    version: int
    hq_kid: str | None
    fees: dict[str, Any] | None
    fees_published_at: datetime | None
    watchlist_key: bytes | None
    watchlist_updated_at: datetime | None
    watchlist: list[str]
    rosters: list[Mapping[str, Any]]
    revoked_devices: list[Device]
    withdrawn: list[Mapping[str, Any]]
    revoked_officers: list[Mapping[str, Any]]


def reference_snapshot(conn: Connection, device_id: str) -> ReferenceSnapshot:
    """The reference data for ``device_id`` (call inside ``reading(engine, snapshot=True)``)."""
    state = conn.execute(sa.select(reference_state).where(reference_state.c.id == 1)).first()
    digests = [
        row[0] for row in conn.execute(sa.select(watchlist.c.digest).order_by(watchlist.c.digest))
    ]
    assigned = [
        dict(row._mapping)
        for row in conn.execute(
            sa.select(roster_assignments)
            .where(roster_assignments.c.device_id == device_id)
            .order_by(roster_assignments.c.assigned_at, roster_assignments.c.visit_id)
        )
    ]
    rosters = [r for r in assigned if r["withdrawn_at"] is None]
    withdrawn = sorted(
        (r for r in assigned if r["withdrawn_at"] is not None),
        key=lambda r: (r["withdrawn_at"], r["visit_id"]),
    )
    revoked = [
        _device(row)
        for row in conn.execute(
            sa.select(devices)
            .where(devices.c.revoked_at.is_not(None))
            .order_by(devices.c.revoked_at, devices.c.device_id)
        )
    ]
    officers = [
        dict(row._mapping)
        for row in conn.execute(
            sa.select(officer_revocations)
            .where(officer_revocations.c.scope.in_(("*", device_id)))
            .order_by(officer_revocations.c.officer_id, officer_revocations.c.scope)
        )
    ]
    return ReferenceSnapshot(
        version=int(state.version) if state is not None else 0,
        hq_kid=state.hq_kid if state is not None else None,
        fees=state.fees if state is not None else None,
        fees_published_at=state.fees_published_at if state is not None else None,
        watchlist_key=bytes(state.watchlist_key)
        if state is not None and state.watchlist_key is not None
        else None,
        watchlist_updated_at=state.watchlist_updated_at if state is not None else None,
        watchlist=digests if state is not None and state.watchlist_key is not None else [],
        rosters=rosters,
        revoked_devices=revoked,
        withdrawn=withdrawn,
        revoked_officers=officers,
    )


def reference_summary(engine: Engine) -> dict[str, object]:
    """Counts for ``fieldkit-hq status``: version, fees, watchlist size, rosters, revocations.

    ``roster_assignments`` counts every assignment, ``roster_withdrawn`` those withdrawn.
    """
    with reading(engine) as conn:
        state = conn.execute(sa.select(reference_state).where(reference_state.c.id == 1)).first()
        watchlist_size = conn.execute(sa.select(sa.func.count()).select_from(watchlist)).scalar()
        assignments = conn.execute(
            sa.select(sa.func.count()).select_from(roster_assignments)
        ).scalar()
        withdrawn = conn.execute(
            sa.select(sa.func.count())
            .select_from(roster_assignments)
            .where(roster_assignments.c.withdrawn_at.is_not(None))
        ).scalar()
        officers = conn.execute(
            sa.select(sa.func.count()).select_from(officer_revocations)
        ).scalar()
    fees_at = state.fees_published_at if state is not None else None
    return {
        "version": int(state.version) if state is not None else 0,
        "fees_published_at": iso(fees_at) if fees_at else None,
        "watchlist": int(watchlist_size or 0),
        "roster_assignments": int(assignments or 0),
        "roster_withdrawn": int(withdrawn or 0),
        "revoked_officers": int(officers or 0),
    }


def roster_list(engine: Engine, device_id: str | None = None) -> list[dict[str, Any]]:
    """Roster assignments (newest last, withdrawn ones included), optionally for one device."""
    query = sa.select(roster_assignments).order_by(
        roster_assignments.c.assigned_at, roster_assignments.c.visit_id
    )
    if device_id is not None:
        query = query.where(roster_assignments.c.device_id == device_id)
    with reading(engine) as conn:
        return [dict(row._mapping) for row in conn.execute(query)]
