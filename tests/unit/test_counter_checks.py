"""HQ's checks on received records (sync.hq.counter_checks), on plain data: every kind and format.

The records are built as a device writes them (``fieldkit.domain.counter.counter_applicant``
for a format-2 applicant) and then bent: prerequisites left out, formats HQ does not know,
and hostile shapes that must give findings, never an exception.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from fieldkit.domain.applicant import FIELDS, check_applicant
from fieldkit.domain.applications import applicant_category, required_documents
from fieldkit.domain.counter import COUNTER_FIELDS, counter_applicant
from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.synth import synthetic_applicants
from sync.hq.counter_checks import (
    DECISION_UNMET,
    FLAG_DECISION_UNMET,
    FLAG_FORMAT_UNKNOWN,
    FORMAT_UNKNOWN,
    SHAPE,
    record_findings,
    record_flags,
    record_format,
)
from sync.hq.ingest import _finding_json

ON = date(2026, 12, 1)
AT = "2026-12-01T02:15:00.000000+00:00"


def person(seed: int = 3) -> dict[str, Any]:
    """A synthetic applicant's captured fields with the fee quoted for them, as at the counter."""
    captured = next(iter(synthetic_applicants(1, seed))).as_json()
    checked = check_applicant(captured, on=ON)
    assert checked.value is not None and not checked.findings, checked.findings
    return checked.value


def waiting(seed: int = 3, **changes: Any) -> dict[str, Any]:
    """A format-2 applicant just checked in, as the device writes it."""
    data = counter_applicant(
        person(seed),
        roster_entry_id="0190a1b2-0000-7000-8000-000000000001",
        walk_in=None,
        queue={"series": "A", "number": 7},
        watchlist={"possible_match": False, "reference_version": 4, "resolution": None},
        checked_in_at=AT,
        checked_in_by="off2",
    )
    data.update(changes)
    return data


def all_seen(data: dict[str, Any]) -> dict[str, str]:
    """Every document of the applicant's checklist marked seen."""
    born = parse_iso_date(data["birth_date"])
    assert born is not None
    category = applicant_category(born, bool(data["married"]), ON)
    issued = parse_iso_date(data.get("old_passport_issued"))
    checklist = required_documents(data["application_type"], category, old_passport_issued=issued)
    return {doc.value: "seen" for line in checklist for doc in line.alternatives}


def accepted(seed: int = 3, **changes: Any) -> dict[str, Any]:
    """A format-2 applicant accepted with every prerequisite met."""
    data = waiting(seed)
    data.update(
        documents=all_seen(data),
        payment={
            "billing_code": "820250000012345",
            "amount": data["fee"]["total"],
            "paid": True,
            "ntpn": "0A1B2C3D4E5F6G7H",
            "paid_at": AT,
        },
        biometrics_ref="BIO-2026-0042",
        decision={
            "kind": "accepted",
            "at": AT,
            "by": "off2",
            "reason": None,
            "text": None,
            "documents": [],
            "due": None,
        },
    )
    data.update(changes)
    return data


def codes(findings: list[Any]) -> list[str]:
    return [f.code for f in findings]


def fields_of(findings: list[Any], code: str | None = SHAPE) -> set[str]:
    """The fields of the findings with ``code`` (of every finding for None)."""
    return {f.field for f in findings if code is None or f.code == code}


# --- formats ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({}, 1),
        ({"format": 1}, 1),
        ({"format": 2}, 2),
        ({"format": 7}, 7),
        ({"format": "2"}, None),
        ({"format": True}, None),
        ({"format": 0}, None),
        ({"format": None}, None),
        ({"format": [2]}, None),
    ],
)
def test_a_record_without_format_is_format_1_and_a_format_that_is_no_number_is_unknown(
    data, expected
):
    assert record_format(data) == expected


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("applicant", {"format": 3, "name": "X"}),
        ("applicant", {"format": "2"}),
        ("visit", {"format": 3}),
        ("roster", {"format": 9}),
        ("kit", {"format": 2, "items": []}),
        ("queue", {"format": 2}),
        ("queue", {"format": False}),
    ],
)
def test_a_format_hq_does_not_know_is_one_warning_and_nothing_else_read(kind, data):
    found = record_findings(kind, data, on=ON)
    assert codes(found) == [FORMAT_UNKNOWN]
    assert found[0].field == "format"
    assert not found[0].is_error, "the data is stored unchecked, not invalid"
    [(flag, detail)] = record_flags(kind, "r1", 2, [_finding_json(f) for f in found])
    assert flag == FLAG_FORMAT_UNKNOWN
    assert f"{kind} r1 version 2" in detail and "stored as it came" in detail


