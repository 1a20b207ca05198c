"""A visit's roster: import the coordinator's list or online bookings; list it (audited)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from fieldkit.domain.findings import Message
from fieldkit.service.progress import Cancel, Progress, checked_progress
from fieldkit.service.session import OfficerSession
from fieldkit.service.visits import open_visit_record
from fieldkit.vault import roster as vault_roster
from fieldkit.vault.records import Record
from fieldkit.vault.roster import RosterImport, RowProblem

__all__ = ["RosterEntry", "RosterImport", "RowProblem", "import_roster", "roster_entries"]

_IMPORT = Message("Impor daftar pemohon", "Roster import")
# What ``fieldkit roster list`` shows of an entry, in this order.
SHOWN_FIELDS = (
    "name",
    "nik",
    "birth_date",
    "application_type",
    "phone",
    "booking_code",
    "booking_date",
    "session",
)


@dataclass(frozen=True, slots=True)
class RosterEntry:
    """One person the visit expects, as imported (or assigned by HQ)."""

    id: str
    version: int
    state: str
    row: int | None
    warnings: tuple[str, ...]
    fields: Mapping[str, object]

    def get(self, key: str) -> object:
        """A stored field (``name``, ``nik``, ``booking_code`` …), or None."""
        return self.fields.get(key)

    def as_json(self) -> dict[str, object]:
        """The entry as ``fieldkit roster list --json`` prints it."""
        return {"id": self.id, "version": self.version, "state": self.state, **self.fields}


def _view(record: Record) -> RosterEntry:
    data = record.data
    row = data.get("row")
    warned = data.get("warnings")
    return RosterEntry(
        id=record.id,
        version=record.version,
        state=record.state,
        row=row if isinstance(row, int) else None,
        warnings=tuple(map(str, warned)) if isinstance(warned, list) else (),
        fields=MappingProxyType(dict(data)),
    )


def import_roster(
    session: OfficerSession,
    visit_id: str,
    path: Path | str,
    *,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
) -> RosterImport:
    """Import FILE (CSV or XLSX) into a visit's roster; good rows as one action, bad ones listed.

    Refused on a device HQ revoked and for a visit HQ withdrew. ``progress(done, total)`` is
    called about 100 times; once ``cancel`` is set the import stops at its next report and
    nothing is stored (:class:`~fieldkit.service.progress.Cancelled`).
    """
    plan = open_visit_record(session, visit_id)
    return vault_roster.import_roster(
        session.unlocked, plan, path, progress=checked_progress(progress, cancel, _IMPORT)
    )


def roster_entries(session: OfficerSession, visit_id: str) -> list[RosterEntry]:
    """The roster of a visit in file order; the listing is audited (``roster_viewed``)."""
    entries = vault_roster.roster_entries(session.unlocked, visit_id)
    session.unlocked.note("roster_viewed", f"visit:{visit_id}", {"entries": len(entries)})
    return [_view(r) for r in entries]
