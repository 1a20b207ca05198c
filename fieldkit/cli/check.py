"""``fieldkit check``: the identity-number rules, for officers and scripts."""

from __future__ import annotations

from datetime import date

import click

from fieldkit.cli.output import cli, finish
from fieldkit.domain.kk import KkNumber, parse_kk
from fieldkit.domain.mrz import Td3, parse_td3
from fieldkit.domain.nik import Nik, Sex, parse_nik
from fieldkit.domain.regions import Region

JSON_HELP = "Print the result as JSON."


@click.group()
def check() -> None:
    """Check a NIK, a KK number or a passport MRZ (exit 0 valid, 2 invalid)."""


def _region_json(region: Region) -> dict[str, object]:
    renumbered = region.renumbered
    return {
        "code": region.code,
        "current_code": region.current_code,
        "province": region.province_name,
        "regency": region.regency_name,
        "district": region.district_name,
        "renumbered_by": renumbered.law if renumbered else None,
    }


def _region_line(region: Region) -> str:
    text = f"{region.describe()} ({region.code})"
    if region.renumbered:
        moved = region.renumbered
        text += f" → {moved.new}{region.code[4:]} ({moved.law})"
    return text


@check.command("nik")
@click.argument("nik")
@click.option(
    "--dob",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    help="Birth date stated on the KTP (YYYY-MM-DD); a mismatch is a warning.",
)
@click.option(
    "--sex",
    type=click.Choice(["M", "F"], case_sensitive=False),
    help="Sex stated on the KTP; a mismatch is a warning.",
)
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def check_nik(nik: str, dob: object, sex: str | None, as_json: bool) -> None:
    """Check a 16-digit NIK and show its region, birth date and sex."""
    s = cli()
    stated_dob = dob.date() if dob is not None else None  # type: ignore[attr-defined]
    stated_sex = Sex(sex.upper()) if sex else None
    checked = parse_nik(nik, stated_birth_date=stated_dob, stated_sex=stated_sex)
    value: Nik | None = checked.value
    if value is None:
        finish(checked, as_json=as_json, value_json=None)
    sex_word = {
        Sex.MALE: s.say("laki-laki", "male"),
        Sex.FEMALE: s.say("perempuan", "female"),
    }[value.sex]
    finish(
        checked,
        as_json=as_json,
        value_json={
            "nik": value.number,
            "region": _region_json(value.region),
            "birth_date": value.birth_date.isoformat(),
            "sex": value.sex.value,
            "serial": value.serial,
        },
        title=s.say(f"NIK {value.number} sah.", f"NIK {value.number} is valid."),
        lines=[
            (s.say("Wilayah", "Region"), _region_line(value.region)),
            (s.say("Tanggal lahir", "Birth date"), _date(value.birth_date)),
            (s.say("Jenis kelamin", "Sex"), sex_word),
            (s.say("Nomor urut", "Serial"), value.serial),
        ],
    )


@check.command("kk")
@click.argument("number")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def check_kk(number: str, as_json: bool) -> None:
    """Check the form of a 16-digit KK (family card) number."""
    s = cli()
    checked = parse_kk(number)
    value: KkNumber | None = checked.value
    if value is None:
        finish(checked, as_json=as_json, value_json=None)
    finish(
        checked,
        as_json=as_json,
        value_json={
            "kk": value.number,
            "region": _region_json(value.region),
            "entry_date": value.entry_date.isoformat(),
            "serial": value.serial,
        },
        title=s.say(f"Nomor KK {value.number} sah.", f"KK number {value.number} is valid."),
        lines=[
            (s.say("Wilayah", "Region"), _region_line(value.region)),
            (s.say("Tanggal entri", "Entry date"), _date(value.entry_date)),
            (s.say("Nomor urut", "Serial"), value.serial),
        ],
    )


@check.command("mrz")
@click.argument("line1")
@click.argument("line2")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
def check_mrz(line1: str, line2: str, as_json: bool) -> None:
    """Check a passport's two 44-character MRZ lines (ICAO 9303 TD3) and every check digit.

    Quote each line: the filler character < is special to the shell.
    """
    s = cli()
    checked = parse_td3(line1, line2)
    value: Td3 | None = checked.value
    if value is None:
        finish(checked, as_json=as_json, value_json=None)
    finish(
        checked,
        as_json=as_json,
        value_json={
            "document_type": value.document_type,
            "issuing_state": value.issuing_state,
            "surname": value.surname,
            "given_names": value.given_names,
            "document_number": value.document_number,
            "nationality": value.nationality,
            "birth_date": value.birth_date.isoformat(),
            "sex": value.sex,
            "expiry_date": value.expiry_date.isoformat(),
            "optional_data": value.optional_data,
        },
        title=s.say(
            "MRZ sah; semua digit pemeriksa cocok.", "MRZ valid; every check digit matches."
        ),
        lines=[
            (s.say("Nama", "Name"), f"{value.surname}, {value.given_names}".rstrip(", ")),
            (s.say("Nomor paspor", "Passport number"), value.document_number),
            (s.say("Negara penerbit", "Issuing state"), value.issuing_state),
            (s.say("Kewarganegaraan", "Nationality"), value.nationality),
            (s.say("Tanggal lahir", "Birth date"), _date(value.birth_date)),
            (s.say("Jenis kelamin", "Sex"), value.sex),
            (s.say("Berlaku sampai", "Expires"), _date(value.expiry_date)),
        ],
    )


def _date(value: date) -> str:
    """Dates for people: Indonesian day-month-year, or ISO in English."""
    return value.strftime("%d-%m-%Y") if cli().lang == "id" else value.isoformat()