def test_a_kind_hq_does_not_know_is_kept_with_the_same_warning():
    found = record_findings("parcel", {"format": 1, "weight": 3}, on=ON)
    assert codes(found) == [FORMAT_UNKNOWN]
    assert found[0].field == "kind"
    [(flag, _)] = record_flags("parcel", "r1", 1, [_finding_json(f) for f in found])
    assert flag == FLAG_FORMAT_UNKNOWN


# --- applicants, format 1 ---------------------------------------------------------------------


def test_a_format_1_applicant_gets_exactly_todays_rules():
    data = {**person(), "documents_seen": [], "payment": None, "decision": None, "notes": ""}
    data["nik"] = "123"
    found = record_findings("applicant", data, state="captured", on=ON)
    today = check_applicant({k: data[k] for k in FIELDS if k in data}, on=ON)
    assert codes(found) == [f.code for f in today.findings]
    assert any(code.startswith("nik.") for code in codes(found))


def test_a_good_format_1_applicant_has_no_findings():
    data = {**person(), "documents_seen": [], "payment": None, "decision": None, "notes": ""}
    assert record_findings("applicant", data, state="captured", on=ON) == []


def test_a_format_1_applicant_keeps_its_missing_field_errors():
    data = {k: v for k, v in person().items() if k != "product"}
    assert "applicant.missing" in codes(record_findings("applicant", data, on=ON))


# --- applicants, format 2 ---------------------------------------------------------------------


def test_a_checked_in_applicant_has_no_findings():
    assert record_findings("applicant", waiting(), state="waiting", on=ON) == []


def test_a_person_still_being_filled_in_is_not_an_error_before_acceptance():
    data = waiting(product=None, validity_years=None, phone=None)
    assert record_findings("applicant", data, state="at_counter", on=ON) == []


def test_an_acceptance_with_every_prerequisite_has_no_findings():
    assert record_findings("applicant", accepted(), state="accepted", on=ON) == []


def test_an_acceptance_of_an_incomplete_person_keeps_the_missing_field_errors():
    data = accepted(validity_years=None)
    assert "applicant.missing" in codes(record_findings("applicant", data, state="accepted", on=ON))


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"payment": None}, "No SIMPONI billing code is recorded"),
        (
            {
                "payment": {
                    "billing_code": "820250000012345",
                    "amount": 950_000,
                    "paid": False,
                    "ntpn": None,
                    "paid_at": None,
                }
            },
            "not paid yet",
        ),
        (
            {
                "payment": {
                    "billing_code": "8202-5000",
                    "amount": 950_000,
                    "paid": True,
                    "ntpn": "0A1B2C3D4E5F6G7H",
                    "paid_at": AT,
                }
            },
            "billing code has 15 digits",
        ),
        ({"biometrics_ref": None}, "No biometrics station reference"),
        ({"biometrics_ref": "  "}, "No biometrics station reference"),
        ({"documents": {}}, "Original not seen: Old passport"),
        (
            {
                "watchlist": {
                    "possible_match": True,
                    "reference_version": 4,
                    "resolution": None,
                }
            },
            "A possible watchlist match: refer to the supervisor",
        ),
        (
            {
                "watchlist": {
                    "possible_match": True,
                    "reference_version": 4,
                    "resolution": {
                        "outcome": "confirmed",
                        "by": "sup1",
                        "at": AT,
                        "reason": "same person",
                    },
                }
            },
            "confirmed the watchlist match",
        ),
    ],
)
def test_an_acceptance_without_a_prerequisite_is_kept_with_a_finding_and_a_flag(changes, words):
    data = accepted(**changes)
    found = record_findings("applicant", data, state="accepted", on=ON)
    unmet = [f for f in found if f.code == DECISION_UNMET]
    assert len(unmet) == 1, codes(found)
    assert unmet[0].is_error and unmet[0].field == "decision"
    assert words in unmet[0].message.en
    assert unmet[0].message.id.startswith("Diterima tanpa")
    [(flag, detail)] = record_flags("applicant", "a1", 5, [_finding_json(f) for f in found])
    assert flag == FLAG_DECISION_UNMET
    assert detail.startswith("applicant a1 version 5: Accepted without its prerequisites")
    assert words in detail


