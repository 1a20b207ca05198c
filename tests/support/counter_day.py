"""A counter day for tests: a vault with an open visit whose roster was imported from a CSV.

    session, visit_id, entry_ids = open_visit_with_roster(home, roster_rows(people(5, 1)))

:func:`open_visit_with_roster` makes a new vault in ``home`` (the test vault of
:mod:`tests.support.vault`, unlocked by its supervisor), plans a visit, imports ``entries`` as
a coordinator's list or, when any entry has a booking code, as online bookings (through the
real importer: a ``;``-separated CSV written next to ``home``), and opens the visit. It returns
the unlocked vault, the visit id and the roster entry ids in the order of ``entries``.
:func:`open_visit_on` does the same in a vault the test already holds. Synthetic people only.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from fieldkit.service import visits
from fieldkit.service.roster import import_roster
from fieldkit.service.session import OfficerSession
from fieldkit.vault.roster import roster_entries
from fieldkit.vault.session import UnlockedVault
from tests.support.vault import new_vault

DAY = "2026-12-01"  # a Tuesday
SIMPATIK_DAY = "2026-12-12"  # the 2nd Saturday of December 2026
TYPE_WORD = {"new": "baru", "expired": "penggantian"}
_COLUMNS = (
    ("Nama", "name"),
    ("Tanggal Lahir", "birth_date"),
    ("NIK", "nik"),
    ("Jenis Permohonan", "application_type"),
    ("No HP", "phone"),
)
_BOOKING_COLUMNS = (
    ("Kode Booking", "booking_code"),
    ("Tanggal", "booking_date"),
    ("Sesi", "session"),
)
_VISITS: dict[str, dict[str, str]] = {
    "eazy": {
        "site": "SMAN 1 Karawang",
        "coordinator_name": "Budi Santoso",
        "coordinator_phone": "081234567890",
    },
    "office": {"site": "Kanim Karawang"},
    "simpatik": {"site": "Kanim Karawang"},
}


def roster_rows(
    people: Sequence[Mapping[str, Any]], *, booked: bool = False
) -> list[dict[str, Any]]:
    """Roster entries for applicants' JSON (:func:`tests.support.vault.people`).

    ``booked``: each with its booking code, for the visit's day (:data:`DAY`) and session pagi.
    """
    rows = []
    for p in people:
        row = {
            "name": p["name"],
            "birth_date": p["birth_date"],
            "nik": p["nik"],
            "application_type": p["application_type"]
            if p["application_type"] in TYPE_WORD
            else "new",
            "phone": p.get("phone"),
        }
        if booked:
            row |= {"booking_code": p["booking_code"], "booking_date": DAY, "session": "pagi"}
        rows.append(row)
    return rows


def write_roster_csv(path: Path, entries: Sequence[Mapping[str, Any]]) -> Path:
    """``entries`` as a coordinator's CSV (with the booking columns when any has a code)."""
    columns = list(_COLUMNS)
    if any(e.get("booking_code") for e in entries):
        columns += _BOOKING_COLUMNS
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["No", *(header for header, _ in columns)])
        for number, entry in enumerate(entries, start=1):
            cells = []
            for _, field in columns:
                value = entry.get(field)
                if field == "application_type" and value is not None:
                    value = TYPE_WORD.get(str(value), value)
                if field == "phone" and isinstance(value, str) and value.startswith("+62"):
                    value = "0" + value.removeprefix("+62")
                cells.append("" if value is None else str(value))
            writer.writerow([number, *cells])
    return path


def open_visit_on(
    session: UnlockedVault,
    entries: Sequence[Mapping[str, Any]],
    *,
    csv_dir: Path,
    kind: str = "eazy",
    on: str | None = None,
    session_name: str = "pagi",
    walk_in_quota: int | None = None,
) -> tuple[str, list[str]]:
    """Plan a visit in ``session``'s vault, import ``entries``, open it: ``(visit id, entry ids)``.

    Every entry must import (the test's entries are valid); the entry ids follow ``entries``.
    """
    officer = OfficerSession(session)
    day = on or (SIMPATIK_DAY if kind == "simpatik" else DAY)
    visit_id = visits.create_visit(
        officer, kind=kind, on=day, session_name=session_name, **_VISITS[kind]
    )
    entry_ids: list[str] = []
    if entries:
        csv_dir.mkdir(parents=True, exist_ok=True)
        path = write_roster_csv(csv_dir / f"roster-{visit_id}.csv", entries)
        result = import_roster(officer, visit_id, path)
        assert result.imported == len(entries), result.rejected
        by_row = sorted(roster_entries(session, visit_id), key=lambda r: int(r.data["row"]))  # type: ignore[call-overload]
        entry_ids = [r.id for r in by_row]
    visits.open_visit(officer, visit_id, walk_in_quota=walk_in_quota)
    return visit_id, entry_ids


def open_visit_with_roster(
    home: Path,
    entries: Sequence[Mapping[str, Any]],
    *,
    kind: str = "eazy",
    on: str | None = None,
    session: str = "pagi",
    walk_in_quota: int | None = None,
) -> tuple[UnlockedVault, str, list[str]]:
    """A new vault in ``home`` with one open visit and ``entries`` as its roster.

    Returns ``(unlocked vault, visit id, entry ids in the order of entries)``; the caller
    closes ``session.vault``. ``on`` defaults to :data:`DAY` (:data:`SIMPATIK_DAY` for a
    Simpatik visit); ``walk_in_quota`` is the Simpatik quota given when opening.
    """
    unlocked = new_vault(home)
    visit_id, entry_ids = open_visit_on(
        unlocked,
        entries,
        csv_dir=home.parent / f"{home.name}-incoming",
        kind=kind,
        on=on,
        session_name=session,
        walk_in_quota=walk_in_quota,
    )
    return unlocked, visit_id, entry_ids
