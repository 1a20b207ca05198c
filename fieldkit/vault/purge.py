"""Purging visits HQ has acknowledged: crypto-shredding after a retention period.

A visit is **held** while any of its record versions is not yet in a batch HQ acknowledged
with a verified receipt, **acknowledged** once every version is, and **purgeable** when the
latest acknowledgement covering it is at least the retention period old (7 days by default,
``FIELDKIT_RETENTION_DAYS``) and the visit's day has passed (a visit planned weeks ahead and
synced early keeps its plan and roster until it has taken place).

Purging a visit is one transaction: its key row loses the key (``sealed_key`` NULL,
``shredded_at`` set), so every ciphertext ever sealed under it is unreadable wherever a copy of
it lingers (free pages, the WAL, the disk's own spare blocks); the ciphertexts themselves are
overwritten with an empty value too, the blind-index digests of its records are removed, the
records' heads get the state ``purged`` and one ``visit_purged`` audit entry counts what went
(no personal data). The rows stay as metadata: counts, outbox and sync bookkeeping still add
up. After purging, the WAL is checkpointed and truncated, so no old frame keeps the key or the
ciphertexts; ``secure_delete`` makes SQLite zero the freed space in the file.

The same run empties the sealed batches the laptop cut for HQ once HQ acknowledged them at
least the retention period ago (``sync_batches.envelope`` becomes ``X''``; seq, batch id,
ciphertext hash, receipt and acknowledgement time stay as the delivery record): they are
sealed to HQ, so the laptop cannot open them, but with HQ's private key they would open to the
personal data the purge forgets. One transaction and one ``sync_envelopes_emptied`` audit
entry (count and seq range) per run that emptied any. Batches HQ has not acknowledged are
never touched: they still have to be sent.

What it does not do: a copy of the vault file taken *before* the purge (a backup, an image of
the disk) still holds the sealed visit key, and the passphrase of that time opens it. See
docs/threat-model.md.

Everything :func:`retention_status` reports is computed from clear columns and
``sync_batches``: ``fieldkit status`` shows it without a passphrase.
"""

from __future__ import annotations

import bisect
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from fieldkit.domain.findings import Message
from fieldkit.settings import DEFAULT_RETENTION_DAYS
from fieldkit.vault import audit, db, metaauth
from fieldkit.vault.crypto import AuthenticationFailed, open_sealed
from fieldkit.vault.errors import IntegrityError, NotFound, Purged, VaultError
from fieldkit.vault.records import PURGED_STATE, KeyShredded, record_aad
from fieldkit.vault.session import UnlockedVault

DEFAULT_RETENTION = timedelta(days=DEFAULT_RETENTION_DAYS)

HELD = "held"
ACKNOWLEDGED = "acknowledged"
PURGED = "purged"

# The audit action of a purge run that emptied acknowledged batch envelopes.
ENVELOPES_EMPTIED_ACTION = "sync_envelopes_emptied"

__all__ = [
    "ACKNOWLEDGED",
    "DEFAULT_RETENTION",
    "ENVELOPES_EMPTIED_ACTION",
    "HELD",
    "PURGED",
    "EmptiedEnvelopes",
    "EnvelopeRetention",
    "PurgeReport",
    "Purged",
    "PurgedVisit",
    "RetentionStatus",
    "VisitRetention",
    "purge",
    "retention_status",
]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _parse_time(raw: str) -> datetime:
    """A stored time (ISO 8601) as an aware datetime: compared as a time, never as a string."""
    return _aware(datetime.fromisoformat(raw))


def _days(retention: timedelta) -> float | int:
    days = retention.total_seconds() / 86400
    return int(days) if days.is_integer() else days


# -- what is held, acknowledged, purged (no passphrase) -----------------------------------------


