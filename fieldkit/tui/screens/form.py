"""The applicant form's model: which fields it shows, what the officer changed, what to prefill.

Pure functions over the applicant's stored fields and what is on screen, so the screen stays
about widgets and the rules about changes are tested without a terminal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from fieldkit.domain.applicant import FIELDS, field_from_text
from fieldkit.domain.dates import age_on, parse_iso_date
from fieldkit.domain.nik import parse_nik
from fieldkit.domain.products import PassportKind

# Every person field but the booking code, which the check-in recorded and the counter keeps.
PERSON = tuple(name for name in FIELDS if name != "booking_code")
COUNTER = ("billing_code", "ntpn", "biometrics_ref", "notes")
TEXT_FIELDS = PERSON + COUNTER
ADULT_AGE = 17


def shown(value: object) -> str:
    """A stored value as the form's text box shows it."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "ya" if value else "tidak"
    return str(value)


def stored_texts(fields: Mapping[str, object]) -> dict[str, str]:
    """Every text field of the form as the stored applicant fills it."""
    payment = fields.get("payment")
    paid = payment if isinstance(payment, Mapping) else {}
    texts = {name: shown(fields.get(name)) for name in PERSON}
    texts["billing_code"] = shown(paid.get("billing_code"))
    texts["ntpn"] = shown(paid.get("ntpn"))
    texts["biometrics_ref"] = shown(fields.get("biometrics_ref"))
    texts["notes"] = shown(fields.get("notes"))
    return texts


def stored_paid(fields: Mapping[str, object]) -> bool:
    """Whether the stored payment is marked paid."""
    payment = fields.get("payment")
    return isinstance(payment, Mapping) and payment.get("paid") is True


def stored_marks(fields: Mapping[str, object]) -> dict[str, str]:
    """The stored documents marks ({document: state})."""
    held = fields.get("documents")
    return {str(k): str(v) for k, v in held.items()} if isinstance(held, Mapping) else {}


def suggestions(fields: Mapping[str, object], on: date, *, booked: bool) -> dict[str, str]:
    """What the form fills in for the officer to confirm, where nothing is stored yet.

    Sex from the NIK (it is encoded there); the longest validity the applicant's age allows;
    the ordinary passport (the officer changes it if the applicant asks for the electronic
    one; the fee shown follows); the booking code seen at check-in as the proof of online
    registration (``booked``) is a document mark, given by :func:`suggested_marks`.
    """
    out: dict[str, str] = {}
    nik = parse_nik(fields.get("nik")).value if fields.get("nik") else None
    if not fields.get("sex") and nik is not None:
        out["sex"] = nik.sex.value
    born = parse_iso_date(fields.get("birth_date"))
    if fields.get("validity_years") is None and born is not None:
        adult = age_on(born, on) >= ADULT_AGE or fields.get("married") is True
        out["validity_years"] = "10" if adult else "5"
    if not fields.get("product"):
        out["product"] = PassportKind.ORDINARY.value
    return out


def suggested_marks(fields: Mapping[str, object], *, booked: bool) -> dict[str, str]:
    """The proof of online registration is seen when the person was checked in by booking."""
    marks = stored_marks(fields)
    if booked and "online_registration_proof" not in marks:
        return {"online_registration_proof": "seen"}
    return {}


def changes(
    fields: Mapping[str, object],
    texts: Mapping[str, str],
    paid: bool,
    marks: Mapping[str, str],
) -> dict[str, object]:
    """What the form holds that the stored applicant does not, as ``update_applicant`` takes it."""
    before = stored_texts(fields)
    out: dict[str, object] = {}
    for name in PERSON:
        if texts.get(name, "").strip() != before[name].strip():
            out[name] = field_from_text(name, texts.get(name, ""))
    for name in ("biometrics_ref", "notes"):
        if texts.get(name, "").strip() != before[name].strip():
            out[name] = texts.get(name, "").strip()
    payment: dict[str, object] = {}
    for name in ("billing_code", "ntpn"):
        if texts.get(name, "").strip() != before[name].strip():
            payment[name] = texts.get(name, "").strip() or None
    if paid != stored_paid(fields):
        payment["paid"] = paid
    if payment:
        out["payment"] = payment
    held = stored_marks(fields)
    documents = {d: s for d, s in marks.items() if held.get(d) != s}
    documents |= {d: "missing" for d, s in held.items() if d not in marks and s != "missing"}
    if documents:
        out["documents"] = documents
    return out
