"""An applicant as captured at the counter or imported as JSON: every field checked at once.

:func:`check_applicant` takes one decoded JSON object (the format in docs/applicant-json.md),
applies every rule that concerns it (name, NIK against the stated birth date and sex, KK,
phone, booking code, application type and whether this visit may serve it, product, fee), and
returns the normalised record or every finding. HQ runs the same function on what it receives.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from fieldkit.domain.applications import ApplicationType, may_serve
from fieldkit.domain.calendar import VisitKind
from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.fees import FeeSchedule, quote_fee
from fieldkit.domain.findings import Checked, Finding, Message, error
from fieldkit.domain.identifiers import check_booking_code, check_person_name, check_phone
from fieldkit.domain.kk import parse_kk
from fieldkit.domain.nik import Sex, parse_nik
from fieldkit.domain.products import check_product

FIELDS = (
    "name",
    "nik",
    "kk",
    "sex",
    "birth_date",
    "birth_place",
    "phone",
    "married",
    "application_type",
    "old_passport_issued",
    "product",
    "validity_years",
    "booking_code",
)
REQUIRED = ("name", "nik", "sex", "birth_date", "application_type", "product", "validity_years")
LABELS: dict[str, Message] = {
    "name": Message("Nama", "Name"),
    "nik": Message("NIK", "NIK"),
    "kk": Message("Nomor KK", "KK number"),
    "sex": Message("Jenis kelamin", "Sex"),
    "birth_date": Message("Tanggal lahir", "Birth date"),
    "birth_place": Message("Tempat lahir", "Birth place"),
    "phone": Message("Nomor HP", "Mobile number"),
    "married": Message("Status menikah", "Marital status"),
    "application_type": Message("Jenis permohonan", "Application type"),
    "old_passport_issued": Message("Tanggal terbit paspor lama", "Old passport issue date"),
    "product": Message("Jenis paspor", "Passport kind"),
    "validity_years": Message("Masa berlaku", "Validity"),
    "booking_code": Message("Kode booking", "Booking code"),
}


def _missing(field: str) -> Finding:
    label = LABELS[field]
    return error("applicant.missing", field, f"{label.id} wajib diisi.", f"{label.en} is required.")


def _date(raw: object, field: str, findings: list[Finding]) -> date | None:
    parsed = parse_iso_date(raw)
    if parsed is None:
        label = LABELS[field]
        findings.append(
            error(
                "applicant.date",
                field,
                f"{label.id} harus tanggal berformat TTTT-BB-HH.",
                f"{label.en} must be a date written YYYY-MM-DD.",
            )
        )
    return parsed


def check_applicant(
    raw: object,
    *,
    on: date,
    visit_kind: VisitKind | str | None = None,
    today: date | None = None,
    schedules: tuple[FeeSchedule, ...] | None = None,
) -> Checked[dict[str, object]]:
    """Check one applicant object captured on ``on`` at a visit of ``visit_kind``.

    The result is the normalised applicant (upper-case name, E.164 phone, canonical codes) with
    its fee quote; optional fields absent from the input are None. ``schedules`` are the fee
    schedules to quote with (default: the packaged ones; see :func:`quote_fee`).
    """
    if not isinstance(raw, Mapping):
        return Checked.invalid(
            error(
                "applicant.not_object",
                "applicant",
                "Data pemohon harus berupa objek JSON.",
                "An applicant must be a JSON object.",
            )
        )
    findings: list[Finding] = []
    unknown = sorted(str(k) for k in raw if k not in FIELDS)
    if unknown:
        findings.append(
            error(
                "applicant.unknown_field",
                unknown[0],
                f"Kolom tidak dikenal: {', '.join(unknown)}.",
                f"Unknown field(s): {', '.join(unknown)}.",
            )
        )
    findings.extend(_missing(f) for f in REQUIRED if raw.get(f) in (None, ""))
    out: dict[str, object] = dict.fromkeys(FIELDS)

    def take(checked: Checked[object]) -> object:
        findings.extend(checked.findings)
        return checked.value

    if raw.get("name") not in (None, ""):
        out["name"] = take(check_person_name(raw["name"]))
    sex = raw.get("sex")
    if sex is not None and sex not in ("M", "F"):
        findings.append(
            error("applicant.sex", "sex", "Jenis kelamin harus M atau F.", "Sex must be M or F.")
        )
        sex = None
    out["sex"] = sex
    born = _date(raw["birth_date"], "birth_date", findings) if raw.get("birth_date") else None
    out["birth_date"] = born.isoformat() if born else None
    if raw.get("nik") not in (None, ""):
        nik = take(
            parse_nik(
                raw["nik"],
                stated_birth_date=born,
                stated_sex=Sex(sex) if sex else None,
                today=today,
            )
        )
        out["nik"] = nik.number if nik is not None else None  # type: ignore[attr-defined]
    if raw.get("kk") not in (None, ""):
        kk = take(parse_kk(raw["kk"], today=today))
        out["kk"] = kk.number if kk is not None else None  # type: ignore[attr-defined]
    if raw.get("phone") not in (None, ""):
        out["phone"] = take(check_phone(raw["phone"]))
    if raw.get("booking_code") not in (None, ""):
        out["booking_code"] = take(check_booking_code(raw["booking_code"]))
    place = raw.get("birth_place")
    if place is not None and not isinstance(place, str):
        findings.append(
            error(
                "applicant.text",
                "birth_place",
                "Tempat lahir harus teks.",
                "Birth place must be text.",
            )
        )
    out["birth_place"] = " ".join(place.split()).upper() if isinstance(place, str) else None
    married = raw.get("married", False)
    if not isinstance(married, bool):
        findings.append(
            error(
                "applicant.married",
                "married",
                "Status menikah harus true atau false.",
                "married must be true or false.",
            )
        )
        married = False
    out["married"] = married
    if raw.get("old_passport_issued") is not None:
        issued = _date(raw["old_passport_issued"], "old_passport_issued", findings)
        out["old_passport_issued"] = issued.isoformat() if issued else None
    app_type = None
    if raw.get("application_type") not in (None, ""):
        served = take(may_serve(raw["application_type"], visit_kind or VisitKind.OFFICE))
        app_type = ApplicationType(served) if served is not None else None
        out["application_type"] = app_type.value if app_type else None
    product = None
    if (
        born is not None
        and raw.get("product") not in (None, "")
        and raw.get("validity_years") is not None
    ):
        product = take(
            check_product(
                raw["product"], raw["validity_years"], birth_date=born, married=married, on=on
            )
        )
        if product is not None:
            out["product"] = product.kind.value  # type: ignore[attr-defined]
            out["validity_years"] = product.years  # type: ignore[attr-defined]
    if app_type is not None and product is not None:
        quote = take(
            quote_fee(app_type=app_type, product=product, on=on, schedules=schedules)  # type: ignore[arg-type]
        )
        if quote is not None:
            out["fee"] = {
                "regulation": quote.regulation,  # type: ignore[attr-defined]
                "total": quote.total,  # type: ignore[attr-defined]
                "lines": [
                    {"item": line.item, "amount": line.amount}
                    for line in quote.lines  # type: ignore[attr-defined]
                ],
            }
    return Checked.of(out, findings)


_YES = frozenset({"ya", "yes", "true", "1", "y"})
_NO = frozenset({"tidak", "no", "false", "0", "t", "n"})


def field_from_text(field: str, text: str) -> object:
    """What an officer typed for a person field, as the counter's rules take it.

    Empty (or only spaces) clears the field (None); ``married`` reads ya/tidak (yes/no);
    ``validity_years`` digits become a number. Anything else is passed on as typed, so an
    invalid value is refused by the rules in their own words.
    """
    stripped = text.strip()
    if not stripped:
        return None
    if field == "married":
        lowered = stripped.lower()
        return True if lowered in _YES else False if lowered in _NO else stripped
    if field == "validity_years" and stripped.isdigit():
        return int(stripped)
    return stripped
