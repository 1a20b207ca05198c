"""KK (Kartu Keluarga, family card) number: 16 digits, ``PPKKCC DDMMYY SSSS``.

Region code of the family's registration, the date the record was entered, and a serial.
A KK number changes when a family moves, splits or its head dies, so it is checked for form
only, never matched against a person for life.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from fieldkit.domain.findings import Checked, Finding, error, warning
from fieldkit.domain.nik import resolve_two_digit_year
from fieldkit.domain.regions import Region, lookup_region
from fieldkit.domain.text import compact, is_digits

KK_LENGTH = 16
# The 16-digit number belongs to computerised civil registration; an entry date before this
# is taken as a typing mistake. Chosen conservatively: SIAK dates from 2006, SIMDUK earlier.
EARLIEST_ENTRY = date(1990, 1, 1)


@dataclass(frozen=True, slots=True)
class KkNumber:
    """A KK number that has passed the form checks."""

    number: str
    region: Region
    entry_date: date
    serial: str


def _region_findings(region: Region, field: str) -> list[Finding]:
    if region.province_name is None:
        return [
            error(
                "kk.province_unknown",
                field,
                f"Kode provinsi {region.code[:2]} pada nomor KK tidak dikenal.",
                f"Province code {region.code[:2]} in the KK number is unknown.",
            )
        ]
    if region.regency_name is None or region.district_name is None:
        return [
            warning(
                "kk.region_unknown",
                field,
                f"Kode wilayah {region.code} pada nomor KK tidak ada dalam data wilayah; "
                "cocokkan dengan kartu KK.",
                f"Region code {region.code} in the KK number is not in the region data; "
                "compare it with the card.",
            )
        ]
    return []


def parse_kk(raw: object, *, today: date | None = None, field: str = "kk") -> Checked[KkNumber]:
    """Check the form of a KK number: 16 digits, a known province, a plausible entry date."""
    today = today or date.today()
    if not isinstance(raw, str):
        return Checked.invalid(
            error(
                "kk.not_text", field, "Nomor KK harus berupa teks.", "The KK number must be text."
            )
        )
    digits = compact(raw)
    if not is_digits(digits):
        return Checked.invalid(
            error(
                "kk.charset",
                field,
                "Nomor KK hanya berisi angka 0–9.",
                "A KK number contains only the digits 0–9.",
            )
        )
    if len(digits) != KK_LENGTH:
        return Checked.invalid(
            error(
                "kk.length",
                field,
                f"Nomor KK harus {KK_LENGTH} angka; tertulis {len(digits)} angka.",
                f"A KK number has {KK_LENGTH} digits; {len(digits)} were given.",
            )
        )
    region = lookup_region(digits[:6])
    findings = _region_findings(region, field)
    day, month, yy = int(digits[6:8]), int(digits[8:10]), int(digits[10:12])
    entered = (
        resolve_two_digit_year(yy, month, day, today) if 1 <= month <= 12 and day >= 1 else None
    )
    if entered is None:
        findings.append(
            error(
                "kk.entry_date",
                field,
                f"Tanggal entri pada nomor KK ({digits[6:8]}-{digits[8:10]}-{digits[10:12]}) "
                "tidak ada di kalender.",
                f"The entry date in the KK number ({digits[6:8]}-{digits[8:10]}-{digits[10:12]}) "
                "does not exist.",
            )
        )
    elif entered < EARLIEST_ENTRY:
        findings.append(
            error(
                "kk.entry_date_implausible",
                field,
                f"Tanggal entri pada nomor KK ({entered:%d-%m-%Y}) tidak masuk akal; "
                "periksa angka ke-7 sampai ke-12.",
                f"The entry date in the KK number ({entered:%Y-%m-%d}) is implausible; "
                "check digits 7 to 12.",
            )
        )
    if entered is None:
        return Checked.invalid(*findings)
    return Checked.of(KkNumber(digits, region, entered, digits[12:]), findings)