@dataclass(frozen=True, slots=True)
class VisitRetention:
    """Where one visit stands: held, acknowledged (kept for the retention period) or purged."""

    visit_id: str
    status: str
    records: int
    versions: int
    unacked_versions: int
    acked_at: str | None
    purge_due_at: str | None
    purged_at: str | None

    def due(self, now: datetime) -> bool:
        """True when acknowledged and its retention period is over at ``now``."""
        return (
            self.status == ACKNOWLEDGED
            and self.purge_due_at is not None
            and datetime.fromisoformat(self.purge_due_at) <= _aware(now)
        )

    def as_json(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "visit_id": self.visit_id,
            "status": self.status,
            "records": self.records,
            "versions": self.versions,
            "unacked_versions": self.unacked_versions,
            "acked_at": self.acked_at,
            "purge_due_at": self.purge_due_at,
            "purged_at": self.purged_at,
        }


@dataclass(frozen=True, slots=True)
class EnvelopeRetention:
    """The sealed batches the laptop cut for HQ, by what a purge does with their envelopes.

    From clear columns of ``sync_batches`` only (no passphrase).
    """

    unacked: int  # not yet acknowledged by HQ: kept, they still have to be sent
    held: int  # acknowledged, the envelope still on the laptop
    held_bytes: int
    due: int  # of ``held``: acknowledged at least the retention period before ``now``
    emptied: int  # acknowledged and emptied by a purge
    next_due_at: str | None  # when the next held one that is not due yet becomes due

    @property
    def waiting(self) -> int:
        """Acknowledged envelopes still held whose retention period is not over."""
        return self.held - self.due

    def as_json(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "unacked": self.unacked,
            "held": self.held,
            "held_bytes": self.held_bytes,
            "due": self.due,
            "emptied": self.emptied,
            "next_due_at": self.next_due_at,
        }


@dataclass(frozen=True, slots=True)
class RetentionStatus:
    """Every visit's retention state at ``now``, and the batch envelopes'."""

    retention: timedelta
    now: datetime
    visits: tuple[VisitRetention, ...]
    envelopes: EnvelopeRetention

    def count(self, status: str) -> tuple[int, int]:
        """``(visits, records)`` in a status (``held``, ``acknowledged`` or ``purged``)."""
        chosen = [v for v in self.visits if v.status == status]
        return len(chosen), sum(v.records for v in chosen)

    @property
    def due(self) -> list[VisitRetention]:
        """Acknowledged visits whose retention period is over.

        The next purge shreds them, unless a visit's day has not come yet.
        """
        return [v for v in self.visits if v.due(self.now)]

    @property
    def next_due_at(self) -> str | None:
        """When the next acknowledged visit still in its retention period becomes due."""
        waiting = [
            v.purge_due_at
            for v in self.visits
            if v.status == ACKNOWLEDGED and v.purge_due_at and not v.due(self.now)
        ]
        return min(waiting, key=datetime.fromisoformat) if waiting else None

    def as_json(self) -> dict[str, object]:
        """The JSON form: totals per status, then every visit."""
        totals: dict[str, object] = {"retention_days": _days(self.retention)}
        for status in (HELD, ACKNOWLEDGED, PURGED):
            visits, records = self.count(status)
            totals[status] = {"visits": visits, "records": records}
        totals["due"] = {"visits": len(self.due), "records": sum(v.records for v in self.due)}
        totals["next_due_at"] = self.next_due_at
        totals["envelopes"] = self.envelopes.as_json()
        totals["visits"] = [v.as_json() for v in self.visits]
        return totals


