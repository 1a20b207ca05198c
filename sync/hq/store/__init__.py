"""HQ's store: one SQLAlchemy Core schema for SQLite (embedded default) and PostgreSQL.

The schema is created and upgraded by Alembic (``sync/hq/migrations``), run from code with
:func:`migrate`; no ``alembic.ini`` is needed. Concurrency rests on the database, not on the
process: primary keys and unique constraints decide every race, inserts use the dialect's
``INSERT … ON CONFLICT``, and each batch is ingested in one transaction that first locks its
device (``SELECT … FOR UPDATE`` on PostgreSQL; ``BEGIN IMMEDIATE`` on SQLite, whose writers are
serialised anyway). Any number of HQ worker processes may share one database.

Times HQ sets itself are timezone-aware UTC; times a device reported (``at`` of records and
audit entries, a batch's ``created_at``) are kept as the text the device sent.

Callers use ``from sync.hq import store`` and ``store.<name>``; every name is re-exported here.
The modules, each importing only those above it:

- :mod:`~sync.hq.store.schema`: ``metadata``, the tables, :class:`UTCDateTime`, ``json_type``.
- :mod:`~sync.hq.store.clock`: ``now`` and ``iso``, HQ's own UTC times.
- :mod:`~sync.hq.store.database`: the URL, the engine (SQLite WAL and ``BEGIN IMMEDIATE``),
  ``migrate``/``open_store``, ``reading`` transactions, ``insert``/``insert_new``.
- :mod:`~sync.hq.store.reference`: the reference version (``bump_reference``), HQ's key, fees,
  the watchlist, officer revocations.
- :mod:`~sync.hq.store.enrollment`: one-time codes, enrolling, getting, listing and revoking
  devices.
- :mod:`~sync.hq.store.rosters`: assigning, withdrawing and listing roster visits.
- :mod:`~sync.hq.store.snapshot`: what HQ publishes to a device, and the reference counts.
- :mod:`~sync.hq.store.sequences`: batch seqs, gaps, checkpoints, key-retirement blockers.
- :mod:`~sync.hq.store.incidents`: rejections (refused requests) and flags for HQ staff.
- :mod:`~sync.hq.store.status`: the per-device status report, open flags, rejection counts,
  records received by kind and state.
"""

from __future__ import annotations

from sync.hq.store.clock import iso, now
from sync.hq.store.database import (
    DB_FILE,
    MIGRATIONS,
    create_engine,
    database_url,
    insert,
    insert_new,
    migrate,
    open_store,
    reading,
    redact,
)
from sync.hq.store.enrollment import (
    CODE_ALPHABET,
    CODE_GROUP_LEN,
    CODE_GROUPS,
    Device,
    EncryptionKeyConflict,
    EnrollRefused,
    create_enroll_code,
    enroll_device,
    get_device,
    hash_code,
    list_devices,
    normalise_code,
    register_encryption_key,
    revoke_device,
)
from sync.hq.store.incidents import (
    add_flag,
    add_rejection,
    flush_rejection_counts,
    prune_rejections,
)
from sync.hq.store.reference import (
    bump_reference,
    note_hq_keys,
    publish_fees,
    replace_watchlist,
    revoke_officer,
)
from sync.hq.store.rosters import (
    AssignmentRefused,
    UnknownDevice,
    assign_roster,
    roster_list,
    withdraw_roster,
)
from sync.hq.store.schema import (
    UTCDateTime,
    audit_entries,
    batches,
    devices,
    enroll_codes,
    flags,
    json_type,
    metadata,
    officer_revocations,
    records,
    reference_state,
    rejections,
    roster_assignments,
    watchlist,
)
from sync.hq.store.sequences import (
    Checkpoint,
    checkpoint,
    missing_seqs,
    retirement_blockers,
    seqs,
)
from sync.hq.store.snapshot import ReferenceSnapshot, reference_snapshot, reference_summary
from sync.hq.store.status import (
    DeviceStatus,
    device_statuses,
    open_flags,
    received_counts,
    rejection_counts,
)

__all__ = [
    "CODE_ALPHABET",
    "CODE_GROUPS",
    "CODE_GROUP_LEN",
    "DB_FILE",
    "MIGRATIONS",
    "AssignmentRefused",
    "Checkpoint",
    "Device",
    "DeviceStatus",
    "EncryptionKeyConflict",
    "EnrollRefused",
    "ReferenceSnapshot",
    "UTCDateTime",
    "UnknownDevice",
    "add_flag",
    "add_rejection",
    "assign_roster",
    "audit_entries",
    "batches",
    "bump_reference",
    "checkpoint",
    "create_engine",
    "create_enroll_code",
    "database_url",
    "device_statuses",
    "devices",
    "enroll_codes",
    "enroll_device",
    "flags",
    "flush_rejection_counts",
    "get_device",
    "hash_code",
    "insert",
    "insert_new",
    "iso",
    "json_type",
    "list_devices",
    "metadata",
    "migrate",
    "missing_seqs",
    "normalise_code",
    "note_hq_keys",
    "now",
    "officer_revocations",
    "open_flags",
    "open_store",
    "prune_rejections",
    "publish_fees",
    "reading",
    "received_counts",
    "records",
    "redact",
    "reference_snapshot",
    "reference_state",
    "reference_summary",
    "register_encryption_key",
    "rejection_counts",
    "rejections",
    "replace_watchlist",
    "retirement_blockers",
    "revoke_device",
    "revoke_officer",
    "roster_assignments",
    "roster_list",
    "seqs",
    "watchlist",
    "withdraw_roster",
]
