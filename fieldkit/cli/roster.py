"""``fieldkit roster``: import a visit's roster (coordinator's list or online bookings), list it."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from fieldkit.cli.output import EXIT_INVALID, EXIT_OK, ProgressBar, cli, json_option, print_json
from fieldkit.cli.unlock import officer_option, open_session
from fieldkit.domain.findings import Finding, Lang
from fieldkit.service.errors import InvalidInput
from fieldkit.service.roster import (
    SHOWN_FIELDS,
    RosterImport,
    RowProblem,
    import_roster,
    roster_entries,
)

VISIT_HELP = "Id of the visit the roster belongs to (see `fieldkit visit list`)."
# Below this many rows an import is quick and a progress bar would only flicker.
PROGRESS_MIN_ROWS = 1000

_SOURCES = {
    "coordinator": ("daftar koordinator", "coordinator's list"),
    "booking": ("data booking online", "online bookings"),
}


@click.group()
def roster() -> None:
    """Import a visit's roster (the coordinator's list or online bookings) and list it."""


def _problems_json(problems: list[RowProblem], lang: Lang) -> list[dict[str, object]]:
    return [{"row": p.row, "findings": [f.as_dict(lang) for f in p.findings]} for p in problems]


def _finding_line(word: str, row: int, finding: Finding, lang: Lang) -> str:
    return f"  {word} {row}: {finding.field}: [{finding.code}] {finding.text(lang)}"


def _report(result: RosterImport, visit_id: str, lang: Lang) -> None:
    s = cli()
    source_id, source_en = _SOURCES[result.source]
    click.echo(
        s.say(
            f"Daftar pemohon kunjungan {visit_id}: {result.imported} dari {result.rows} baris "
            f"diimpor ({source_id}); {len(result.rejected)} baris ditolak.",
            f"Roster of visit {visit_id}: {result.imported} of {result.rows} rows imported "
            f"({source_en}); {len(result.rejected)} rows rejected.",
        )
    )
    if result.ignored_columns:
        click.echo(
            s.say("Kolom diabaikan: ", "Columns ignored: ") + ", ".join(result.ignored_columns)
        )
    word = s.say("baris", "row")
    if result.rejected:
        click.echo(s.say("Baris ditolak (tidak diimpor):", "Rejected rows (not imported):"))
        for problem in result.rejected:
            ordered = sorted(problem.findings, key=lambda f: not f.is_error)
            for finding in ordered:
                click.echo(_finding_line(word, problem.row, finding, lang))
    if result.warnings:
        click.echo(s.say("Peringatan (baris tetap diimpor):", "Warnings (rows imported):"))
        for problem in result.warnings:
            for finding in problem.findings:
                click.echo(_finding_line(word, problem.row, finding, lang))
    if not result.imported:
        click.echo(s.say("Tidak ada baris yang diimpor.", "No row was imported."), err=True)


IMPORT_EPILOG = """\b
Exit codes:
  0  the import ran and at least one row was imported (rejected rows, if any, are listed)
  1  no vault, wrong passphrase, or no such visit
  2  nothing was imported: the file cannot be used (unreadable, empty, columns not
     recognised) or every row was rejected"""


@roster.command("import", epilog=IMPORT_EPILOG)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--visit", "visit_id", required=True, help=VISIT_HELP)
@officer_option
@json_option
def roster_import(file: Path, visit_id: str, officer_id: str, as_json: bool) -> None:
    """Import FILE (CSV or XLSX) into a visit's roster.

    FILE is the coordinator's list (columns Nama, Tanggal Lahir, NIK, Jenis Permohonan and
    optionally No HP) or an online-booking export (Kode Booking, Tanggal, Sesi, optionally
    Nama and NIK); English headers work too. Every row is checked; the good rows are stored
    together as one action, the bad ones are listed by spreadsheet row number with the reason
    and are not stored. A NIK that does not match the birth date is a warning: the row is
    imported and the warning listed. Exit codes are below.
    """
    lang = cli().lang
    session = open_session(officer_id)
    bar = ProgressBar(
        cli().say("Mengimpor daftar pemohon", "Importing the roster"),
        enabled=not as_json,
        min_total=PROGRESS_MIN_ROWS,
    )
    try:
        result = import_roster(session, visit_id, file, progress=bar)
    except InvalidInput as exc:
        bar.close()
        findings = [f for _, f in exc.findings if isinstance(f, Finding)]
        if as_json:
            print_json(
                {
                    "ok": False,
                    "visit_id": visit_id,
                    "imported": 0,
                    "error": exc.text(lang),
                    "findings": [f.as_dict(lang) for f in findings],
                }
            )
        else:
            click.echo(exc.text(lang), err=True)
            for finding in findings:
                click.echo(f"  [{finding.code}] {finding.text(lang)}", err=True)
        sys.exit(EXIT_INVALID)
    bar.close()
    if as_json:
        print_json(
            {
                "ok": result.imported > 0,
                "visit_id": visit_id,
                "source": result.source,
                "rows": result.rows,
                "imported": result.imported,
                "ids": result.ids,
                "rejected": _problems_json(result.rejected, lang),
                "warnings": _problems_json(result.warnings, lang),
                "ignored_columns": list(result.ignored_columns),
            }
        )
    else:
        _report(result, visit_id, lang)
    sys.exit(EXIT_OK if result.imported else EXIT_INVALID)


@roster.command("list")
@click.option("--visit", "visit_id", required=True, help=VISIT_HELP)
@officer_option
@json_option
def roster_list(visit_id: str, officer_id: str, as_json: bool) -> None:
    """List the roster of a visit, in file order.

    This shows personal data (names, NIK, phones), so every listing is written to the audit log.
    """
    s = cli()
    session = open_session(officer_id)
    entries = roster_entries(session, visit_id)
    if as_json:
        print_json({"visit_id": visit_id, "entries": [e.as_json() for e in entries]})
        return
    click.echo(
        s.say(
            f"Daftar pemohon kunjungan {visit_id}: {len(entries)} orang.",
            f"Roster of visit {visit_id}: {len(entries)} people.",
        )
    )
    for entry in entries:
        parts = [str(entry.get(key)) for key in SHOWN_FIELDS if entry.get(key)]
        note = (
            f"  ({s.say('peringatan', 'warnings')}: {', '.join(entry.warnings)})"
            if entry.warnings
            else ""
        )
        row = entry.row if entry.row is not None else ""
        click.echo(f"  {row:>5}  {entry.state:<9} " + " | ".join(parts) + note)
