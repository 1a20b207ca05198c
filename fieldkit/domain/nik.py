"""NIK (Nomor Induk Kependudukan): the 16-digit number on the KTP.

Layout ``PP KK CC DDMMYY SSSS``: province, regency/city and kecamatan of first registration
(Kemendagri codes), the birth date with 40 added to the day for women, and a serial. There is
no check digit. The NIK is permanent: a birth date or sex that differs from the KTP, or a
regency that has since been renumbered, is a warning for the officer, never a rejection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from fieldkit.domain.findings import Checked, Finding, error, warning
from fieldkit.domain.regions import Region, lookup_region
from fieldkit.domain.text import compact, is_digits

NIK_LENGTH = 16
FEMALE_DAY_OFFSET = 40


class Sex(StrEnum):
    """Sex as recorded on the KTP and encoded in the NIK."""

    MALE = "M"
    FEMALE = "F"


@dataclass(frozen=True, slots=True)
class Nik:
    """A parsed NIK."""

    number: str
    region: Region
    birth_date: date
    sex: Sex
    serial: str


def resolve_two_digit_year(yy: int, month: int, day: int, today: date) -> date | None:
    """Return the latest real date with these digits that is not after ``today``.

    NIK and KK numbers carry two-digit years; a person or a family record cannot be from the
    future, so 20YY is taken when it is not after today and 19YY otherwise. None when neither
    century makes a real date (31 April, or 29 February in a common year).
    """
    for century in (2000, 1900):
        try:
            candidate = date(century + yy, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return None


def build_nik(district_code: str, birth_date: date, sex: Sex, serial: int) -> str:
    """Compose a NIK from its parts (used to make synthetic people and test data)."""
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex is Sex.FEMALE else 0)
    return f"{district_code}{day:02d}{birth_date:%m%y}{serial:04d}"


def _region_findings(region: Region, birth_date: date | None, field: str) -> list[Finding]:
    if region.province_name is None:
        return [
            error(
                "nik.province_unknown",
                field,
                f"Kode provinsi {region.code[:2]} tidak dikenal; periksa dua angka pertama NIK.",
                f"Province code {region.code[:2]} is unknown; check the first two digits.",
            )
        ]
    found: list[Finding] = []
    if region.regency_name is None:
        found.append(
            warning(
                "nik.regency_unknown",
                field,
                f"Kode kabupaten/kota {region.code[:4]} tidak ada dalam data wilayah; "
                "cocokkan NIK dengan KTP.",
                f"Regency/city code {region.code[:4]} is not in the region data; "
                "compare the NIK with the KTP.",
            )
        )
    elif region.district_name is None:
        found.append(
            warning(
                "nik.district_unknown",
                field,
                f"Kode kecamatan {region.code} tidak ada dalam data wilayah; "
                "cocokkan NIK dengan KTP.",
                f"Kecamatan code {region.code} is not in the region data; "
                "compare the NIK with the KTP.",
            )
        )
    moved = region.renumbered
    if moved is not None and birth_date is not None and birth_date >= moved.since:
        found.append(
            warning(
                "nik.region_code_retired",
                field,
                f"Kode {moved.old} sudah diganti menjadi {moved.new} sejak "
                f"{moved.since:%d-%m-%Y} ({moved.law}), sebelum tanggal lahir; "
                "cocokkan NIK dengan KTP.",
                f"Code {moved.old} was replaced by {moved.new} on {moved.since:%Y-%m-%d} "
                f"({moved.law}), before the birth date; compare the NIK with the KTP.",
            )
        )
    return found


def _birth_findings(
    digits: str, stated_birth_date: date | None, today: date, field: str
) -> tuple[date | None, Sex | None, list[Finding]]:
    encoded_day, month, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    if 1 <= encoded_day <= 31:
        sex, day = Sex.MALE, encoded_day
    elif 1 + FEMALE_DAY_OFFSET <= encoded_day <= 31 + FEMALE_DAY_OFFSET:
        sex, day = Sex.FEMALE, encoded_day - FEMALE_DAY_OFFSET
    else:
        return (
            None,
            None,
            [
                error(
                    "nik.birth_day",
                    field,
                    f"Tanggal lahir di NIK ({digits[6:8]}) harus 01–31 (laki-laki) atau "
                    "41–71 (perempuan).",
                    f"The birth day in the NIK ({digits[6:8]}) must be 01–31 (male) or "
                    "41–71 (female).",
                )
            ],
        )
    if not 1 <= month <= 12:
        return (
            None,
            sex,
            [
                error(
                    "nik.birth_month",
                    field,
                    f"Bulan lahir di NIK ({digits[8:10]}) harus 01–12.",
                    f"The birth month in the NIK ({digits[8:10]}) must be 01–12.",
                )
            ],
        )
    if stated_birth_date is not None and (
        stated_birth_date.day,
        stated_birth_date.month,
        stated_birth_date.year % 100,
    ) == (day, month, yy):
        return stated_birth_date, sex, []
    born = resolve_two_digit_year(yy, month, day, today)
    if born is None:
        return (
            None,
            sex,
            [
                error(
                    "nik.birth_date",
                    field,
                    f"Tanggal lahir di NIK ({day:02d}-{month:02d}-{yy:02d}) tidak ada di kalender.",
                    f"The birth date in the NIK ({day:02d}-{month:02d}-{yy:02d}) does not exist.",
                )
            ],
        )
    return born, sex, []


def parse_nik(
    raw: object,
    *,
    stated_birth_date: date | None = None,
    stated_sex: Sex | None = None,
    today: date | None = None,
    field: str = "nik",
) -> Checked[Nik]:
    """Parse and check a NIK, optionally against the birth date and sex stated on the KTP.

    Errors: not 16 digits, a birth day or month that cannot be, a date not in the calendar,
    serial 0000, an unknown province. Warnings: an unknown regency or kecamatan, a retired
    region code on someone born after it was retired, and a birth date or sex that differs from
    the stated one.
    """
    today = today or date.today()
    if not isinstance(raw, str):
        return Checked.invalid(
            error("nik.not_text", field, "NIK harus berupa teks.", "The NIK must be text.")
        )
    digits = compact(raw)
    if not is_digits(digits):
        return Checked.invalid(
            error(
                "nik.charset",
                field,
                "NIK hanya berisi angka 0–9.",
                "A NIK contains only the digits 0–9.",
            )
        )
    if len(digits) != NIK_LENGTH:
        return Checked.invalid(
            error(
                "nik.length",
                field,
                f"NIK harus {NIK_LENGTH} angka; tertulis {len(digits)} angka.",
                f"A NIK has {NIK_LENGTH} digits; {len(digits)} were given.",
            )
        )
    born, sex, findings = _birth_findings(digits, stated_birth_date, today, field)
    region = lookup_region(digits[:6])
    findings += _region_findings(region, born, field)
    if digits[12:] == "0000":
        findings.append(
            error(
                "nik.serial_zero",
                field,
                "Nomor urut NIK (4 angka terakhir) tidak mungkin 0000.",
                "The NIK serial (last 4 digits) cannot be 0000.",
            )
        )
    if born is not None and stated_birth_date is not None and born != stated_birth_date:
        findings.append(
            warning(
                "nik.birth_date_mismatch",
                "birth_date",
                f"Tanggal lahir di NIK ({born:%d-%m-%Y}) berbeda dengan tanggal lahir "
                f"({stated_birth_date:%d-%m-%Y}); NIK tetap berlaku, catat bila perlu.",
                f"The birth date in the NIK ({born:%Y-%m-%d}) differs from the stated one "
                f"({stated_birth_date:%Y-%m-%d}); the NIK stays valid, note it if needed.",
            )
        )
    if sex is not None and stated_sex is not None and sex is not stated_sex:
        findings.append(
            warning(
                "nik.sex_mismatch",
                "sex",
                "Jenis kelamin menurut NIK berbeda dengan yang tertulis; NIK tetap berlaku.",
                "The sex encoded in the NIK differs from the stated one; the NIK stays valid.",
            )
        )
    if born is None or sex is None:
        return Checked.invalid(*findings)
    return Checked.of(Nik(digits, region, born, sex, digits[12:]), findings)
