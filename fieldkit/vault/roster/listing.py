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


def roster_version(session: UnlockedVault, visit_id: str) -> tuple[int, str | None]:
    """How many roster entries a visit has and when the latest changed: equal values, same roster.

    No decryption; one indexed query.
    """
    row = session.conn.execute(
        "SELECT COUNT(*), MAX(updated_at) FROM records WHERE kind = ? AND visit_id = ?",
        (ROSTER, visit_id),
    ).fetchone()
    return int(row[0]), row[1]