class _Acks:
    """The outbox ranges of acknowledged batches, for finding the receipt covering a seq."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        rows = conn.execute(
            "SELECT outbox_first, outbox_last, acked_at FROM sync_batches "
            "WHERE acked_at IS NOT NULL AND outbox_first IS NOT NULL ORDER BY outbox_first"
        ).fetchall()
        self._firsts = [int(r[0]) for r in rows]
        self._ranges = [(int(r[0]), int(r[1]), _parse_time(r[2])) for r in rows]

    def acked_at(self, seq: int | None) -> datetime | None:
        """When the batch holding outbox number ``seq`` was acknowledged, or None."""
        if seq is None:
            return None
        at = bisect.bisect_right(self._firsts, seq) - 1
        if at < 0:
            return None
        first, last, acked = self._ranges[at]
        return acked if first <= seq <= last else None


def _visits(
    conn: sqlite3.Connection, now: datetime, retention: timedelta, visit_id: str | None = None
) -> list[VisitRetention]:
    only = " AND rv.visit_id = ?" if visit_id is not None else ""
    args: tuple[object, ...] = (visit_id,) if visit_id is not None else ()
    acks = _Acks(conn)
    versions: dict[str, int] = {}
    unacked: dict[str, int] = {}
    latest: dict[str, datetime] = {}
    # Index-only: record_versions_visit covers the columns, outbox's unique index gives seq.
    rows = conn.execute(
        "SELECT rv.visit_id, o.seq FROM record_versions rv LEFT JOIN outbox o "
        "ON o.kind = rv.kind AND o.id = rv.id AND o.version = rv.version "
        f"WHERE rv.visit_id IS NOT NULL{only}",
        args,
    )
    for visit, seq in rows:
        versions[visit] = versions.get(visit, 0) + 1
        acked = acks.acked_at(seq)
        if acked is None:
            unacked[visit] = unacked.get(visit, 0) + 1
        elif visit not in latest or acked > latest[visit]:
            latest[visit] = acked
    where = " AND visit_id = ?" if visit_id is not None else ""
    heads: dict[str, int] = dict(
        conn.execute(
            f"SELECT visit_id, COUNT(*) FROM records WHERE visit_id IS NOT NULL{where} "
            "GROUP BY visit_id",
            args,
        ).fetchall()
    )
    shredded: dict[str, str] = dict(
        conn.execute(
            f"SELECT visit_id, shredded_at FROM visit_keys WHERE shredded_at IS NOT NULL{where}",
            args,
        ).fetchall()
    )
    result = []
    for visit in sorted(set(versions) | set(heads) | set(shredded)):
        last = latest.get(visit)
        if visit in shredded:
            status = PURGED
        elif unacked.get(visit) or last is None:
            status = HELD
        else:
            status = ACKNOWLEDGED
        result.append(
            VisitRetention(
                visit_id=visit,
                status=status,
                records=heads.get(visit, 0),
                versions=versions.get(visit, 0),
                unacked_versions=unacked.get(visit, 0),
                acked_at=_iso(last) if status != HELD else None,
                purge_due_at=_iso(last + retention) if status == ACKNOWLEDGED and last else None,
                purged_at=shredded.get(visit),
            )
        )
    return result


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="microseconds")


def _acked_envelopes(
    conn: sqlite3.Connection, now: datetime, retention: timedelta
) -> tuple[list[tuple[int, int]], list[datetime]]:
    """Acknowledged batches whose envelope is still held, split at ``now``.

    Returns ``(seq, bytes)`` of those due and the acknowledgement times of the others.
    ``acked_at`` is parsed and compared as a time, never as text (``length()`` does not read
    the blob).
    """
    due: list[tuple[int, int]] = []
    waiting: list[datetime] = []
    rows = conn.execute(
        "SELECT seq, acked_at, length(envelope) FROM sync_batches "
        "WHERE acked_at IS NOT NULL AND length(envelope) > 0 ORDER BY seq"
    )
    for seq, acked_at, size in rows:
        acked = _parse_time(acked_at)
        if acked + retention <= now:
            due.append((int(seq), int(size)))
        else:
            waiting.append(acked)
    return due, waiting


def _envelope_retention(
    conn: sqlite3.Connection, now: datetime, retention: timedelta
) -> EnvelopeRetention:
    unacked, emptied, held_bytes = conn.execute(
        "SELECT COUNT(*) - COUNT(acked_at), "
        "COALESCE(SUM(acked_at IS NOT NULL AND length(envelope) = 0), 0), "
        "COALESCE(SUM(CASE WHEN acked_at IS NOT NULL THEN length(envelope) END), 0) "
        "FROM sync_batches"
    ).fetchone()
    due, waiting = _acked_envelopes(conn, now, retention)
    return EnvelopeRetention(
        unacked=int(unacked),
        held=len(due) + len(waiting),
        held_bytes=int(held_bytes),
        due=len(due),
        emptied=int(emptied),
        next_due_at=_iso(min(waiting) + retention) if waiting else None,
    )


def retention_status(
    conn: sqlite3.Connection,
    *,
    now: datetime | None = None,
    retention: timedelta = DEFAULT_RETENTION,
) -> RetentionStatus:
    """What is held, acknowledged and purged, from clear columns only (no passphrase)."""
    moment = _aware(now or datetime.now(UTC))
    return RetentionStatus(
        retention,
        moment,
        tuple(_visits(conn, moment, retention)),
        _envelope_retention(conn, moment, retention),
    )


# -- purging (unlocked) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PurgedVisit:
    """One purged visit (or one that would be, in a dry run)."""

    visit_id: str
    records: dict[str, int]
    versions: int
    acked_at: str | None
    crypto_shredded: bool

    def as_json(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "visit_id": self.visit_id,
            "records": self.records,
            "versions": self.versions,
            "acked_at": self.acked_at,
            "crypto_shredded": self.crypto_shredded,
        }


@dataclass(frozen=True, slots=True)
class EmptiedEnvelopes:
    """The acknowledged batch envelopes one purge emptied (or, in a dry run, would empty)."""

    batches: int = 0
    seq_first: int | None = None
    seq_last: int | None = None
    bytes: int = 0

    def as_json(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "batches": self.batches,
            "seq_first": self.seq_first,
            "seq_last": self.seq_last,
            "bytes": self.bytes,
        }


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """What a purge did (or, with ``dry_run``, would do) and what it kept, and why."""

    retention: timedelta
    now: datetime
    dry_run: bool
    purged: tuple[PurgedVisit, ...]
    waiting: tuple[VisitRetention, ...]
    held: tuple[VisitRetention, ...]
    upcoming: tuple[str, ...]
    blocked: tuple[tuple[str, str], ...]
    already_purged: int
    wal_truncated: bool | None  # None in a dry run
    envelopes_emptied: EmptiedEnvelopes
    envelopes: EnvelopeRetention  # as they stood before this run

    @property
    def envelopes_waiting(self) -> int:
        """Acknowledged envelopes kept: their retention period is not over."""
        return self.envelopes.waiting

    def as_json(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "dry_run": self.dry_run,
            "retention_days": _days(self.retention),
            "now": self.now.isoformat(timespec="seconds"),
            "purged": [p.as_json() for p in self.purged],
            "waiting": [v.as_json() for v in self.waiting],
            "held": [v.as_json() for v in self.held],
            "upcoming": list(self.upcoming),
            "blocked": [{"visit_id": v, "reason": r} for v, r in self.blocked],
            "already_purged": self.already_purged,
            "envelopes": {
                "emptied": self.envelopes_emptied.as_json(),
                "waiting": self.envelopes_waiting,
                "unacked": self.envelopes.unacked,
                "already_emptied": self.envelopes.emptied,
            },
            "wal_truncated": self.wal_truncated,
        }


def _visit_day_ahead(session: UnlockedVault, visit_id: str, now: datetime) -> bool:
    """True when the visit's planned day has not passed yet at ``now`` (UTC date)."""
    try:
        plan = session.read("visit", visit_id)
    except NotFound:
        return False
    raw = plan.data.get("date")
    try:
        day = date.fromisoformat(str(raw))
    except ValueError:
        return False
    return day >= now.astimezone(UTC).date()


