"""Importing a roster file: check every row, store the good ones in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from fieldkit.domain.findings import Finding
from fieldkit.domain.ids import new_ids
from fieldkit.domain.roster import BOOKING_CODE, NIK, Source
from fieldkit.vault import audit, db
from fieldkit.vault.clock import now
from fieldkit.vault.kinds import ROSTER
from fieldkit.vault.records import Change, Record
from fieldkit.vault.roster.checks import RowChecker
from fieldkit.vault.roster.rejections import already_in_roster, duplicate
from fieldkit.vault.roster.sheets import data_rows, read_sheet
from fieldkit.vault.roster.unusable import empty
from fieldkit.vault.session import UnlockedVault

Progress = Callable[[int, int], None]

PROGRESS_CALLS = 100


@dataclass(frozen=True, slots=True)
class RowProblem:
    """The findings of one row, by its spreadsheet row number (the header row is row 1)."""

    row: int
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class RosterImport:
    """The outcome of :func:`import_roster`.

    ``imported`` rows were stored (their record ids in ``ids``, in file order); ``rejected``
    rows were not, each with every finding (errors and warnings); ``warnings`` are the imported
    rows that carry warnings. ``rows`` counts the non-blank data rows read.
    """

    source: Source
    rows: int
    imported: int
    ids: list[str]
    rejected: list[RowProblem]
    warnings: list[RowProblem]
    ignored_columns: tuple[str, ...] = field(default=())


def import_roster(
    session: UnlockedVault,
    plan: Record,
    path: Path | str,
    *,
    progress: Progress | None = None,
    today: date | None = None,
) -> RosterImport:
    """Import a coordinator's list or an online-booking export into a visit's roster.

    Every row is checked; the good rows are stored as one action in one transaction (kind
    ``roster``, state ``expected``), together with one ``roster_imported`` audit entry that
    counts rows, imported, rejected and warned rows. Bad rows are returned, not stored.

    ``progress(done, total)`` is called at most about 100 times while rows are checked, and
    with ``(total, total)`` once the import has committed. ``today`` (default: the system
    date) is the day birth dates may not be after and two-digit NIK years resolve against.

    ``plan`` is the visit's record; whether the device and the visit may take a roster is the
    application layer's rule (:mod:`fieldkit.service.roster`). Raises :class:`InvalidInput`
    (exit code 2, a message in both languages and one ``file`` finding: ``roster.unreadable``,
    ``roster.old_excel``, ``roster.empty``, ``roster.columns``, ``roster.column_twice``) when
    the file itself cannot be used; nothing is stored then. An exception from ``progress``
    (a cancellation) rolls the import back: nothing is stored.
    """
    visit_id = plan.id
    today = today or date.today()
    rows, header = read_sheet(Path(path))
    numbered = list(data_rows(rows, header))
    total = len(numbered)
    if total == 0:
        raise empty()
    checker = RowChecker(header.source, header.columns, plan, today)
    step = max(1, -(-total // PROGRESS_CALLS))
    good: list[tuple[int, dict[str, object], list[Finding]]] = []
    problems: dict[int, list[Finding]] = {}
    first_seen: dict[tuple[str, str], int] = {}
    for position, (number, cells) in enumerate(numbered):
        if progress is not None and position % step == 0:
            progress(position, total)
        data, findings = checker.check(cells)
        for name in (NIK, BOOKING_CODE):
            value = data[name]
            if value is None:
                continue
            earlier = first_seen.setdefault((name, value), number)  # type: ignore[arg-type]
            if earlier != number:
                findings.append(duplicate(name, earlier))
        if any(f.is_error for f in findings):
            problems[number] = findings
        else:
            good.append((number, data, findings))
    existing = _visit_roster_ids(session, visit_id)
    if existing:
        still_good = []
        for number, data, findings in good:
            for name in (NIK, BOOKING_CODE):
                value = data[name]
                if isinstance(value, str) and any(
                    rid in existing for _, rid in session.find(name, value, kind=ROSTER)
                ):
                    findings.append(already_in_roster(name))
            if any(f.is_error for f in findings):
                problems[number] = findings
            else:
                still_good.append((number, data, findings))
        good = still_good
    changes = []
    for (number, data, findings), entry_id in zip(good, new_ids(len(good)), strict=True):
        data["source"] = header.source
        data["row"] = number
        data["warnings"] = [f.code for f in findings]
        changes.append(Change(ROSTER, entry_id, data, "expected", visit_id))
    warned = [RowProblem(n, tuple(f)) for n, _, f in good if f]
    rejected = [RowProblem(n, tuple(problems[n])) for n in sorted(problems)]
    summary = {
        "source": header.source,
        "rows": total,
        "imported": len(changes),
        "rejected": len(rejected),
        "warned": len(warned),
    }
    with db.transaction(session.conn):
        if changes:
            # One user action, one audit entry: its outbox range names every entry it wrote.
            session.write_in_transaction(
                changes, action="roster_imported", at=now(), summary=(f"visit:{visit_id}", summary)
            )
        else:
            audit.append(
                session.conn,
                session.vault.vault_id,
                session.officer_id,
                "roster_imported",
                f"visit:{visit_id}",
                summary,
            )
    if progress is not None:
        progress(total, total)
    return RosterImport(
        source=header.source,
        rows=total,
        imported=len(changes),
        ids=[c.id for c in changes],
        rejected=rejected,
        warnings=warned,
        ignored_columns=header.ignored,
    )


def _visit_roster_ids(session: UnlockedVault, visit_id: str) -> set[str]:
    rows = session.conn.execute(
        "SELECT id FROM records WHERE kind = ? AND visit_id = ?", (ROSTER, visit_id)
    )
    return {row[0] for row in rows}
