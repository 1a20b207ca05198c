"""The kit checklist as data, and the arithmetic of a visit day's summary (pure domain)."""

import json

import pytest

from fieldkit.domain.kit import (
    KitGroup,
    apply_ticks,
    checklist_lines,
    default_kit_items,
    new_checklist,
    parse_kit_items,
    parse_kit_text,
)
from fieldkit.domain.summary import summarize, summary_lines

# -- the kit --------------------------------------------------------------------------------------


def test_the_packaged_kit_has_the_equipment_and_what_the_office_lends():
    items = {item.id: item for item in default_kit_items()}
    assert {
        "laptops",
        "biometric_station",
        "barcode_scanner",
        "printer",
        "modem",
        "power",
    } <= {i for i, item in items.items() if item.group is KitGroup.EQUIPMENT}
    loans = {i for i, item in items.items() if item.group is KitGroup.LOAN}
    assert loans == {"reading_glasses", "slip_on_sandals"}
    assert items["reading_glasses"].label.id == "Kacamata baca untuk pemohon"
    assert items["slip_on_sandals"].label.en == "Slip-on sandals for applicants"


def item(item_id="torch", group="equipment", **changes):
    return {"id": item_id, "label_id": "Senter", "label_en": "Torch", "group": group, **changes}


def test_an_office_file_of_its_own_items_parses():
    checked = parse_kit_items({"format": 1, "items": [item(), item("umbrella", "loan")]})
    assert checked.ok
    assert [(i.id, i.group) for i in checked.value] == [
        ("torch", KitGroup.EQUIPMENT),
        ("umbrella", KitGroup.LOAN),
    ]


@pytest.mark.parametrize(
    ("document", "code", "field"),
    [
        ([item()], "kit.file", ""),
        ({"format": 2, "items": [item()]}, "kit.format", "format"),
        ({"format": 1, "items": []}, "kit.items", "items"),
        ({"format": 1, "items": [item(), item()]}, "kit.item", "items[1].id"),
        ({"format": 1, "items": [item("Torch!")]}, "kit.item", "items[0].id"),
        ({"format": 1, "items": [item(group="spare")]}, "kit.item", "items[0].group"),
        ({"format": 1, "items": [item(label_en="")]}, "kit.item", "items[0].label_en"),
        ({"format": 1, "items": [item(colour="red")]}, "kit.item", "items[0]"),
        ({"format": 1, "items": [{"id": "torch"}]}, "kit.item", "items[0]"),
        ({"format": 1, "items": ["torch"]}, "kit.item", "items[0]"),
        ({"format": 1, "items": [item()], "extra": 1}, "kit.file", "extra"),
    ],
)
def test_a_bad_items_document_is_refused_with_where_and_why(document, code, field):
    checked = parse_kit_items(document)
    assert not checked.ok
    assert (code, field) in [(f.code, f.field) for f in checked.errors]
    assert all(f.message.id and f.message.en for f in checked.errors)


def test_an_items_file_that_is_not_json_is_a_finding():
    checked = parse_kit_text("{not json")
    assert [f.code for f in checked.errors] == ["kit.json"]


def test_the_packaged_file_is_valid_json_of_the_format():
    from importlib import resources

    text = resources.files("fieldkit.domain").joinpath("data/kit.json").read_text("utf-8")
    assert parse_kit_items(json.loads(text)).ok


def test_a_new_checklist_has_every_item_unticked():
    data = new_checklist(default_kit_items())
    assert data["format"] == 1
    assert all(
        line["ticked"] is False and line["by"] is None and line["at"] is None
        for line in data["items"]
    )
    assert [line.item.id for line in checklist_lines(data)] == [i.id for i in default_kit_items()]


def test_ticking_stores_who_and_when_and_leaves_the_rest():
    data = new_checklist(default_kit_items())
    ticked = apply_ticks(data, tick=["printer", "reading_glasses"], by="off2", at="T1").value
    lines = {line.item.id: line for line in checklist_lines(ticked)}
    assert (lines["printer"].ticked, lines["printer"].by, lines["printer"].at) == (
        True,
        "off2",
        "T1",
    )
    assert lines["reading_glasses"].ticked
    assert not lines["modem"].ticked and lines["modem"].by is None


def test_ticking_again_keeps_the_first_who_and_when_and_unticking_records_who():
    data = new_checklist(default_kit_items())
    once = apply_ticks(data, tick=["modem"], by="off2", at="T1").value
    again = apply_ticks(once, tick=["modem"], by="sup1", at="T2").value
    assert again == once
    off = apply_ticks(again, untick=["modem"], by="sup1", at="T3").value
    line = next(line for line in checklist_lines(off) if line.item.id == "modem")
    assert (line.ticked, line.by, line.at) == (False, "sup1", "T3")


def test_an_unknown_item_or_one_ticked_and_unticked_changes_nothing():
    data = new_checklist(default_kit_items())
    unknown = apply_ticks(data, tick=["printer", "generator"], by="off2", at="T1")
    assert unknown.value is None
    assert [(f.code, f.field) for f in unknown.errors] == [("kit.unknown_item", "generator")]
    assert "printer" in unknown.errors[0].message.en  # the items there are, to choose from
    both = apply_ticks(data, tick=["modem"], untick=["modem"], by="off2", at="T1")
    assert [f.code for f in both.errors] == ["kit.tick_and_untick"]


# -- the summary ----------------------------------------------------------------------------------

VISIT = {"coordinator_name": "BUDI SANTOSO", "coordinator_phone": "+6281234567890"}