def test_the_finding_names_every_missing_prerequisite_and_each_document_line():
    data = accepted(payment=None, biometrics_ref=None)
    data["documents"] = {**data["documents"], "ktp": "missing"}
    [unmet] = [
        f for f in record_findings("applicant", data, state="accepted", on=ON)
        if f.code == DECISION_UNMET
    ]  # fmt: skip
    text = unmet.message.en
    assert "identity card (e-KTP)" in text and "Old passport" not in text
    assert "No SIMPONI billing code" in text and "No biometrics" in text


def test_the_summary_of_an_unmet_acceptance_quotes_no_value_of_the_applicant():
    data = accepted(validity_years=None, acknowledged=[])
    data["birth_date"] = "1969-12-14"  # a day after the NIK's: a warning to acknowledge
    found = record_findings("applicant", data, state="accepted", on=ON)
    assert any(f.code == "nik.birth_date_mismatch" and "1969" in f.message.en for f in found)
    [unmet] = [f for f in found if f.code == DECISION_UNMET]
    assert "Warning nik.birth_date_mismatch not acknowledged" in unmet.message.en
    assert "(validity_years: applicant.missing)" in unmet.message.en
    assert "1969" not in unmet.message.en + unmet.message.id


def test_a_supervisor_clearing_a_possible_match_allows_acceptance():
    cleared = {
        "possible_match": True,
        "reference_version": 4,
        "resolution": {"outcome": "cleared", "by": "sup1", "at": AT, "reason": "other person"},
    }
    assert record_findings("applicant", accepted(watchlist=cleared), state="accepted", on=ON) == []


@pytest.mark.parametrize(
    "decision",
    [
        {"kind": "rejected", "reason": "data_mismatch", "text": "KK altered"},
        {"kind": "referred", "reason": "supervisor", "text": None},
        {"kind": "pending_documents", "documents": ["ktp"], "due": "2026-12-15"},
    ],
)
def test_other_decisions_need_no_payment_or_biometrics(decision):
    full = {"at": AT, "by": "off2", "reason": None, "text": None, "documents": [], "due": None}
    data = waiting(decision={**full, **decision}, product=None)
    found = record_findings("applicant", data, state=decision["kind"], on=ON)
    assert found == [], codes(found)


def test_a_state_that_does_not_match_the_decision_is_a_finding():
    data = accepted()
    found = record_findings("applicant", data, state="rejected", on=ON)
    assert fields_of(found) == {"decision"}


def test_a_state_of_accepted_with_an_unreadable_decision_is_still_held_to_the_rules():
    data = waiting(decision="accepted")
    found = record_findings("applicant", data, state="accepted", on=ON)
    assert "decision" in fields_of(found)
    assert DECISION_UNMET in codes(found)


def test_a_missing_counter_field_is_named():
    data = waiting()
    del data["queue"], data["notes"]
    assert fields_of(record_findings("applicant", data, state="waiting", on=ON)) == {
        "queue",
        "notes",
    }


