"""The decision rules: what an acceptance needs, pending documents, rejections, referrals.

Every refusal of issue 10's counter is here on plain data (as HQ runs them): accepting with a
document missing, unpaid, without a billing code or with an invalid one, paid without an
NTPN, without biometrics, with a watchlist match unresolved or a warning unacknowledged;
pending without documents or with a due date past; a rejection with an unknown reason or
``other`` without text; and the lost passport at a mobile visit. Synthetic people only.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.domain.applicant import check_applicant
from fieldkit.domain.applications import ApplicantCategory, Document
from fieldkit.domain.decision import (
    DEFAULT_PENDING_DAYS,
    REJECTION_REASON_CODES,
    check_decision,
    checklist,
    prerequisite_findings,
    rejection_label,
    required_documents_for,
    stored_decision_findings,
)
from fieldkit.domain.synth import synthetic_applicants

ON = date(2026, 12, 10)
EAZY = "eazy"


def _person(application_type: str, *, adult: bool = True) -> dict[str, Any]:
    for candidate in synthetic_applicants(200, 11):
        age = ON.year - candidate.birth_date.year
        if candidate.application_type == application_type and (age >= 30) == adult:
            if not adult and (candidate.married or age < 6):
                continue
            return candidate.as_json()
    raise AssertionError("no such synthetic applicant")


def ready(
    application_type: str = "new", *, adult: bool = True, warned: bool = False, **changes: Any
) -> dict[str, Any]:
    """A format-2 applicant with everything an acceptance needs, then ``changes``.

    ``person`` in ``changes`` changes the person before the rules run (``warned``: expect a
    warning of theirs).
    """
    person = {**_person(application_type, adult=adult), **changes.pop("person", {})}
    checked = check_applicant(person, on=ON, visit_kind=EAZY)
    assert checked.ok and bool(checked.warnings) is warned, checked.findings
    data: dict[str, Any] = {"format": 2, **checked.value}  # type: ignore[dict-item]
    documents = {}
    for line in required_documents_for(data, ON) or ():
        first = line.alternatives[0].value
        documents[first] = "seen" if line.condition is None else "not_applicable"
    documents["online_registration_proof"] = "seen"
    data |= {
        "watchlist": {"possible_match": False, "reference_version": 3, "resolution": None},
        "documents": documents,
        "payment": {
            "billing_code": "820240012345678",
            "amount": data["fee"]["total"],
            "paid": True,
            "ntpn": "0A1B2C3D4E5F6A7B",
            "paid_at": "2026-12-10T03:04:05.000000+00:00",
        },
        "biometrics_ref": "BIO-00012345",
        "notes": "",
        "acknowledged": [],
        "decision": None,
    }
    return data | changes


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def accept(data: dict[str, Any], visit_kind: str = EAZY):
    return check_decision(data, "accepted", on=ON, visit_kind=visit_kind)


def test_a_complete_applicant_is_accepted():
    data = ready()
    assert prerequisite_findings(data, ON, visit_kind=EAZY) == []
    checked = accept(data)
    assert checked.ok
    assert checked.value == {
        "kind": "accepted",
        "reason": None,
        "text": None,
        "documents": [],
        "due": None,
    }


def test_accepting_with_a_document_missing_is_refused_naming_it():
    data = ready()
    data["documents"] = {**data["documents"], "kk": "missing"}
    checked = accept(data)
    assert not checked.ok
    assert codes(checked.findings) == ["decision.document_missing"]
    assert checked.findings[0].field == "documents.kk"
    assert "Kartu Keluarga" in checked.findings[0].message.id


def test_a_document_not_marked_at_all_counts_as_missing():
    data = ready()
    del data["documents"]["ktp"]
    assert codes(accept(data).findings) == ["decision.document_missing"]


def test_any_one_alternative_of_a_line_satisfies_it():
    data = ready()
    data["documents"].pop("birth_certificate")
    data["documents"]["diploma"] = "seen"
    assert accept(data).ok


def test_only_a_conditional_line_may_be_not_applicable():
    data = ready()
    data["documents"]["ktp"] = "not_applicable"
    found = accept(data).findings
    assert codes(found) == ["decision.document_missing"] and found[0].field == "documents.ktp"
    data["documents"]["ktp"] = "seen"
    data["documents"]["name_change_order"] = "not_applicable"
    assert accept(data).ok


def test_accepting_unpaid_is_refused():
    data = ready()
    data["payment"] = {**data["payment"], "paid": False, "ntpn": None, "paid_at": None}
    assert codes(accept(data).findings) == ["decision.unpaid"]


def test_accepting_without_a_billing_code_is_refused():
    assert codes(accept(ready(payment=None)).findings) == [
        "decision.no_billing_code",
        "decision.unpaid",
    ]


def test_accepting_with_an_invalid_billing_code_is_refused():
    data = ready()
    data["payment"] = {**data["payment"], "billing_code": "8202400123"}
    assert codes(accept(data).findings) == ["billing.length"]


def test_accepting_paid_without_an_ntpn_is_refused():
    data = ready()
    data["payment"] = {**data["payment"], "ntpn": None}
    assert codes(accept(data).findings) == ["payment.no_ntpn"]


def test_accepting_a_payment_for_another_amount_is_refused():
    data = ready()
    data["payment"] = {**data["payment"], "amount": data["fee"]["total"] - 1}
    assert codes(accept(data).findings) == ["payment.amount_mismatch"]


def test_accepting_without_a_fee_quoted_is_refused():
    assert "decision.no_fee" in codes(accept(ready(fee=None)).findings)


def test_accepting_without_biometrics_is_refused():
    assert codes(accept(ready(biometrics_ref=None)).findings) == ["decision.no_biometrics"]
    assert codes(accept(ready(biometrics_ref="  ")).findings) == ["decision.no_biometrics"]


def test_accepting_with_an_unresolved_watchlist_match_is_refused():
    hit = {"possible_match": True, "reference_version": 3, "resolution": None}
    assert codes(accept(ready(watchlist=hit)).findings) == ["decision.watchlist_unresolved"]


def test_a_supervisor_cleared_match_may_be_accepted_a_confirmed_one_never():
    resolution = {"outcome": "cleared", "by": "sup1", "at": "2026-12-10T04:00:00+00:00"}
    cleared = {"possible_match": True, "reference_version": 3, "resolution": resolution}
    assert accept(ready(watchlist=cleared)).ok
    confirmed = {**cleared, "resolution": {**resolution, "outcome": "confirmed"}}
    assert codes(accept(ready(watchlist=confirmed)).findings) == ["decision.watchlist_confirmed"]


def test_no_watchlist_on_the_laptop_does_not_hold_the_applicant_back():
    unchecked = {"possible_match": None, "reference_version": None, "resolution": None}
    assert accept(ready(watchlist=unchecked)).ok
    assert codes(accept(ready(watchlist=None)).findings) == ["decision.watchlist_unresolved"]


def _mismatched_birth_date() -> dict[str, Any]:
    person = _person("new")
    born = date.fromisoformat(person["birth_date"]) - timedelta(days=3)
    return ready(person={"birth_date": born.isoformat()}, warned=True)


def test_accepting_with_an_unacknowledged_warning_is_refused():
    data = _mismatched_birth_date()
    found = accept(data).findings
    assert codes(found) == ["decision.warning_unacknowledged"]
    assert found[0].field == "acknowledged.nik.birth_date_mismatch"


def test_an_acknowledged_warning_no_longer_blocks():
    data = _mismatched_birth_date()
    data["acknowledged"] = [
        {"code": "nik.birth_date_mismatch", "by": "off2", "at": "2026-12-10T03:00:00+00:00"}
    ]
    assert accept(data).ok


def test_a_person_incomplete_or_invalid_cannot_be_accepted():
    assert "applicant.missing" in codes(accept(ready(sex=None)).findings)
    assert "phone.not_mobile" in codes(accept(ready(phone="0211234567")).findings)


def test_every_prerequisite_is_named_at_once():
    data = ready(payment=None, biometrics_ref=None, documents={})
    found = codes(accept(data).findings)
    assert {"decision.document_missing", "decision.no_billing_code", "decision.unpaid"} <= set(
        found
    )
    assert "decision.no_biometrics" in found


def test_pending_documents_names_them_and_a_due_date():
    data = ready()
    data["documents"]["kk"] = "missing"
    checked = check_decision(
        data, "pending_documents", missing=["kk"], due="2026-12-20", on=ON, visit_kind=EAZY
    )
    assert checked.ok
    assert checked.value["documents"] == ["kk"] and checked.value["due"] == "2026-12-20"


def test_pending_default_due_date():
    data = ready()
    data["documents"]["kk"] = "missing"
    checked = check_decision(data, "pending_documents", missing=["kk"], on=ON)
    assert checked.value["due"] == (ON + timedelta(days=DEFAULT_PENDING_DAYS)).isoformat()


def test_pending_without_documents_is_refused():
    for missing in (None, []):
        checked = check_decision(ready(), "pending_documents", missing=missing, on=ON)
        assert codes(checked.findings) == ["decision.no_missing_documents"]


def test_pending_with_a_due_date_in_the_past_is_refused():
    data = ready()
    data["documents"]["kk"] = "missing"
    checked = check_decision(data, "pending_documents", missing=["kk"], due="2026-12-09", on=ON)
    assert codes(checked.findings) == ["decision.due_past"]
    same_day = check_decision(data, "pending_documents", missing=["kk"], due=ON, on=ON)
    assert same_day.ok
    bad = check_decision(data, "pending_documents", missing=["kk"], due="10-12-2026", on=ON)
    assert codes(bad.findings) == ["decision.due"]


def test_pending_names_only_documents_of_the_checklist_not_seen():
    data = ready()
    found = check_decision(data, "pending_documents", missing=["ktp"], on=ON).findings
    assert codes(found) == ["decision.document_seen"]
    found = check_decision(data, "pending_documents", missing=["police_loss_report"], on=ON)
    assert codes(found.findings) == ["decision.document_not_required"]
    found = check_decision(data, "pending_documents", missing=["passport_photo"], on=ON)
    assert codes(found.findings) == ["decision.unknown_document"]


def test_rejected_takes_a_reason_from_the_list():
    for reason in REJECTION_REASON_CODES:
        assert rejection_label(reason) is not None
    checked = check_decision(ready(), "rejected", reason="data_mismatch", on=ON)
    assert checked.ok and checked.value["reason"] == "data_mismatch"


def test_rejected_with_an_unknown_reason_or_none_is_refused():
    found = check_decision(ready(), "rejected", reason="rude", on=ON).findings
    assert codes(found) == ["decision.unknown_reason"]
    assert codes(check_decision(ready(), "rejected", on=ON).findings) == ["decision.no_reason"]


def test_rejected_for_another_reason_needs_the_text():
    found = check_decision(ready(), "rejected", reason="other", on=ON).findings
    assert codes(found) == ["decision.no_text"]
    found = check_decision(ready(), "rejected", reason="other", text="  ", on=ON).findings
    assert codes(found) == ["decision.no_text"]
    checked = check_decision(
        ready(), "rejected", reason="other", text="Pemohon  membatalkan.", on=ON
    )
    assert checked.ok and checked.value["text"] == "Pemohon membatalkan."


def test_a_lost_passport_at_a_mobile_visit_is_not_eligible():
    data = ready(person={})
    data["application_type"] = "lost"
    found = accept(data).findings
    assert "application.office_only" in codes(found)
    office_only = next(f for f in found if f.code == "application.office_only")
    assert "Kantor Imigrasi" in office_only.message.id
    checked = check_decision(
        data,
        "rejected",
        reason="not_eligible_mobile",
        text="Paspor hilang hanya dilayani di Kantor Imigrasi.",
        on=ON,
        visit_kind=EAZY,
    )
    assert checked.ok and checked.value["reason"] == "not_eligible_mobile"


def test_referred_needs_a_reason_in_words():
    assert codes(check_decision(ready(), "referred", on=ON).findings) == ["decision.no_reason"]
    checked = check_decision(ready(), "referred", reason=" Cek  cekal ", on=ON)
    assert checked.ok and checked.value["reason"] == "Cek cekal"


def test_an_unknown_kind_and_misplaced_parts_are_refused():
    assert codes(check_decision(ready(), "approved", on=ON).findings) == ["decision.unknown_kind"]
    found = check_decision(ready(), "accepted", missing=["kk"], due="2026-12-20", on=ON)
    assert codes(found.findings) == ["decision.unexpected", "decision.unexpected"]


def test_the_checklist_follows_type_and_age():
    adult = ready()
    assert required_documents_for({**adult, "application_type": None}, ON) is None
    lines = checklist(adult, ON)
    assert lines is not None and all(line.satisfied for line in lines)
    minor = {**adult, "birth_date": "2015-01-01", "married": False}
    minor_docs = {d for r in required_documents_for(minor, ON) or () for d in r.alternatives}
    assert Document.PARENT_KTP in minor_docs and Document.KTP not in minor_docs
    from fieldkit.domain.decision import category_of

    assert category_of(minor, ON) is ApplicantCategory.MINOR


def test_hq_runs_the_same_rules_on_a_stored_decision():
    decided = {
        "kind": "accepted",
        "at": "2026-12-10T05:00:00+00:00",
        "by": "off2",
        "reason": None,
        "text": None,
        "documents": [],
        "due": None,
    }
    assert stored_decision_findings(ready(decision=decided), ON, visit_kind=EAZY) == []
    unpaid = ready(decision=decided, payment=None)
    assert "decision.unpaid" in codes(stored_decision_findings(unpaid, ON))
    assert stored_decision_findings(ready(), ON) == []


@pytest.mark.parametrize("data", [{}, {"documents": "x", "payment": 5, "watchlist": []}])
def test_the_rules_never_raise_on_odd_data(data):
    assert not accept(data).ok
    assert prerequisite_findings(data, ON)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)
_KEYS = (
    "application_type",
    "birth_date",
    "married",
    "documents",
    "payment",
    "fee",
    "biometrics_ref",
    "watchlist",
    "acknowledged",
    "decision",
    "nik",
    "product",
    "validity_years",
)


@settings(max_examples=200, deadline=None)
@given(
    changes=st.fixed_dictionaries({}, optional=dict.fromkeys(_KEYS, _json)),
    kind=_json | st.sampled_from(["accepted", "pending_documents", "rejected", "referred"]),
    parts=st.fixed_dictionaries(
        {}, optional=dict.fromkeys(("reason", "text", "missing", "due"), _json)
    ),
)
def test_hq_may_run_the_rules_on_any_received_json(changes, kind, parts):
    data = {**ready(), **changes}
    checked = check_decision(data, kind, on=ON, visit_kind=EAZY, **parts)
    assert checked.ok or checked.errors
    stored_decision_findings({**data, "decision": {"kind": kind, **parts}}, ON)
