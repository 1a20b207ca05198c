"""The applicant at the counter: fill in the record, mark the originals, the payment, decide.

An applicant checked in (:mod:`fieldkit.service.checkin`, format 2, state ``waiting``) is
served at the counter: :func:`update_applicant` completes the person, marks each original of
the documents checklist, records the SIMPONI billing code and the payment, the biometrics
station's reference and the interview notes (state ``at_counter``); :func:`decide` records the
decision (state = its kind); :func:`resolve_watchlist` is the supervisor's answer to a possible
watchlist match. Every edit is a new version of the record, audited. The rules are the domain's
(:mod:`fieldkit.domain.decision`, :mod:`fieldkit.domain.payment`), run on the visit's date.

An applicant added by ``fieldkit applicant add`` (format 1, ``captured``) has no counter
workflow and is refused here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from fieldkit.domain.applicant import FIELDS
from fieldkit.domain.applications import ApplicationType, Document
from fieldkit.domain.counter import (
    APPLICANT_FORMAT,
    ApplicantState,
    DocumentState,
    VisitState,
    data_format,
)
from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.decision import (
    ChecklistLine,
    category_of,
    check_decision,
    checklist,
    checklist_documents,
    person_findings,
    prerequisite_findings,
)
from fieldkit.domain.fees import FeeSchedule, quote_fee
from fieldkit.domain.findings import Finding, Message, error
from fieldkit.domain.identifiers import check_booking_code, check_person_name, check_phone
from fieldkit.domain.kk import parse_kk
from fieldkit.domain.nik import parse_nik
from fieldkit.domain.payment import check_billing_code, check_ntpn, check_payment
from fieldkit.domain.products import check_product
from fieldkit.service.applicants import Applicant, applicant_of
from fieldkit.service.session import OfficerSession
from fieldkit.service.visits import invalid, require_open_visit
from fieldkit.vault.clock import now
from fieldkit.vault.errors import NotAllowed, Refused
from fieldkit.vault.kinds import APPLICANT, VISIT
from fieldkit.vault.records import Change, Record, VersionConflict

# What update_applicant takes besides the person fields.
COUNTER_KEYS = ("documents", "payment", "biometrics_ref", "notes")
PAYMENT_INPUT_KEYS = frozenset({"billing_code", "amount", "paid", "ntpn"})
# The fields whose change may change the fee quoted.
_FEE_FIELDS = frozenset({"application_type", "product", "validity_years", "birth_date", "married"})
# check_product names its findings "kind" and "years": the fields they are about.
_FIELD_OF = {"kind": "product", "years": "validity_years"}
WATCHLIST_OUTCOMES = ("cleared", "confirmed")
SUPERVISOR = "supervisor"


def _visit_day(visit: Record) -> date:
    """The day the counter's rules run on: the visit's date.

    On a real visit day it is the laptop's own date; holding to the visit's date keeps the
    checklist (the applicant's age), the product and the fee the same as check-in quoted them
    on, and a supervisor's correction days later is judged as of the visit.
    """
    return parse_iso_date(visit.data.get("date")) or date.today()


def _fail(code: str, field: str, id_text: str, en_text: str) -> Finding:
    return error(code, field, id_text, en_text)


def _refuse(findings: Sequence[Finding]) -> None:
    if findings:
        raise invalid([(0, f) for f in findings])


def _counter_record(session: OfficerSession, applicant_id: str) -> Record:
    """The applicant's latest version, refused unless it is a counter applicant (format 2)."""
    record = session.unlocked.read(APPLICANT, applicant_id)
    if data_format(record.data) < APPLICANT_FORMAT:
        raise Refused(
            Message(
                f"Pemohon {applicant_id} dicatat dengan 'fieldkit applicant add' (tanpa "
                "check-in): tidak ada alur loket untuknya. Lakukan check-in dari daftar "
                "kunjungan atau sebagai walk-in.",
                f"Applicant {applicant_id} was captured with 'fieldkit applicant add' (no "
                "check-in): it has no counter workflow. Check the person in from the visit's "
                "roster or as a walk-in.",
            ),
            "counter.not_checked_in",
        )
    return record


def _visit_kind(visit: Record) -> str:
    return str(visit.data.get("kind"))


def _write(session: OfficerSession, change: Change, action: str) -> Applicant:
    try:
        session.unlocked.write([change], action=action)
    except VersionConflict as exc:
        raise Refused(
            Message(
                "Data pemohon ini baru saja diubah di sesi lain; buka lagi dan ulangi.",
                "This applicant was just changed by another session; open it again and retry.",
            ),
            "counter.conflict",
        ) from exc
    return applicant_of(session.unlocked.read(APPLICANT, change.id))


def _correction(
    visit: Record, session: OfficerSession, reason: str | None, at: str
) -> dict[str, object] | None:
    """The ``correction`` field of a supervisor's change to a closed visit's applicant."""
    if visit.state != VisitState.CLOSED or reason is None:
        return None
    return {"reason": " ".join(reason.split()), "by": session.officer_id, "at": at}


# --- the person -------------------------------------------------------------------------------


def _normalised(field: str, value: object) -> object:
    """A person field as the applicant rules write it; the value as given when it is invalid.

    An invalid value is kept so that :func:`check_applicant` reports it (and the save is
    refused) in the rules' own words.
    """
    if value is None or value == "":
        return None
    checked: object = None
    if field == "name":
        checked = check_person_name(value).value
    elif field == "nik":
        nik = parse_nik(value).value
        checked = nik.number if nik is not None else None
    elif field == "kk":
        kk = parse_kk(value).value
        checked = kk.number if kk is not None else None
    elif field == "phone":
        checked = check_phone(value).value
    elif field == "booking_code":
        checked = check_booking_code(value).value
    elif field in ("birth_date", "old_passport_issued"):
        day = parse_iso_date(value)
        checked = day.isoformat() if day else None
    elif field == "birth_place" and isinstance(value, str):
        checked = " ".join(value.split()).upper()
    elif field in ("sex", "application_type", "product") and isinstance(value, str):
        checked = value.strip().upper() if field == "sex" else value.strip().lower()
    elif field == "validity_years" and isinstance(value, str) and value.strip().isdigit():
        checked = int(value.strip())
    return value if checked is None else checked


def _blocking(
    before: Sequence[Finding], after: Sequence[Finding], changed: set[str]
) -> list[Finding]:
    """The person errors this edit must not be saved with.

    Any error about a field the edit gives, and any error the edit brings about elsewhere
    (a birth date that makes a 10-year passport too long); a required field not filled in yet
    does not block, nor does an error the record held already in a field not touched.
    """
    old = {(f.code, f.field) for f in before if f.is_error}
    return [
        f
        for f in after
        if f.is_error
        and f.code != "applicant.missing"
        and (_FIELD_OF.get(f.field, f.field) in changed or (f.code, f.field) not in old)
    ]


def _fee(
    data: Mapping[str, object], on: date, schedules: tuple[FeeSchedule, ...] | None
) -> dict[str, object] | None:
    """The fee quote when the application type and the passport are known, else None."""
    born = parse_iso_date(data.get("birth_date"))
    kind, years = data.get("product"), data.get("validity_years")
    if born is None or kind in (None, "") or years is None:
        return None
    try:
        app_type = ApplicationType(str(data.get("application_type")))
    except ValueError:
        return None
    product = check_product(
        str(kind), years, birth_date=born, married=data.get("married") is True, on=on
    ).value
    if product is None:
        return None
    quote = quote_fee(app_type=app_type, product=product, on=on, schedules=schedules).value
    if quote is None:
        return None
    return {
        "regulation": quote.regulation,
        "total": quote.total,
        "lines": [{"item": line.item, "amount": line.amount} for line in quote.lines],
    }


# --- documents and payment --------------------------------------------------------------------


def _documents(
    data: Mapping[str, object], given: object, on: date
) -> tuple[dict[str, str], list[Finding]]:
    """The documents checklist states after this edit, and what is wrong with the edit."""
    held = data.get("documents")
    states = {str(k): str(v) for k, v in held.items()} if isinstance(held, Mapping) else {}
    if not isinstance(given, Mapping):
        return states, [
            _fail(
                "counter.documents",
                "documents",
                "documents harus objek {dokumen: status}.",
                "documents must be an object {document: state}.",
            )
        ]
    allowed = checklist_documents(data, on)
    choices = ", ".join(s.value for s in DocumentState)
    findings: list[Finding] = []
    for key, value in given.items():
        try:
            document = Document(str(key))
        except ValueError:
            findings.append(
                _fail(
                    "counter.unknown_document",
                    f"documents.{key}",
                    f"Dokumen {key!r} tidak dikenal.",
                    f"Unknown document {key!r}.",
                )
            )
            continue
        if allowed is not None and document not in allowed:
            findings.append(
                _fail(
                    "counter.document_not_required",
                    f"documents.{key}",
                    f"{document.label.id} tidak ada dalam daftar dokumen pemohon ini.",
                    f"{document.label.en} is not on this applicant's checklist.",
                )
            )
            continue
        try:
            states[document.value] = DocumentState(str(value)).value
        except ValueError:
            findings.append(
                _fail(
                    "counter.document_state",
                    f"documents.{key}",
                    f"Status dokumen {value!r} tidak dikenal; pilih salah satu: {choices}.",
                    f"Unknown document state {value!r}; choose one of: {choices}.",
                )
            )
    return states, findings


def _payment(
    data: Mapping[str, object], given: object, at: str
) -> tuple[dict[str, object] | None, list[Finding]]:
    """The payment after this edit (merged into what was recorded), and its findings.

    The amount defaults to the fee quoted; a billing marked paid gets ``paid_at`` now (kept
    when it was paid already); one marked unpaid loses its NTPN and ``paid_at``.
    """
    if given is None:
        return None, []
    if not isinstance(given, Mapping):
        return None, [
            _fail(
                "payment.not_object",
                "payment",
                "Data pembayaran harus berupa objek JSON.",
                "The payment must be a JSON object.",
            )
        ]
    findings = [
        _fail(
            "payment.unknown_key",
            f"payment.{key}",
            f"Kolom pembayaran tidak dikenal: {key}.",
            f"Unknown payment field: {key}.",
        )
        for key in sorted(str(k) for k in given if k not in PAYMENT_INPUT_KEYS)
    ]
    held = data.get("payment")
    before = dict(held) if isinstance(held, Mapping) else {}
    fee = data.get("fee")
    quoted = fee.get("total") if isinstance(fee, Mapping) else None
    merged: dict[str, object] = {
        "billing_code": before.get("billing_code"),
        "amount": before.get("amount", quoted),
        "paid": before.get("paid", False),
        "ntpn": before.get("ntpn"),
        "paid_at": before.get("paid_at"),
    }
    for key in PAYMENT_INPUT_KEYS & set(given):
        merged[key] = given[key]
    if isinstance(merged["billing_code"], str):
        merged["billing_code"] = (
            check_billing_code(merged["billing_code"]).value or merged["billing_code"]
        )
    if isinstance(merged["ntpn"], str) and merged["ntpn"]:
        merged["ntpn"] = check_ntpn(merged["ntpn"]).value or merged["ntpn"]
    if merged["paid"] is True:
        merged["paid_at"] = before.get("paid_at") if before.get("paid") is True else at
    elif merged["paid"] is False:
        if "ntpn" not in given:
            merged["ntpn"] = None
        merged["paid_at"] = None
    if merged["amount"] is None:
        findings.append(
            _fail(
                "payment.no_fee",
                "payment.amount",
                "Tarif belum dihitung: isi jumlah pada billing, atau lengkapi jenis permohonan "
                "dan jenis paspor dulu.",
                "No fee is quoted yet: give the billed amount, or fill in the application type "
                "and the passport first.",
            )
        )
    else:
        findings.extend(check_payment(merged, quoted if isinstance(quoted, int) else None))
    return merged, findings


# --- the service ------------------------------------------------------------------------------


def _merged(
    session: OfficerSession,
    record: Record,
    visit: Record,
    changes: Mapping[str, object],
    acknowledge: Sequence[str],
    at: str,
) -> tuple[dict[str, object], list[Finding], list[Finding]]:
    """The record's data with ``changes`` applied; what refuses them; the person's findings."""
    on, kind, schedules = _visit_day(visit), _visit_kind(visit), session.fee_schedules()
    allowed = set(FIELDS) | set(COUNTER_KEYS)
    findings = [
        _fail(
            "counter.unknown_field",
            str(key),
            f"Kolom tidak dikenal atau tidak dapat diubah di loket: {key}.",
            f"Unknown field, or one the counter may not change: {key}.",
        )
        for key in sorted(str(k) for k in changes if k not in allowed)
    ]
    before = record.data
    data: dict[str, object] = dict(before)
    person_changed = {k for k in changes if k in FIELDS}
    for field in person_changed:
        data[field] = _normalised(field, changes[field])
    old_findings = person_findings(before, on, visit_kind=kind, schedules=schedules)
    new_findings = person_findings(data, on, visit_kind=kind, schedules=schedules)
    findings.extend(_blocking(old_findings, new_findings, person_changed))
    if person_changed & _FEE_FIELDS:
        data["fee"] = _fee(data, on, schedules)
    if "documents" in changes:
        data["documents"], found = _documents(data, changes["documents"], on)
        findings.extend(found)
    if "payment" in changes:
        data["payment"], found = _payment(data, changes["payment"], at)
        findings.extend(found)
    if "biometrics_ref" in changes:
        ref = changes["biometrics_ref"]
        if ref is not None and not isinstance(ref, str):
            findings.append(
                _fail(
                    "counter.biometrics_ref",
                    "biometrics_ref",
                    "Referensi biometrik harus teks.",
                    "The biometrics reference must be text.",
                )
            )
        data["biometrics_ref"] = ref.strip() or None if isinstance(ref, str) else None
    if "notes" in changes:
        notes = changes["notes"]
        if not isinstance(notes, str):
            findings.append(
                _fail("counter.notes", "notes", "Catatan harus teks.", "Notes must be text.")
            )
        data["notes"] = notes.strip() if isinstance(notes, str) else before.get("notes", "")
    data["acknowledged"], found = _acknowledged(before, new_findings, acknowledge, session, at)
    findings.extend(found)
    return data, findings, new_findings


def update_applicant(
    session: OfficerSession,
    applicant_id: str,
    changes: Mapping[str, object],
    *,
    acknowledge: Sequence[str] = (),
    correction_reason: str | None = None,
) -> Applicant:
    """Record what the counter found about a checked-in applicant: one new version.

    ``changes`` may hold the person fields of :data:`fieldkit.domain.applicant.FIELDS`
    (None or "" clears one), ``documents`` ({document: "seen"|"missing"|"not_applicable"},
    merged into the checklist; each document must be on the checklist for the type and age),
    ``payment`` ({billing_code, amount, paid, ntpn}, merged into what was recorded; see
    :func:`_payment`), ``biometrics_ref`` and ``notes``. The fee is quoted again when the type,
    passport, validity, birth date or marital status change. ``acknowledge`` names warnings
    (their codes) the officer has seen and accepts, stored with who and when.

    Refused with every finding (:class:`~fieldkit.vault.errors.InvalidInput`, nothing stored)
    for an unknown key, an error in a field given (or one the edit brings about), a bad
    document or payment, or an acknowledgement of a warning the record does not have. A
    required field not filled in yet does not refuse the save (acceptance needs it). The visit
    must be open (:func:`require_open_visit`); a closed visit takes a supervisor's correction
    with ``correction_reason`` only, recorded in ``correction`` (the state and the decision
    are then kept). An applicant of format 1 is refused (:class:`Refused`,
    ``counter.not_checked_in``). Audited ``applicant_updated``; the state becomes
    ``at_counter`` and a decision made earlier is cleared (it stays in the history): the
    applicant is decided again.
    """
    record = _counter_record(session, applicant_id)
    visit = require_open_visit(session, str(record.visit_id), correction_reason=correction_reason)
    at = now()
    data, findings, _person = _merged(session, record, visit, changes, acknowledge, at)
    _refuse(findings)
    correction = _correction(visit, session, correction_reason, at)
    state = record.state
    if correction is not None:
        data["correction"] = correction
    else:
        # Back at the counter (a pending applicant bringing the papers): the earlier decision
        # stays in the history, and the record says it waits for a new one.
        state = ApplicantState.AT_COUNTER
        data["decision"] = None
    return _write(
        session,
        Change(APPLICANT, applicant_id, data, state, record.visit_id, record.version),
        "applicant_updated",
    )


def _acknowledged(
    data: Mapping[str, object],
    current: Sequence[Finding],
    acknowledge: Sequence[str],
    session: OfficerSession,
    at: str,
) -> tuple[list[object], list[Finding]]:
    held = data.get("acknowledged")
    stored: list[object] = list(held) if isinstance(held, list) else []
    known = {str(a.get("code")) for a in stored if isinstance(a, Mapping)}
    warnings = {f.code for f in current if not f.is_error}
    findings: list[Finding] = []
    for code in dict.fromkeys(acknowledge):
        if code not in warnings:
            findings.append(
                _fail(
                    "counter.ack_unknown",
                    "acknowledge",
                    f"Tidak ada peringatan {code!r} pada pemohon ini untuk dikonfirmasi.",
                    f"This applicant has no warning {code!r} to acknowledge.",
                )
            )
        elif code not in known:
            stored.append({"code": code, "by": session.officer_id, "at": at})
    return stored, findings


def decide(
    session: OfficerSession,
    applicant_id: str,
    kind: str,
    *,
    reason: str | None = None,
    text: str | None = None,
    missing: Sequence[str] | None = None,
    due: date | str | None = None,
    correction_reason: str | None = None,
) -> Applicant:
    """Record the counter's decision (:func:`fieldkit.domain.decision.check_decision`).

    The rules run on the visit's date (a due date may not be before it).

    Refused with every finding (:class:`~fieldkit.vault.errors.InvalidInput`) when the rules
    are not met: an acceptance lists everything still missing. The decision is stored as
    ``{kind, at, by, reason, text, documents, due}`` and the state becomes its kind (audited
    ``applicant_decided``). A closed visit refuses (:class:`VisitNotOpen`) unless a supervisor
    corrects it with ``correction_reason``.
    """
    record = _counter_record(session, applicant_id)
    visit = require_open_visit(session, str(record.visit_id), correction_reason=correction_reason)
    checked = check_decision(
        record.data,
        kind,
        reason=reason,
        text=text,
        missing=list(missing) if missing else None,
        due=due,
        on=_visit_day(visit),
        visit_kind=_visit_kind(visit),
        schedules=session.fee_schedules(),
    )
    if checked.value is None:
        _refuse(checked.errors)
    at = now()
    decision = dict(checked.value)  # type: ignore[arg-type]
    stored = {
        "kind": decision["kind"],
        "at": at,
        "by": session.officer_id,
        "reason": decision["reason"],
        "text": decision["text"],
        "documents": decision["documents"],
        "due": decision["due"],
    }
    data = {**record.data, "decision": stored}
    correction = _correction(visit, session, correction_reason, at)
    if correction is not None:
        data["correction"] = correction
    return _write(
        session,
        Change(
            APPLICANT, applicant_id, data, str(decision["kind"]), record.visit_id, record.version
        ),
        "applicant_decided",
    )


def resolve_watchlist(
    session: OfficerSession, applicant_id: str, outcome: str, reason: str
) -> Applicant:
    """A supervisor's answer to a possible watchlist match: ``cleared`` or ``confirmed``.

    Stored in ``watchlist.resolution`` as ``{outcome, by, at, reason}`` (audited
    ``watchlist_resolved``); the record's state is kept. :class:`NotAllowed` for an officer who
    is not a supervisor; :class:`Refused` (``counter.no_watchlist_match``) when check-in found
    no possible match; InvalidInput for another outcome or no reason.
    """
    if session.role != SUPERVISOR:
        raise NotAllowed(
            Message(
                "Hanya supervisor yang boleh menyelesaikan kecocokan daftar cegah.",
                "Only a supervisor may resolve a watchlist match.",
            )
        )
    record = _counter_record(session, applicant_id)
    require_open_visit(session, str(record.visit_id))
    findings: list[Finding] = []
    if outcome not in WATCHLIST_OUTCOMES:
        findings.append(
            _fail(
                "watchlist.outcome",
                "outcome",
                f"Hasil {outcome!r} tidak dikenal; pilih cleared atau confirmed.",
                f"Unknown outcome {outcome!r}; choose cleared or confirmed.",
            )
        )
    if not isinstance(reason, str) or not reason.strip():
        findings.append(
            _fail(
                "watchlist.no_reason",
                "reason",
                "Tulis alasan keputusan supervisor.",
                "Write the reason for the supervisor's decision.",
            )
        )
    _refuse(findings)
    watchlist = record.data.get("watchlist")
    if not isinstance(watchlist, Mapping) or watchlist.get("possible_match") is not True:
        raise Refused(
            Message(
                f"Pemohon {applicant_id} tidak memiliki kemungkinan kecocokan daftar cegah.",
                f"Applicant {applicant_id} has no possible watchlist match to resolve.",
            ),
            "counter.no_watchlist_match",
        )
    resolution = {
        "outcome": outcome,
        "by": session.officer_id,
        "at": now(),
        "reason": " ".join(reason.split()),
    }
    data = {**record.data, "watchlist": {**watchlist, "resolution": resolution}}
    return _write(
        session,
        Change(APPLICANT, applicant_id, data, record.state, record.visit_id, record.version),
        "watchlist_resolved",
    )


@dataclass(frozen=True, slots=True)
class Preview:
    """What saving some changes would do, worked out without saving (the form as it is typed).

    ``refused``: the findings :func:`update_applicant` would refuse these changes with;
    ``person``: every finding of the person rules on the result (errors and warnings);
    ``open``: what would still stand between the result and an acceptance; ``fee`` and
    ``checklist`` as they would be.
    """

    refused: tuple[Finding, ...]
    person: tuple[Finding, ...]
    open: tuple[Finding, ...]
    fee: Mapping[str, object] | None
    checklist: tuple[ChecklistLine, ...] | None


def preview_update(
    session: OfficerSession,
    applicant_id: str,
    changes: Mapping[str, object],
    *,
    acknowledge: Sequence[str] = (),
) -> Preview:
    """:func:`update_applicant`'s rules on ``changes``, with nothing written.

    Not audited as a view: the form on screen already shows the applicant.
    """
    record = _counter_record(session, applicant_id)
    visit = session.unlocked.read(VISIT, str(record.visit_id))
    data, refused, person = _merged(session, record, visit, changes, acknowledge, now())
    on, kind, schedules = _visit_day(visit), _visit_kind(visit), session.fee_schedules()
    lines = checklist(data, on)
    fee = data.get("fee")
    return Preview(
        refused=tuple(refused),
        person=tuple(person),
        open=tuple(
            prerequisite_findings(data, on, visit_kind=kind, schedules=schedules, person=person)
        ),
        fee=fee if isinstance(fee, Mapping) else None,
        checklist=tuple(lines) if lines is not None else None,
    )


# --- what the counter sees --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CounterView:
    """What the counter needs about one applicant: the checklist, the fee, what is missing.

    ``checklist`` is None while the application type or the birth date is unknown; ``open``
    are the findings that still stand between the applicant and an acceptance
    (:func:`fieldkit.domain.decision.prerequisite_findings`); ``warnings`` every warning of
    the person's rules, acknowledged or not.
    """

    applicant: Applicant
    category: str | None
    checklist: tuple[ChecklistLine, ...] | None
    fee: Mapping[str, object] | None
    payment: Mapping[str, object] | None
    open: tuple[Finding, ...]
    warnings: tuple[Finding, ...]

    def as_json(self, lang: str = "id") -> dict[str, object]:
        """The view as ``fieldkit applicant checklist --json`` prints it."""
        data = self.applicant.fields
        return {
            "applicant_id": self.applicant.id,
            "version": self.applicant.version,
            "state": self.applicant.state,
            "application_type": data.get("application_type"),
            "category": self.category,
            "checklist": (
                [line.as_json() for line in self.checklist] if self.checklist is not None else None
            ),
            "fee": dict(self.fee) if self.fee is not None else None,
            "payment": dict(self.payment) if self.payment is not None else None,
            "biometrics_ref": data.get("biometrics_ref"),
            "watchlist": data.get("watchlist"),
            "acknowledged": data.get("acknowledged"),
            "decision": data.get("decision"),
            "ready_to_accept": not self.open,
            "open": [f.as_dict(lang) for f in self.open],  # type: ignore[arg-type]
            "warnings": [f.as_dict(lang) for f in self.warnings],  # type: ignore[arg-type]
        }


def counter_view(session: OfficerSession, applicant_id: str) -> CounterView:
    """The counter's view of an applicant (decrypts it: audited as a view)."""
    record = _counter_record(session, applicant_id)
    unlocked = session.unlocked
    unlocked.note("applicant_viewed", f"{APPLICANT}:{applicant_id}", {"version": record.version})
    visit = unlocked.read(VISIT, str(record.visit_id))
    on, kind, schedules = _visit_day(visit), _visit_kind(visit), session.fee_schedules()
    data = record.data
    lines = checklist(data, on)
    category = category_of(data, on)
    fee, payment = data.get("fee"), data.get("payment")
    return CounterView(
        applicant=applicant_of(record),
        category=category.value if category is not None else None,
        checklist=tuple(lines) if lines is not None else None,
        fee=fee if isinstance(fee, Mapping) else None,
        payment=payment if isinstance(payment, Mapping) else None,
        open=tuple(prerequisite_findings(data, on, visit_kind=kind, schedules=schedules)),
        warnings=tuple(
            f
            for f in person_findings(data, on, visit_kind=kind, schedules=schedules)
            if not f.is_error
        ),
    )


def still_open(session: OfficerSession, applicant: Applicant) -> tuple[Finding, ...]:
    """What still stands between ``applicant`` (a version just read or written) and acceptance.

    No decryption of its own beyond the visit (not audited as a view): for the answer to an
    update, which already holds the record.
    """
    visit = session.unlocked.read(VISIT, applicant.visit_id)
    return tuple(
        prerequisite_findings(
            applicant.fields,
            _visit_day(visit),
            visit_kind=_visit_kind(visit),
            schedules=session.fee_schedules(),
        )
    )
