"""Listing a visit's roster."""

from __future__ import annotations

from fieldkit.vault.kinds import ROSTER, VISIT
from fieldkit.vault.records import Record
from fieldkit.vault.session import UnlockedVault


def roster_entries(session: UnlockedVault, visit_id: str) -> list[Record]:
    """The latest version of every roster entry of a visit, in import order (file row order).

    Raises :class:`NotFound` for an unknown visit. Decrypts without auditing: a command that
    shows the entries to a person records the view itself (``roster_viewed``).
    """
    session.read(VISIT, visit_id)
    entries = session.latest(ROSTER, visit_id)
    return sorted(entries, key=lambda r: (r.at, _row_of(r)))


def _row_of(record: Record) -> int:
    row = record.data.get("row")
    return row if isinstance(row, int) else 0


def write_signal(session: UnlockedVault) -> tuple[int, int]:
    """A value that changes whenever anything was written to the vault file since the last call.

    SQLite's ``data_version`` changes when another connection commits; ``total_changes``
    counts this connection's own writes. Both are read without touching a table: the check-in
    name index asks on every keystroke whether it may still be current.
    """
    conn = session.conn
    return int(conn.execute("PRAGMA data_version").fetchone()[0]), conn.total_changes


def roster_changes(
    session: UnlockedVault, visit_id: str, after: int | None
) -> tuple[int, set[str]]:
    """The outbox number now, and the ids of the visit's roster entries written after ``after``.

    Every record version gets the next gapless outbox number, which is never deleted or
    reused; so the entries written since outbox number ``after`` are exactly these, found
    without decrypting anything, in time proportional to the writes since then. ``after=None``
    asks for the number only.
    """
    conn = session.conn
    last = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM outbox").fetchone()[0])
    if after is None or last <= after:
        return last, set()
    # CROSS JOIN and +kind keep SQLite on the outbox's seq range (the writes since ``after``):
    # left to itself it walks every roster row of the (kind, id, version) index instead.
    rows = conn.execute(
        "SELECT DISTINCT o.id FROM outbox o CROSS JOIN records r "
        "ON r.kind = o.kind AND r.id = o.id "
        "WHERE o.seq > ? AND o.seq <= ? AND +o.kind = ? AND r.visit_id = ?",
        (after, last, ROSTER, visit_id),
    )
    return last, {row[0] for row in rows}