def _record_counts(conn: sqlite3.Connection, visit_id: str) -> dict[str, int]:
    rows = conn.execute(
        "SELECT kind, COUNT(*) FROM records WHERE visit_id = ? GROUP BY kind ORDER BY kind",
        (visit_id,),
    )
    return {kind: int(n) for kind, n in rows}


def _purge_visit(
    session: UnlockedVault, visit_id: str, now: datetime, retention: timedelta
) -> PurgedVisit | None:
    """Crypto-shred one visit in one transaction; None if it is no longer purgeable."""
    conn = session.conn
    at = now.astimezone(UTC).isoformat(timespec="microseconds")
    with db.transaction(conn):
        # Checked again under the write lock: a write or a new batch may have come in since.
        current = _visits(conn, now, retention, visit_id)
        if len(current) != 1 or not current[0].due(now):
            return None
        counts = _record_counts(conn, visit_id)
        key_row = conn.execute(
            "SELECT sealed_key FROM visit_keys WHERE visit_id = ?", (visit_id,)
        ).fetchone()
        if key_row is None:
            # Written before migration 0003 and never given its own key: its rows are sealed
            # under the data key, which other visits share, so they are deleted, not shredded.
            conn.execute(
                "INSERT INTO visit_keys (visit_id, dek_generation, sealed_key, created_at, "
                "shredded_at) VALUES (?, ?, NULL, ?, ?)",
                (visit_id, session.generation, at, at),
            )
        else:
            conn.execute(
                "UPDATE visit_keys SET sealed_key = NULL, shredded_at = ? WHERE visit_id = ?",
                (at, visit_id),
            )
        conn.execute("DELETE FROM visit_keys_previous WHERE visit_id = ?", (visit_id,))
        conn.execute(
            "UPDATE record_versions SET sealed = X'' WHERE visit_id = ? AND length(sealed) > 0",
            (visit_id,),
        )
        conn.execute(
            "UPDATE records SET state = ?, nik_index = NULL, booking_index = NULL "
            "WHERE visit_id = ?",
            (PURGED_STATE, visit_id),
        )
        audit.append(
            conn,
            session.vault.vault_id,
            session.officer_id,
            "visit_purged",
            f"visit:{visit_id}",
            {
                "records": counts,
                "versions": current[0].versions,
                "acked_at": current[0].acked_at,
                "retention_days": _days(retention),
                "crypto_shredded": key_row is not None,
            },
        )
    session.forget_visit(visit_id)
    return PurgedVisit(
        visit_id, counts, current[0].versions, current[0].acked_at, key_row is not None
    )


