"""The applicant form's model and the sync line's words, without a terminal."""

from __future__ import annotations

from datetime import UTC, date, datetime

from fieldkit.domain.findings import Message
from fieldkit.domain.nik import Sex, build_nik
from fieldkit.tui.screens import form
from fieldkit.tui.syncbar import SyncView, age, describe

ON = date(2026, 12, 1)
BORN = date(1990, 4, 12)
STORED = {
    "name": "DEWI LESTARI",
    "nik": build_nik("327501", BORN, Sex.FEMALE, 17),
    "birth_date": BORN.isoformat(),
    "married": None,
    "validity_years": None,
    "documents": {"ktp": "seen"},
    "payment": {"billing_code": "820261201000123", "paid": False},
    "notes": "",
}


def texts(**changed: str) -> dict[str, str]:
    return form.stored_texts(STORED) | changed


def test_an_untouched_form_changes_nothing() -> None:
    assert form.changes(STORED, texts(), False, {"ktp": "seen"}) == {}


def test_what_was_typed_becomes_the_change_the_service_takes() -> None:
    changed = form.changes(
        STORED,
        texts(married="ya", validity_years="10", notes=" datang sendiri ", ntpn="0A1B2C3D4E5F6G7H"),
        True,
        {"ktp": "seen", "kk": "missing"},
    )
    assert changed == {
        "married": True,
        "validity_years": 10,
        "notes": "datang sendiri",
        "payment": {"ntpn": "0A1B2C3D4E5F6G7H", "paid": True},
        "documents": {"kk": "missing"},
    }


def test_a_cleared_box_clears_the_field_and_an_unmarked_seen_document_becomes_missing() -> None:
    changed = form.changes(STORED, texts(name=""), False, {})
    assert changed == {"name": None, "documents": {"ktp": "missing"}}


def test_the_form_suggests_sex_from_the_nik_and_the_longest_validity() -> None:
    suggested = form.suggestions(STORED, ON, booked=True)
    assert suggested == {"sex": "F", "validity_years": "10", "product": "ordinary"}
    child = {**STORED, "birth_date": "2015-01-01"}
    assert form.suggestions(child, ON, booked=False)["validity_years"] == "5"
    assert form.suggested_marks(STORED, booked=True) == {"online_registration_proof": "seen"}
    assert form.suggested_marks(STORED, booked=False) == {}


def test_the_sync_line_says_where_things_are() -> None:
    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert age("2026-12-01T09:30:00+00:00", "id", now) == "30 mnt"
    assert age("2026-12-01T07:00:00+00:00", "en", now) == "3 h"
    assert age(None, "en", now) == "never"
    line = describe(SyncView(enrolled=True, online=False, waiting=4), "en")
    assert "offline" in line and "4 waiting" in line
    problem = describe(
        SyncView(enrolled=True, online=True, problems=(Message("ditolak", "refused"),)), "id"
    )
    assert "masalah: ditolak" in problem
