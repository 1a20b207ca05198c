"""``fieldkit synth``: synthetic people for demos, tests and benchmarks."""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from pathlib import Path

import click

from fieldkit.cli.output import EXIT_FAILED, cli, json_option, print_json
from fieldkit.domain.calendar import VisitKind, VisitSession
from fieldkit.domain.synth import synthetic_applicants
from fieldkit.domain.synthday import SyntheticDay, synthetic_day


@click.group()
def synth() -> None:
    """Make synthetic (never real) data for demos, tests and benchmarks."""


@synth.command("applicants")
@click.option(
    "--count",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="How many applicants to print.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Random seed; the same seed always gives the same applicants.",
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Accepted for symmetry with other commands; the output is always JSON Lines.",
)
def synth_applicants(count: int, seed: int, as_json: bool) -> None:
    """Print synthetic applicants as JSON Lines (one object per line).

    Names, NIK and KK numbers, birth dates, sexes, regions, phones and booking codes are
    consistent with each other; NIK and KK serials lie in 9000–9999 so none is a real person's.
    The format is the one `fieldkit applicant add` reads (docs/applicant-json.md).
    """
    del as_json  # JSON Lines either way
    for applicant in synthetic_applicants(count, seed):
        sys.stdout.write(json.dumps(applicant.as_json(), ensure_ascii=False) + "\n")


# The coordinator's roster as `fieldkit roster import` reads it: Indonesian headers, `;`.
ROSTER_HEADER = (
    "Nama",
    "Tanggal Lahir",
    "NIK",
    "Jenis Permohonan",
    "No HP",
    "Kode Booking",
    "Tanggal",
    "Sesi",
)
_TYPE_WORDS = {"new": "baru", "expired": "penggantian"}


def write_roster_csv(day: SyntheticDay, path: Path) -> None:
    """Write ``day``'s roster to ``path`` as the coordinator sends it and the importer reads it.

    Indonesian headers (:data:`ROSTER_HEADER`), ``;`` between fields, dates as DD/MM/YYYY,
    the application type in words (``baru``, ``penggantian``), the phone as typed in Indonesia
    (``08…``), and each row's booking code, date and session. ``fieldkit synth day`` and
    ``fieldkit demo`` both write it.
    """
    with path.open("w", encoding="utf-8", newline="") as sheet:
        writer = csv.writer(sheet, delimiter=";")
        writer.writerow(ROSTER_HEADER)
        for row in day.roster:
            born = date.fromisoformat(str(row["birth_date"]))
            booked = date.fromisoformat(str(row["booking_date"]))
            writer.writerow(
                [
                    row["name"],
                    f"{born:%d/%m/%Y}",
                    row["nik"],
                    _TYPE_WORDS[str(row["application_type"])],
                    "0" + str(row["phone"]).removeprefix("+62"),
                    row["booking_code"],
                    f"{booked:%d/%m/%Y}",
                    row["session"],
                ]
            )


@synth.command("day")
@click.option(
    "--date",
    "on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    required=True,
    help="The visit's date, YYYY-MM-DD.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    required=True,
    help="Folder to write roster.csv and day.json into (made if missing).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option(
    "--applicants",
    type=click.IntRange(min=10),
    default=60,
    show_default=True,
    help="Booked applicants on the roster (walk-ins come on top).",
)
@click.option(
    "--session",
    "session_name",
    type=click.Choice([s.value for s in VisitSession]),
    default=VisitSession.PAGI.value,
    show_default=True,
    help="pagi or siang.",
)
@click.option(
    "--kind",
    type=click.Choice([k.value for k in VisitKind]),
    default=VisitKind.EAZY.value,
    show_default=True,
    help="eazy, simpatik or office.",
)
@click.option("--force", is_flag=True, help="Overwrite roster.csv and day.json if present.")
@json_option
def synth_day(
    on: datetime,
    out: Path,
    seed: int,
    applicants: int,
    session_name: str,
    kind: str,
    force: bool,
    as_json: bool,
) -> None:
    """Script a synthetic visit day: the roster (roster.csv) and the day at the counter (day.json).

    day.json holds the visit to plan, every arrival in order with its time and what the officer
    does (documents, payment, biometrics, decision), the no-shows, three priority walk-ins, one
    lost passport booked as an expired one, one person on the watchlist (the NIKs HQ must list)
    and the counts the day must end with. The same seed always gives the same day. Exit 1 if
    the files exist (without --force).
    """
    s = cli()
    day = synthetic_day(seed, applicants, on=on.date(), session=session_name, kind=kind)
    roster_path, day_path = out / "roster.csv", out / "day.json"
    existing = [p for p in (roster_path, day_path) if p.exists()]
    if existing and not force:
        click.echo(
            s.say(
                f"{existing[0]} sudah ada; pakai --force untuk menimpanya.",
                f"{existing[0]} exists; use --force to overwrite it.",
            ),
            err=True,
        )
        sys.exit(EXIT_FAILED)
    out.mkdir(parents=True, exist_ok=True)
    write_roster_csv(day, roster_path)
    day_path.write_text(
        json.dumps(day.as_json(), ensure_ascii=False, indent=1) + "\n", encoding="utf-8"
    )
    if as_json:
        print_json({"roster_file": str(roster_path), "day_file": str(day_path), **day.expected()})
    else:
        click.echo(roster_path)
        click.echo(day_path)