def _emptied(due: list[tuple[int, int]]) -> EmptiedEnvelopes:
    if not due:
        return EmptiedEnvelopes()
    return EmptiedEnvelopes(len(due), due[0][0], due[-1][0], sum(size for _, size in due))


def _empty_envelopes(
    session: UnlockedVault, now: datetime, retention: timedelta, *, dry_run: bool
) -> EmptiedEnvelopes:
    """Empty every batch envelope HQ acknowledged at least ``retention`` before ``now``.

    One transaction, one audit entry (count and seq range), only when there is something to
    empty; the other columns stay as the delivery record. Unacknowledged batches are never
    touched.
    """
    conn = session.conn
    due, _ = _acked_envelopes(conn, now, retention)
    if dry_run or not due:
        return _emptied(due)
    with db.transaction(conn):
        # Checked again under the write lock.
        due, _ = _acked_envelopes(conn, now, retention)
        if not due:
            return EmptiedEnvelopes()
        conn.executemany(
            "UPDATE sync_batches SET envelope = X'' WHERE seq = ? AND acked_at IS NOT NULL",
            [(seq,) for seq, _ in due],
        )
        done = _emptied(due)
        audit.append(
            conn,
            session.vault.vault_id,
            session.officer_id,
            ENVELOPES_EMPTIED_ACTION,
            f"device:{session.vault.device_id}",
            {
                "batches": done.batches,
                "seq_first": done.seq_first,
                "seq_last": done.seq_last,
                "bytes": done.bytes,
                "retention_days": _days(retention),
            },
        )
    return done


def _checkpoint(conn: sqlite3.Connection) -> bool:
    """Copy the WAL into the file and truncate it; False when a reader kept it from finishing."""
    busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return busy == 0