HOSTILE: list[tuple[str, Any, str]] = [
    ("decision", "accepted", "decision"),
    ("decision", ["accepted"], "decision"),
    ("decision", {"kind": "approved", "at": AT, "by": "x"}, "decision.kind"),
    ("decision", {"kind": "rejected", "at": AT, "by": "x", "documents": {"a": 1}},
     "decision.documents"),
    ("decision", {"kind": "rejected", "at": 5, "by": None}, "decision.at"),
    ("documents", ["ktp", "kk"], "documents"),
    ("documents", {"ktp": "yes"}, "documents.ktp"),
    ("documents", {"ktp": ["seen"]}, "documents.ktp"),
    ("documents", {"selfie": "seen"}, "documents.selfie"),
    ("queue", {"series": "A", "number": "7"}, "queue.number"),
    ("queue", {"series": "A", "number": 0}, "queue.number"),
    ("queue", {"series": "A", "number": True}, "queue.number"),
    ("queue", {"series": "B", "number": 7}, "queue.series"),
    ("queue", [1, 2], "queue"),
    ("payment", "paid", "payment"),
    ("payment", {"billing_code": 8202500, "amount": "950000", "paid": "yes"},
     "payment.billing_code"),
    ("payment", {"billing_code": "8", "amount": "950000", "paid": True}, "payment.amount"),
    ("payment", {"billing_code": "8", "amount": 1, "paid": "yes"}, "payment.paid"),
    ("payment", {"billing_code": "8", "amount": 1, "paid": True}, "payment.ntpn"),
    ("watchlist", [], "watchlist"),
    ("watchlist", {"possible_match": "no", "reference_version": 4, "resolution": None},
     "watchlist.possible_match"),
    ("watchlist", {"possible_match": True, "reference_version": "4", "resolution": None},
     "watchlist.reference_version"),
    ("watchlist", {"possible_match": True, "reference_version": 4, "resolution": {"outcome": "ok"}},
     "watchlist.resolution.outcome"),
    ("walk_in", {"group": "vip", "reason": "friend"}, "walk_in.group"),
    ("walk_in", "elderly", "walk_in"),
    ("acknowledged", {"code": "nik.birth_date_mismatch"}, "acknowledged"),
    ("acknowledged", ["nik.birth_date_mismatch"], "acknowledged[0]"),
    ("acknowledged", [{"code": 5, "by": "x", "at": AT}], "acknowledged[0].code"),
    ("notes", 42, "notes"),
    ("notes", {"a": {"b": {"c": {"d": [[[[[]]]]]}}}}, "notes"),
    ("biometrics_ref", 42, "biometrics_ref"),
    ("checked_in_at", None, "checked_in_at"),
    ("roster_entry_id", 5, "roster_entry_id"),
    ("correction", "fixed", "correction"),
    ("correction", {"reason": "", "by": "sup1", "at": AT}, "correction.reason"),
]  # fmt: skip


@pytest.mark.parametrize(("key", "value", "field"), HOSTILE)
def test_a_hostile_shape_gives_a_finding_on_its_field_and_never_raises(key, value, field):
    for state in ("at_counter", "accepted"):
        data = accepted() if state == "accepted" else waiting()
        data[key] = copy.deepcopy(value)
        found = record_findings("applicant", data, state=state, on=ON)
        assert field in fields_of(found, None), (state, [(f.field, f.message.en) for f in found])
        assert all(f.severity in ("error", "warning") for f in found)


@pytest.mark.parametrize(
    ("decision", "field"),
    [
        ({"kind": "pending_documents", "documents": ["ktp"], "due": 5}, "due"),
        ({"kind": "pending_documents", "documents": ["ktp"], "due": "soon"}, "due"),
        ({"kind": "pending_documents", "documents": ["ktp"], "due": "2026-11-01"}, "due"),
        ({"kind": "pending_documents", "documents": [], "due": "2026-12-15"}, "missing"),
        ({"kind": "pending_documents", "documents": ["passport_photo"]}, "missing"),
        ({"kind": "rejected", "reason": "forged"}, "reason"),
        ({"kind": "rejected", "reason": "other", "text": None}, "text"),
        ({"kind": "rejected", "reason": ["data_mismatch"]}, "reason"),
        ({"kind": "rejected", "reason": "data_mismatch", "documents": ["kk"]}, "missing"),
        ({"kind": "referred", "reason": None}, "reason"),
        ({"kind": "referred", "reason": "x", "text": 5}, "text"),
    ],
)
def test_a_stored_decision_is_held_to_the_decision_rules(decision, field):
    full = {"at": AT, "by": "off2", "reason": None, "text": None, "documents": [], "due": None}
    data = waiting(decision={**full, **decision})
    found = record_findings("applicant", data, state=decision["kind"], on=ON)
    assert field in fields_of(found, None), [(f.code, f.field) for f in found]
    assert DECISION_UNMET not in codes(found)
    stale = record_findings("applicant", data, state="at_counter", on=ON)
    assert field not in fields_of(stale, None), "an edit after it put the applicant back"


