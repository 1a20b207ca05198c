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
