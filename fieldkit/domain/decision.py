"""The counter's decision on an application, and what an acceptance needs first.

Issue 10 ("Applicant at the counter"): accepted needs every required original seen, a valid
SIMPONI billing code marked paid with its NTPN, the biometrics station's reference, the person
complete and valid, every warning acknowledged and any possible watchlist match cleared by a
supervisor; pending documents names which ones and by when; rejected takes a reason from
:data:`REJECTION_REASONS` (plus text); referred to the supervisor takes a reason in words.

Every rule here takes plain data only (an applicant's format-2 data dict, the decision's
parts, a date), never a vault object: HQ runs the same functions on the records it receives.

Stored shape (``decision`` of an applicant, format 2)::

    {"kind": "pending_documents", "at": "<ISO time>", "by": "<officer id>",
     "reason": None, "text": None, "documents": ["kk"], "due": "2026-12-24"}

``documents`` is the list of missing documents (empty unless pending); ``due`` an ISO date
(None unless pending); ``reason`` a code of :data:`REJECTION_REASONS` for a rejection, the
officer's words for a referral, else None; ``text`` free text (required with ``other``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from fieldkit.domain.applicant import FIELDS, check_applicant
from fieldkit.domain.applications import (
    ApplicantCategory,
    ApplicationType,
    Document,
    Requirement,
    applicant_category,
    required_documents,
)
from fieldkit.domain.calendar import VisitKind
from fieldkit.domain.counter import DecisionKind, DocumentState
from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.fees import FeeSchedule
from fieldkit.domain.findings import Checked, Finding, Message, error
from fieldkit.domain.payment import check_payment

# Days an applicant has to bring the missing originals when the officer names no date: two
# weeks, the same as the synthetic day (fieldkit.domain.synthday.PENDING_DAYS). DOMAIN.md names
# no period; two weeks lets the applicant reach the office (or the team's next visit) while
# the paid M-Paspor booking and the interview are still fresh.
DEFAULT_PENDING_DAYS = 14

# Why an application is rejected at the counter: stable codes for HQ's counts, with the words
# an officer reads out. ``not_eligible_mobile`` is an application a visit away from the office
# may not take (a lost or damaged passport needs a BAP at the office: DOMAIN.md, "The service").
REJECTION_REASONS: tuple[tuple[str, Message], ...] = (
    (
        "incomplete_documents",
        Message("Dokumen persyaratan tidak lengkap", "Required documents incomplete"),
    ),
    (
        "data_mismatch",
        Message("Data pada dokumen tidak sesuai", "The documents' data do not match"),
    ),
    (
        "not_eligible_mobile",
        Message(
            "Permohonan ini hanya dilayani di Kantor Imigrasi",
            "This application is served only at the immigration office",
        ),
    ),
    (
        "suspected_fraud",
        Message(
            "Dugaan pemalsuan dokumen atau identitas", "Suspected forged documents or identity"
        ),
    ),
    ("other", Message("Alasan lain (tulis keterangannya)", "Another reason (write it down)")),
)
REJECTION_REASON_CODES = tuple(code for code, _ in REJECTION_REASONS)
_REJECTION_LABELS = dict(REJECTION_REASONS)


def rejection_label(code: str) -> Message | None:
    """The words for a rejection reason code, or None for a code that is not on the list."""
    return _REJECTION_LABELS.get(code)


@dataclass(frozen=True, slots=True)
class ChecklistLine:
    """One line of an applicant's documents checklist with what the officer marked.

    ``states`` holds the state of each alternative (None: not marked yet); the line is
    ``satisfied`` when one original was seen, or when a conditional line is marked not
    applicable (no name change, parents not divorced, a priority walk-in without a booking).
    """

    requirement: Requirement
    states: tuple[tuple[Document, DocumentState | None], ...]

    @property
    def satisfied(self) -> bool:
        """True when this line no longer stands in the way of an acceptance."""
        return _satisfied(self.requirement, [state for _, state in self.states])

    def as_json(self) -> dict[str, object]:
        """The line as ``fieldkit applicant checklist --json`` prints it."""
        condition = self.requirement.condition
        return {
            "label_id": self.requirement.label("id"),
            "label_en": self.requirement.label("en"),
            "condition_id": condition.id if condition else None,
            "condition_en": condition.en if condition else None,
            "documents": [
                {"document": doc.value, "state": state.value if state else None}
                for doc, state in self.states
            ],
            "satisfied": self.satisfied,
        }


def _satisfied(requirement: Requirement, states: Sequence[DocumentState | None]) -> bool:
    if DocumentState.SEEN in states:
        return True
    return requirement.condition is not None and DocumentState.NOT_APPLICABLE in states


def _person(data: Mapping[str, object]) -> dict[str, object]:
    # Format 2 writes every person field, None where nothing is filled in yet: to the rules
    # that is a field not given.
    return {k: data[k] for k in FIELDS if data.get(k) is not None}


def category_of(data: Mapping[str, object], on: date) -> ApplicantCategory | None:
    """Adult or minor on ``on``, or None while the birth date is unknown."""
    born = parse_iso_date(data.get("birth_date"))
    if born is None:
        return None
    return applicant_category(born, data.get("married") is True, on)


def required_documents_for(data: Mapping[str, object], on: date) -> tuple[Requirement, ...] | None:
    """The checklist for this applicant's type and age on ``on``; None while either is unknown.

    Follows :func:`fieldkit.domain.applications.required_documents` (the old passport's issue
    date, when given, decides the shorter "expired" list).
    """
    category = category_of(data, on)
    if category is None:
        return None
    return _requirements(
        str(data.get("application_type")), category, parse_iso_date(data.get("old_passport_issued"))
    )


# HQ works out a checklist for every applicant version it receives, and a few dozen
# combinations of type, category and issue date cover a whole batch: remember them.
@lru_cache(maxsize=1024)
def _requirements(
    app_type: str, category: ApplicantCategory, issued: date | None
) -> tuple[Requirement, ...] | None:
    try:
        kind = ApplicationType(app_type)
    except ValueError:
        return None
    return required_documents(kind, category, old_passport_issued=issued)


# A dict lookup, not DocumentState(value): HQ reads every mark of every version it receives.
_STATES = {state.value: state for state in DocumentState}


def _marks(data: Mapping[str, object]) -> Mapping[str, object]:
    """What the officer marked per document (``data["documents"]``; empty when unreadable)."""
    held = data.get("documents")
    return held if isinstance(held, Mapping) else {}


def _state(value: object) -> DocumentState | None:
    return _STATES.get(value) if isinstance(value, str) else None


def checklist(data: Mapping[str, object], on: date) -> list[ChecklistLine] | None:
    """Each line of the checklist with the states marked in ``data["documents"]``."""
    requirements = required_documents_for(data, on)
    if requirements is None:
        return None
    marked = _marks(data)
    return [
        ChecklistLine(r, tuple((doc, _state(marked.get(doc.value))) for doc in r.alternatives))
        for r in requirements
    ]


def checklist_documents(data: Mapping[str, object], on: date) -> frozenset[Document] | None:
    """Every document that may be marked for this applicant (None: the checklist is unknown)."""
    requirements = required_documents_for(data, on)
    if requirements is None:
        return None
    return frozenset(doc for r in requirements for doc in r.alternatives)


def _filled(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def acknowledged_codes(data: Mapping[str, object]) -> frozenset[str]:
    """The warning codes an officer acknowledged (``data["acknowledged"]``)."""
    held = data.get("acknowledged")
    if not isinstance(held, list):
        return frozenset()
    return frozenset(str(a["code"]) for a in held if isinstance(a, Mapping) and "code" in a)


def person_findings(
    data: Mapping[str, object],
    on: date,
    *,
    visit_kind: VisitKind | str | None = None,
    schedules: tuple[FeeSchedule, ...] | None = None,
) -> tuple[Finding, ...]:
    """Every finding of :func:`check_applicant` on the person fields filled in so far."""
    return check_applicant(
        _person(data), on=on, visit_kind=visit_kind, schedules=schedules
    ).findings


def _documents_findings(data: Mapping[str, object], on: date) -> list[Finding]:
    requirements = required_documents_for(data, on)
    if requirements is None:
        return [
            error(
                "decision.documents_unknown",
                "documents",
                "Daftar dokumen belum dapat ditentukan: isi jenis permohonan dan tanggal lahir.",
                "The documents checklist cannot be worked out yet: fill in the application "
                "type and the birth date.",
            )
        ]
    marked = _marks(data)
    # The checklist's rule without building its lines: HQ runs this on every version.
    return [
        _document_missing(r)
        for r in requirements
        if not _satisfied(r, [_state(marked.get(doc.value)) for doc in r.alternatives])
    ]


def _document_missing(requirement: Requirement) -> Finding:
    field = f"documents.{requirement.alternatives[0].value}"
    if requirement.condition is None:
        return error(
            "decision.document_missing",
            field,
            f"Dokumen asli belum dilihat: {requirement.text('id')}.",
            f"Original not seen: {requirement.text('en')}.",
        )
    # A conditional line is settled either way: the original seen, or marked not applicable.
    return error(
        "decision.document_missing",
        field,
        f"Belum dilihat atau ditandai tidak berlaku: {requirement.text('id')}.",
        f"Neither seen nor marked not applicable: {requirement.text('en')}.",
    )


def _payment_findings(data: Mapping[str, object]) -> list[Finding]:
    payment = data.get("payment")
    fee = data.get("fee")
    total = fee.get("total") if isinstance(fee, Mapping) else None
    quoted = total if isinstance(total, int) and not isinstance(total, bool) else None
    findings: list[Finding] = []
    if quoted is None:
        findings.append(
            error(
                "decision.no_fee",
                "fee",
                "Tarif belum dihitung: isi jenis permohonan, jenis paspor dan masa berlaku.",
                "No fee quoted yet: fill in the application type, the passport kind and the "
                "validity.",
            )
        )
    if not isinstance(payment, Mapping) or not _filled(payment.get("billing_code")):
        findings.append(
            error(
                "decision.no_billing_code",
                "payment.billing_code",
                "Kode billing SIMPONI belum dicatat.",
                "No SIMPONI billing code is recorded.",
            )
        )
        findings.append(_unpaid())
        return findings
    findings.extend(check_payment(payment, quoted))
    if payment.get("paid") is not True:
        findings.append(_unpaid())
    return findings


def _unpaid() -> Finding:
    return error(
        "decision.unpaid",
        "payment.paid",
        "Biaya paspor belum dibayar (belum ada NTPN).",
        "The passport fee is not paid yet (no NTPN).",
    )


def _watchlist_findings(data: Mapping[str, object]) -> list[Finding]:
    watchlist = data.get("watchlist")
    if not isinstance(watchlist, Mapping):
        return [
            error(
                "decision.watchlist_unresolved",
                "watchlist",
                "Hasil pemeriksaan daftar cegah tidak tercatat.",
                "The watchlist check is not recorded.",
            )
        ]
    # None: the laptop held no watchlist at check-in (the check was not made, and said so);
    # HQ screens every NIK it receives, so that alone does not hold the applicant back.
    if watchlist.get("possible_match") is not True:
        return []
    resolution = watchlist.get("resolution")
    outcome = resolution.get("outcome") if isinstance(resolution, Mapping) else None
    if outcome == "cleared":
        return []
    if outcome == "confirmed":
        return [
            error(
                "decision.watchlist_confirmed",
                "watchlist",
                "Supervisor menyatakan pemohon ada dalam daftar cegah: tidak dapat diterima.",
                "A supervisor confirmed the watchlist match: the application cannot be accepted.",
            )
        ]
    return [
        error(
            "decision.watchlist_unresolved",
            "watchlist",
            "Kemungkinan cocok dengan daftar cegah: rujuk ke supervisor.",
            "A possible watchlist match: refer to the supervisor.",
        )
    ]


def prerequisite_findings(
    data: Mapping[str, object],
    on: date,
    *,
    visit_kind: VisitKind | str | None = None,
    schedules: tuple[FeeSchedule, ...] | None = None,
    person: Sequence[Finding] | None = None,
) -> list[Finding]:
    """Every finding that stands between this applicant and an acceptance on ``on``.

    Each is an error with its own code: ``decision.document_missing`` (one per checklist line,
    its field ``documents.<first document of the line>``), ``decision.documents_unknown``,
    ``decision.no_fee``, ``decision.no_billing_code``, ``decision.unpaid``, the payment rules'
    own codes (``billing.length``, ``payment.no_ntpn``, ``payment.amount_mismatch`` … from
    :func:`~fieldkit.domain.payment.check_payment`), ``decision.no_biometrics``,
    ``decision.watchlist_unresolved``, ``decision.watchlist_confirmed``, the person's errors
    as :func:`check_applicant` names them (``applicant.missing``, ``application.office_only``
    …), and ``decision.warning_unacknowledged`` for each of its warnings not acknowledged
    (the warning's code in the field ``acknowledged.<code>``). An empty list: ready to accept.
    ``person`` is :func:`person_findings` of ``data`` on ``on`` when the caller has it already
    (HQ runs it on every version anyway); it is worked out here otherwise.
    """
    findings: list[Finding] = []
    acknowledged = acknowledged_codes(data)
    if person is None:
        person = person_findings(data, on, visit_kind=visit_kind, schedules=schedules)
    for finding in person:
        if finding.is_error:
            findings.append(finding)
        elif finding.code not in acknowledged:
            findings.append(
                error(
                    "decision.warning_unacknowledged",
                    f"acknowledged.{finding.code}",
                    f"Peringatan belum dikonfirmasi petugas ({finding.code}): {finding.message.id}",
                    f"Warning not acknowledged by the officer ({finding.code}): "
                    f"{finding.message.en}",
                )
            )
    findings.extend(_documents_findings(data, on))
    findings.extend(_payment_findings(data))
    if not _filled(data.get("biometrics_ref")):
        findings.append(
            error(
                "decision.no_biometrics",
                "biometrics_ref",
                "Referensi stasiun biometrik (foto dan sidik jari) belum dicatat.",
                "No biometrics station reference (photo and fingerprints) is recorded.",
            )
        )
    findings.extend(_watchlist_findings(data))
    return findings


def _unexpected(name: str, kind: str) -> Finding:
    return error(
        "decision.unexpected",
        name,
        f"{name} tidak dipakai untuk keputusan {kind}.",
        f"{name} does not go with a decision of {kind}.",
    )


def _pending(
    data: Mapping[str, object], missing: object, due: object, on: date
) -> tuple[list[str], str | None, list[Finding]]:
    findings: list[Finding] = []
    listed: list[str] = []
    if not isinstance(missing, Sequence) or isinstance(missing, str) or not missing:
        findings.append(
            error(
                "decision.no_missing_documents",
                "missing",
                "Sebutkan dokumen yang belum dibawa.",
                "Name the documents still to be brought.",
            )
        )
        missing = ()
    allowed = checklist_documents(data, on)
    marked = _marks(data)
    for raw in missing:
        try:
            document = Document(str(raw))
        except ValueError:
            findings.append(
                error(
                    "decision.unknown_document",
                    "missing",
                    f"Dokumen {raw!r} tidak dikenal.",
                    f"Unknown document {raw!r}.",
                )
            )
            continue
        if allowed is not None and document not in allowed:
            findings.append(
                error(
                    "decision.document_not_required",
                    "missing",
                    f"{document.label.id} tidak ada dalam daftar dokumen pemohon ini.",
                    f"{document.label.en} is not on this applicant's checklist.",
                )
            )
        elif marked.get(document.value) == DocumentState.SEEN:
            findings.append(
                error(
                    "decision.document_seen",
                    "missing",
                    f"{document.label.id} sudah ditandai dilihat.",
                    f"{document.label.en} is marked seen.",
                )
            )
        elif document.value not in listed:
            listed.append(document.value)
    if due is None:
        when: date | None = on + timedelta(days=DEFAULT_PENDING_DAYS)
    else:
        when = due if isinstance(due, date) else parse_iso_date(due)
        if when is None:
            findings.append(
                error(
                    "decision.due",
                    "due",
                    "Batas waktu harus tanggal berformat TTTT-BB-HH.",
                    "The due date must be a date written YYYY-MM-DD.",
                )
            )
        elif when < on:
            findings.append(
                error(
                    "decision.due_past",
                    "due",
                    f"Batas waktu {when.isoformat()} sudah lewat (hari ini {on.isoformat()}).",
                    f"The due date {when.isoformat()} is in the past (today is {on.isoformat()}).",
                )
            )
    return listed, when.isoformat() if when else None, findings


def _no_reason(id_text: str, en_text: str) -> Finding:
    return error("decision.no_reason", "reason", id_text, en_text)


def check_decision(
    data: Mapping[str, object],
    kind: object,
    *,
    reason: object = None,
    text: object = None,
    missing: object = None,
    due: object = None,
    on: date,
    visit_kind: VisitKind | str | None = None,
    schedules: tuple[FeeSchedule, ...] | None = None,
    person: Sequence[Finding] | None = None,
) -> Checked[dict[str, object]]:
    """Check a decision of ``kind`` on the applicant ``data`` made on ``on``.

    The value is the decision to store without ``at`` and ``by``: ``{kind, reason, text,
    documents, due}`` (see the module's docstring). accepted: :func:`prerequisite_findings`
    must be empty. pending_documents: ``missing`` a non-empty list of documents on the
    applicant's checklist not marked seen, ``due`` not before ``on`` (default ``on`` +
    :data:`DEFAULT_PENDING_DAYS`). rejected: ``reason`` one of :data:`REJECTION_REASON_CODES`,
    ``text`` required with ``other``. referred: ``reason`` in words, required. Codes also
    ``decision.unknown_kind``, ``decision.unknown_reason``, ``decision.no_text``,
    ``decision.unexpected`` (``missing`` or ``due`` on a decision that is not pending, a
    reason on an acceptance). ``person`` as for :func:`prerequisite_findings`.
    """
    try:
        decided = DecisionKind(str(kind))
    except ValueError:
        choices = ", ".join(k.value for k in DecisionKind)
        return Checked.invalid(
            error(
                "decision.unknown_kind",
                "kind",
                f"Keputusan {kind!r} tidak dikenal; pilih salah satu: {choices}.",
                f"Unknown decision {kind!r}; choose one of: {choices}.",
            )
        )
    findings: list[Finding] = []
    if text is not None and not isinstance(text, str):
        findings.append(
            error("decision.text", "text", "Keterangan harus teks.", "The text must be text.")
        )
        text = None
    note = " ".join(text.split()) if isinstance(text, str) and text.strip() else None
    documents: list[str] = []
    when: str | None = None
    stored_reason: str | None = None
    if decided is not DecisionKind.PENDING_DOCUMENTS:
        findings.extend(
            _unexpected(name, decided.value)
            for name, value in (("missing", missing), ("due", due))
            if value not in (None, [], ())
        )
    if decided is DecisionKind.ACCEPTED:
        if reason is not None:
            findings.append(_unexpected("reason", decided.value))
        findings.extend(
            prerequisite_findings(
                data, on, visit_kind=visit_kind, schedules=schedules, person=person
            )
        )
    elif decided is DecisionKind.PENDING_DOCUMENTS:
        documents, when, found = _pending(data, missing, due, on)
        findings.extend(found)
        stored_reason = str(reason) if isinstance(reason, str) and reason.strip() else None
    elif decided is DecisionKind.REJECTED:
        if reason in (None, ""):
            findings.append(
                _no_reason(
                    "Pilih alasan penolakan: " + ", ".join(REJECTION_REASON_CODES) + ".",
                    "Choose a reason for the rejection: " + ", ".join(REJECTION_REASON_CODES) + ".",
                )
            )
        elif not isinstance(reason, str) or reason not in REJECTION_REASON_CODES:
            findings.append(
                error(
                    "decision.unknown_reason",
                    "reason",
                    f"Alasan penolakan {reason!r} tidak dikenal; pilih salah satu: "
                    f"{', '.join(REJECTION_REASON_CODES)}.",
                    f"Unknown rejection reason {reason!r}; choose one of: "
                    f"{', '.join(REJECTION_REASON_CODES)}.",
                )
            )
        else:
            stored_reason = reason
            if reason == "other" and note is None:
                findings.append(
                    error(
                        "decision.no_text",
                        "text",
                        "Alasan lain: tulis keterangannya.",
                        "Another reason: write it down.",
                    )
                )
    elif not isinstance(reason, str) or not reason.strip():
        findings.append(
            _no_reason(
                "Tulis alasan merujuk ke supervisor.", "Write why it is referred to the supervisor."
            )
        )
    else:
        stored_reason = " ".join(reason.split())
    value: dict[str, object] = {
        "kind": decided.value,
        "reason": stored_reason,
        "text": note,
        "documents": documents,
        "due": when,
    }
    return Checked.of(value, findings)


def stored_decision_findings(
    data: Mapping[str, object],
    on: date,
    *,
    visit_kind: VisitKind | str | None = None,
    schedules: tuple[FeeSchedule, ...] | None = None,
    person: Sequence[Finding] | None = None,
) -> list[Finding]:
    """The rules of :func:`check_decision` run again on the decision stored in ``data``.

    For HQ (and a laptop reading a record back): an applicant without a decision has no
    findings; ``on`` is the day the decision was made. ``person`` as for
    :func:`prerequisite_findings`.
    """
    held = data.get("decision")
    if not isinstance(held, Mapping):
        return []
    checked = check_decision(
        data,
        held.get("kind"),
        reason=held.get("reason"),
        text=held.get("text"),
        missing=held.get("documents") or None,
        due=held.get("due"),
        on=on,
        visit_kind=visit_kind,
        schedules=schedules,
        person=person,
    )
    return list(checked.errors)