def test_an_acceptance_is_judged_on_the_day_it_was_made():
    data = accepted()
    data["decision"] = {**data["decision"], "at": "2026-12-01T09:00:00.000000+00:00"}
    assert record_findings("applicant", data, state="accepted", on=date(2027, 6, 1)) == []


JUNK: list[Any] = [None, True, 0, -1, 2**63 - 1, "", "x" * 5000, [], [None], {}, {"": None}]


@pytest.mark.parametrize("kind", ["applicant", "visit", "roster", "kit", "queue"])
def test_every_key_holding_junk_never_makes_the_checks_raise(kind):
    bases = {
        "applicant": accepted(),
        "visit": open_visit(),
        "roster": arrived(),
        "kit": kit(),
        "queue": queue(),
    }
    base = bases[kind]
    for key in [*base, *COUNTER_FIELDS]:
        for junk in JUNK:
            for state in (None, "accepted", "closed", "arrived", "no_show", "withdrawn", "?"):
                record_findings(kind, {**base, key: junk}, state=state, on=ON)
    assert record_findings(kind, {"format": base.get("format", 1)}, state="?", on=ON)


# --- visits -----------------------------------------------------------------------------------


def planned_visit() -> dict[str, Any]:
    return {
        "kind": "eazy",
        "date": "2026-12-01",
        "session": "pagi",
        "site": "SMAN 1 Karawang",
        "coordinator_name": "Budi Santoso",
        "coordinator_phone": "+6281234567890",
    }


def open_visit(**changes: Any) -> dict[str, Any]:
    data = {
        **planned_visit(),
        "format": 2,
        "opened_at": AT,
        "opened_by": "sup1",
        "walk_in_quota": None,
    }
    data.update(changes)
    return data


def closed_visit(**changes: Any) -> dict[str, Any]:
    data = open_visit(
        closed_at="2026-12-01T09:00:00.000000+00:00",
        closed_by="sup1",
        summary={"expected": 60, "arrived": 55, "no_show": 5},
    )
    data.update(changes)
    return data


def test_a_planned_format_1_visit_has_no_findings():
    assert record_findings("visit", planned_visit(), state="planned", on=ON) == []
    withdrawn = {**planned_visit(), "withdrawal": {"reason": "rain"}}
    assert record_findings("visit", withdrawn, state="withdrawn", on=ON) == []


def test_an_open_and_a_closed_format_2_visit_have_no_findings():
    assert record_findings("visit", open_visit(walk_in_quota=40), state="open", on=ON) == []
    assert record_findings("visit", closed_visit(), state="closed", on=ON) == []
    corrected = closed_visit(correction={"reason": "wrong count", "by": "sup1", "at": AT})
    assert record_findings("visit", corrected, state="closed", on=ON) == []


def test_a_closed_visit_names_who_closed_it():
    data = closed_visit()
    del data["closed_by"]
    assert fields_of(record_findings("visit", data, state="closed", on=ON)) == {"closed_by"}
    no_summary = closed_visit(summary="fine")
    assert fields_of(record_findings("visit", no_summary, state="closed", on=ON)) == {"summary"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"walk_in_quota": "40"}, "walk_in_quota"),
        ({"walk_in_quota": -1}, "walk_in_quota"),
        ({"opened_by": None}, "opened_by"),
        ({"opened_at": 1}, "opened_at"),
        ({"correction": {"reason": "x", "by": "sup1"}}, "correction.at"),
    ],
)
def test_a_bad_format_2_visit_field_is_named(changes, field):
    assert field in fields_of(record_findings("visit", open_visit(**changes), state="open", on=ON))


def test_a_visit_state_its_format_does_not_have_is_a_finding():
    assert fields_of(record_findings("visit", planned_visit(), state="closed", on=ON)) == {"state"}
    assert fields_of(record_findings("visit", open_visit(), state="planned", on=ON)) == {"state"}


# --- roster entries ---------------------------------------------------------------------------


def expected() -> dict[str, Any]:
    return {
        "name": "RINA WATI",
        "nik": "3175014509990001",
        "birth_date": "1999-09-05",
        "application_type": "new",
        "phone": None,
        "booking_code": None,
        "booking_date": None,
        "session": None,
        "source": "coordinator",
        "row": 2,
        "warnings": [],
    }