def _verify_before_purge(session: UnlockedVault) -> None:
    """What a purge trusts must be what fieldkit wrote: refuse before anything is destroyed.

    The acknowledgements and their times (authenticated settings), the outbox entries of the
    acknowledged batches, and the clear ``visit_id`` of every version HQ has not acknowledged:
    such a version, relabelled into another visit in the file, would leave its own visit
    looking acknowledged, and shredding that visit's key would destroy it. So each one must
    open under the key its ``visit_id`` names. One read snapshot.
    """
    conn = session.conn
    conn.execute("BEGIN")
    try:
        session.verify_settings()
        metaauth.verify_acknowledged_outbox(conn)
        rows = conn.execute(
            "SELECT rv.kind, rv.id, rv.version, rv.visit_id, rv.state, rv.officer_id, rv.at, "
            "rv.key_generation, rv.sealed FROM record_versions rv LEFT JOIN outbox o "
            "ON o.kind = rv.kind AND o.id = rv.id AND o.version = rv.version "
            "WHERE rv.visit_id IS NOT NULL AND length(rv.sealed) > 0 AND (o.seq IS NULL OR "
            "NOT EXISTS (SELECT 1 FROM sync_batches b WHERE b.acked_at IS NOT NULL "
            "AND o.seq BETWEEN b.outbox_first AND b.outbox_last))"
        )
        for kind, rid, version, visit_id, state, officer_id, at, generation, sealed in rows:
            aad = record_aad(kind, rid, version, visit_id, state, officer_id, at)
            try:
                open_sealed(session.records_key_for(visit_id, generation), sealed, aad)
            except (AuthenticationFailed, KeyError, KeyShredded) as exc:
                raise IntegrityError(
                    kind,
                    rid,
                    version,
                    "not yet acknowledged by HQ and does not open under its visit's key; "
                    "nothing was purged",
                ) from exc
    finally:
        conn.execute("COMMIT")


def purge(
    session: UnlockedVault,
    *,
    now: datetime | None = None,
    retention: timedelta = DEFAULT_RETENTION,
    dry_run: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> PurgeReport:
    """Crypto-shred every visit HQ acknowledged at least ``retention`` before ``now``.

    One transaction per visit; idempotent (a purged visit is skipped). A visit whose day has
    not passed is kept (``upcoming``); one whose visit record fails its integrity check is
    kept and named (``blocked``). Then the envelopes of the batches HQ acknowledged at least
    ``retention`` before ``now`` are emptied (one transaction, one audit entry), whatever the
    state of the visits in them. ``dry_run`` reports what would be purged and emptied and
    writes nothing. The WAL is checkpointed and truncated at the end.

    ``progress(done, total)`` is called before each due visit and once at the end; an
    exception it raises (a cancellation) stops the purge between two visits.
    """
    moment = _aware(now or datetime.now(UTC))
    if retention < timedelta(0):
        raise VaultError(
            Message("Masa simpan tidak boleh negatif.", "The retention period cannot be negative.")
        )
    _verify_before_purge(session)
    status = retention_status(session.conn, now=moment, retention=retention)
    purged: list[PurgedVisit] = []
    upcoming: list[str] = []
    blocked: list[tuple[str, str]] = []
    due_visits = status.due
    try:
        for done, visit in enumerate(due_visits):
            if progress is not None:
                progress(done, len(due_visits))
            try:
                if _visit_day_ahead(session, visit.visit_id, moment):
                    upcoming.append(visit.visit_id)
                    continue
            except IntegrityError as exc:
                blocked.append(
                    (visit.visit_id, f"{exc.kind} {exc.record_id} v{exc.version}: {exc.reason}")
                )
                continue
            if dry_run:
                key = session.conn.execute(
                    "SELECT 1 FROM visit_keys WHERE visit_id = ?", (visit.visit_id,)
                ).fetchone()
                purged.append(
                    PurgedVisit(
                        visit.visit_id,
                        _record_counts(session.conn, visit.visit_id),
                        visit.versions,
                        visit.acked_at,
                        key is not None,
                    )
                )
                continue
            done = _purge_visit(session, visit.visit_id, moment, retention)
            if done is not None:
                purged.append(done)
        emptied = _empty_envelopes(session, moment, retention, dry_run=dry_run)
        if progress is not None:
            progress(len(due_visits), len(due_visits))
    finally:
        # Always, not only when this run purged something: a checkpoint an open reader kept
        # from finishing last time is retried.
        wal_truncated = None if dry_run else _checkpoint(session.conn)
    due = {v.visit_id for v in status.due}
    return PurgeReport(
        retention=retention,
        now=moment,
        dry_run=dry_run,
        purged=tuple(purged),
        waiting=tuple(
            v for v in status.visits if v.status == ACKNOWLEDGED and v.visit_id not in due
        ),
        held=tuple(v for v in status.visits if v.status == HELD),
        upcoming=tuple(upcoming),
        blocked=tuple(blocked),
        already_purged=status.count(PURGED)[0],
        wal_truncated=wal_truncated,
        envelopes_emptied=emptied,
        envelopes=status.envelopes,
    )