def applicant(
    state,
    *,
    name="SITI AMINAH",
    fee=350_000,
    paid=None,
    walk_in=None,
    documents=None,
    decision=None,
):
    payment = None
    if paid is not None:
        payment = {"billing_code": "820000000000001", "amount": paid[0], "paid": paid[1]}
    return {
        "format": 2,
        "name": name,
        "fee": {"regulation": "PP 45/2024", "total": fee} if fee is not None else None,
        "walk_in": walk_in,
        "documents": documents or {},
        "payment": payment,
        "decision": decision,
    }


def test_an_empty_day_sums_to_zero():
    summary = summarize(VISIT, [], [])
    assert (summary.expected, summary.arrived, summary.no_shows, summary.walk_ins) == (0, 0, 0, 0)
    assert summary.decisions == {
        "accepted": 0,
        "pending_documents": 0,
        "rejected": 0,
        "referred": 0,
    }
    assert (summary.fees_expected, summary.fees_paid, summary.undecided) == (0, 0, ())


def test_roster_counts_still_expected_entries_as_would_be_no_shows():
    roster = [
        ("arrived", {}),
        ("arrived", {}),
        ("expected", {}),
        ("no_show", {}),
        ("withdrawn", {}),  # HQ took it back: not expected at all
    ]
    summary = summarize(VISIT, roster, [])
    assert (summary.expected, summary.arrived, summary.no_shows, summary.still_expected) == (
        4,
        2,
        2,
        1,
    )


def test_decisions_by_kind_undecided_walk_ins_and_captured():
    applicants = [
        ("a1", "accepted", applicant("accepted")),
        ("a2", "accepted", applicant("accepted", walk_in={"group": "elderly", "reason": "72"})),
        ("a3", "rejected", applicant("rejected")),
        ("a4", "referred", applicant("referred")),
        ("a5", "waiting", applicant("waiting")),
        ("a6", "at_counter", applicant("at_counter", walk_in={"group": "simpatik_quota"})),
        ("a7", "captured", {"name": "X", "fee": {"regulation": "r", "total": 650_000}}),
    ]
    summary = summarize(VISIT, [], applicants)
    assert summary.decisions == {
        "accepted": 2,
        "pending_documents": 0,
        "rejected": 1,
        "referred": 1,
    }
    assert summary.undecided == ("a5", "a6")
    assert summary.walk_ins == 2
    assert summary.walk_ins_by_group["elderly"] == 1
    assert summary.walk_ins_by_group["simpatik_quota"] == 1
    assert summary.captured == 1


def test_fees_expected_are_the_accepted_and_pending_quotes_and_paid_is_what_was_paid():
    applicants = [
        ("a1", "accepted", applicant("accepted", fee=350_000, paid=(350_000, True))),
        ("a2", "accepted", applicant("accepted", fee=650_000, paid=(650_000, False))),
        ("a3", "pending_documents", applicant("pending_documents", fee=950_000)),
        ("a4", "rejected", applicant("rejected", fee=350_000)),  # pays nothing
        ("a5", "referred", applicant("referred", fee=1_350_000)),  # for the supervisor
        ("a6", "waiting", applicant("waiting", fee=350_000)),
        ("a7", "accepted", applicant("accepted", fee=None)),  # no quote: adds nothing
        # A payment marked paid counts whatever the decision.
        ("a8", "rejected", applicant("rejected", fee=350_000, paid=(350_000, True))),
    ]
    summary = summarize(VISIT, [], applicants)
    assert summary.fees_expected == 350_000 + 650_000 + 950_000
    assert summary.fees_paid == 350_000 + 350_000
    assert summary.payments_paid == 2


def test_missing_documents_per_applicant_with_the_due_date_and_the_coordinator():
    pending = {
        "kind": "pending_documents",
        "documents": ["kk", "birth_certificate"],
        "due": "2026-12-08",
    }
    applicants = [
        (
            "a1",
            "pending_documents",
            applicant(
                "pending_documents",
                name="SITI AMINAH",
                documents={"ktp": "seen", "kk": "missing"},
                decision=pending,
            ),
        ),
        ("a2", "accepted", applicant("accepted", documents={"ktp": "seen", "kk": "seen"})),
        ("a3", "at_counter", applicant("at_counter", name="DEWI", documents={"ktp": "missing"})),
    ]
    summary = summarize(VISIT, [], applicants)
    assert [m.as_json() for m in summary.missing_documents] == [
        {
            "applicant_id": "a1",
            "name": "SITI AMINAH",
            "documents": ["kk", "birth_certificate"],
            "due": "2026-12-08",
        },
        {"applicant_id": "a3", "name": "DEWI", "documents": ["ktp"], "due": None},
    ]
    assert (summary.coordinator_name, summary.coordinator_phone) == (
        "BUDI SANTOSO",
        "+6281234567890",
    )


def test_the_stored_counts_hold_no_names_and_the_lines_read_in_both_languages():
    applicants = [
        ("a1", "pending_documents", applicant("pending_documents", documents={"kk": "missing"})),
    ]
    summary = summarize(VISIT, [("arrived", {})], applicants, visit_id="v1")
    counts = summary.counts()
    assert "SITI" not in json.dumps(counts)
    assert counts["missing_documents"] == 1 and counts["decisions"]["pending_documents"] == 1
    lines = summary_lines(summary)
    english = "\n".join(line.en for line in lines)
    indonesian = "\n".join(line.id for line in lines)
    assert "Family card" in english and "Kartu Keluarga" in indonesian
    assert "BUDI SANTOSO +6281234567890" in english
    assert "Rp350.000" in english  # a pending applicant's quote is expected
    assert summary.as_json()["visit_id"] == "v1"