def arrived(**changes: Any) -> dict[str, Any]:
    data = {
        **expected(),
        "format": 2,
        "arrived_at": AT,
        "applicant_id": "0190a1b2-0000-7000-8000-0000000000aa",
    }
    data.update(changes)
    return data


def test_roster_entries_of_both_formats_have_no_findings():
    assert record_findings("roster", expected(), state="expected", on=ON) == []
    assert record_findings("roster", arrived(), state="arrived", on=ON) == []
    no_show = {**expected(), "format": 2, "no_show_at": AT}
    assert record_findings("roster", no_show, state="no_show", on=ON) == []
    assert record_findings("roster", arrived(), state="withdrawn", on=ON) == []


def test_an_arrival_names_its_applicant_and_a_no_show_its_time():
    no_applicant = arrived()
    del no_applicant["applicant_id"]
    assert fields_of(record_findings("roster", no_applicant, state="arrived", on=ON)) == {
        "applicant_id"
    }
    assert fields_of(record_findings("roster", arrived(arrived_at=5), state="arrived", on=ON)) == {
        "arrived_at"
    }
    no_time = {**expected(), "format": 2}
    assert fields_of(record_findings("roster", no_time, state="no_show", on=ON)) == {"no_show_at"}


def test_an_arrival_in_format_1_is_a_finding():
    assert fields_of(record_findings("roster", expected(), state="arrived", on=ON)) == {"state"}


# --- kits and queues --------------------------------------------------------------------------


def kit() -> dict[str, Any]:
    return {
        "format": 1,
        "items": [
            {
                "id": "printer",
                "label_id": "Printer dan kertas",
                "label_en": "Printer and paper",
                "group": "equipment",
                "ticked": True,
                "by": "off2",
                "at": AT,
            },
            {
                "id": "reading_glasses",
                "label_id": "Kacamata baca",
                "label_en": "Reading glasses",
                "group": "loan",
                "ticked": False,
                "by": None,
                "at": None,
            },
        ],
    }


def queue(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"format": 1, "last": {"A": 12, "P": 0}, "walk_ins": 2}
    data.update(changes)
    return data


def test_a_kit_checklist_and_queue_counters_have_no_findings():
    assert record_findings("kit", kit(), state="packing", on=ON) == []
    assert record_findings("queue", queue(), state="open", on=ON) == []
    packed = kit()
    packed["items"][1].update(ticked=True, by="off2", at=AT)
    assert record_findings("kit", packed, state="packed", on=ON) == []


def test_a_kit_packed_with_an_item_not_ticked_is_a_finding():
    assert fields_of(record_findings("kit", kit(), state="packed", on=ON)) == {"state"}


@pytest.mark.parametrize(
    ("kind", "state"), [("kit", "open"), ("kit", "closed"), ("queue", "closed")]
)
def test_a_kit_or_queue_in_a_state_its_format_lacks_is_a_finding(kind, state):
    data = kit() if kind == "kit" else queue()
    assert fields_of(record_findings(kind, data, state=state, on=ON)) == {"state"}


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda d: d["items"][0].update(ticked="yes"), "items[0].ticked"),
        (lambda d: d["items"][0].update(by=None), "items[0].by"),
        (lambda d: d["items"][1].update(group="food"), "items[1].group"),
        (lambda d: d["items"].append("sandals"), "items[2]"),
        (lambda d: d.update(items={"printer": True}), "items"),
        (lambda d: d["items"][1].pop("label_en"), "items[1].label_en"),
    ],
)
def test_a_bad_kit_item_is_named(change, field):
    data = kit()
    change(data)
    assert field in fields_of(record_findings("kit", data, on=ON))


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"last": {"A": "12", "P": 0}}, "last.A"),
        ({"last": {"A": 12, "P": -1}}, "last.P"),
        ({"last": {"A": 12}}, "last.P"),
        ({"last": {"A": 12, "P": 0, "Z": 1}}, "last.Z"),
        ({"last": [12, 0]}, "last"),
        ({"walk_ins": "2"}, "walk_ins"),
        ({"walk_ins": 2.0}, "walk_ins"),
    ],
)
def test_bad_queue_counters_are_named(changes, field):
    assert field in fields_of(record_findings("queue", queue(**changes), on=ON))
