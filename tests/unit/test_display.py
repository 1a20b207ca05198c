"""The words for stored codes (fieldkit.domain.display) and ``fieldkit applicant show``'s lines."""

from __future__ import annotations

from datetime import date

import pytest

from fieldkit.cli.applicant import describe
from fieldkit.domain.applicant import LABELS, check_applicant
from fieldkit.domain.applications import ApplicationType, Document
from fieldkit.domain.display import (
    APPLICATION_TYPE_WORDS,
    LABELLED_FIELDS,
    PASSPORT_KIND_WORDS,
    RECORD_FIELD_LABELS,
    SEX_WORDS,
    value_label,
)
from fieldkit.domain.nik import Sex
from fieldkit.domain.products import VALIDITY_YEARS, PassportKind
from fieldkit.domain.synth import synthetic_applicants

ON = date(2026, 11, 28)
CODED = [
    ("application_type", ApplicationType),
    ("product", PassportKind),
    ("sex", Sex),
    ("documents_seen", Document),
]


@pytest.mark.parametrize(("field", "enum"), CODED)
def test_every_code_a_field_takes_has_words_in_both_languages(field, enum):
    for member in enum:
        stored = [member.value] if field == "documents_seen" else member.value
        words = value_label(field, stored)
        assert words is not None, member
        assert words.id.strip() and words.en.strip(), member


def test_the_word_tables_cover_their_enums_exactly():
    assert set(APPLICATION_TYPE_WORDS) == set(ApplicationType)
    assert set(PASSPORT_KIND_WORDS) == set(PassportKind)
    assert set(SEX_WORDS) == set(Sex)


def test_indonesian_words_are_not_the_english_codes():
    for field, enum in CODED:
        for member in enum:
            stored = [member.value] if field == "documents_seen" else member.value
            assert value_label(field, stored).id.lower() != member.value  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("field", "value", "id_words", "en_words"),
    [
        ("application_type", "new", "baru", "new"),
        (
            "application_type",
            "expired",
            "penggantian (habis berlaku atau halaman penuh)",
            "replacement (expired or full)",
        ),
        ("application_type", "lost", "penggantian (paspor hilang)", "replacement (lost passport)"),
        (
            "application_type",
            "damaged",
            "penggantian (paspor rusak)",
            "replacement (damaged passport)",
        ),
        ("product", "ordinary", "biasa", "ordinary"),
        ("product", "electronic", "elektronik", "electronic"),
        ("sex", "M", "laki-laki", "male"),
        ("sex", "F", "perempuan", "female"),
        ("married", True, "sudah menikah", "married"),
        ("married", False, "belum menikah", "not married"),
        ("validity_years", 5, "5 tahun", "5 years"),
        ("validity_years", 10, "10 tahun", "10 years"),
        (
            "documents_seen",
            ["ktp", "kk"],
            "KTP elektronik (e-KTP), Kartu Keluarga (KK)",
            "Electronic identity card (e-KTP), Family card (Kartu Keluarga, KK)",
        ),
    ],
)
def test_the_words_for_each_value(field, value, id_words, en_words):
    words = value_label(field, value)
    assert words is not None
    assert (words.text("id"), words.text("en")) == (id_words, en_words)


def test_every_validity_offered_has_words():
    assert all(value_label("validity_years", years) is not None for years in VALIDITY_YEARS)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("application_type", "renewal"),
        ("application_type", None),
        ("application_type", ["new"]),
        ("application_type", {"new": 1}),
        ("product", "ORDINARY"),
        ("sex", "m"),
        ("sex", 1),
        ("married", 1),
        ("married", "true"),
        ("validity_years", 7),
        ("validity_years", True),
        ("validity_years", "5"),
        ("documents_seen", ["ktp", "passport_photo"]),
        ("documents_seen", "ktp"),
        ("name", "SITI AMINAH"),
        ("no_such_field", "new"),
    ],
)
def test_unknown_fields_and_values_have_no_words(field, value):
    assert value_label(field, value) is None


def test_the_labelled_fields_are_applicant_record_fields():
    assert LABELLED_FIELDS.issubset(set(LABELS) | set(RECORD_FIELD_LABELS))


def _captured(application_type: str) -> dict[str, object]:
    """A synthetic applicant as the vault stores it after capture (service.add_applicants)."""
    person = next(a for a in synthetic_applicants(200, 7) if a.application_type == "expired")
    raw = {**person.as_json(), "application_type": application_type}
    checked = check_applicant(raw, on=ON)
    assert checked.ok, checked.findings
    return {
        **checked.value,  # type: ignore[dict-item]
        "documents_seen": ["old_passport", "ktp"],
        "payment": None,
        "biometrics_ref": None,
        "decision": None,
        "notes": "KK asli sudah dicek",
    }


@pytest.mark.parametrize("application_type", [t.value for t in ApplicationType])
def test_applicant_show_in_indonesian_has_no_english_codes(application_type):
    data = _captured(application_type)
    lines = dict(describe(data, "id"))
    assert lines["Jenis permohonan"] == APPLICATION_TYPE_WORDS[ApplicationType(application_type)].id
    assert lines["Jenis kelamin"] in ("laki-laki", "perempuan")
    assert lines["Jenis paspor"] in ("biasa", "elektronik")
    assert lines["Masa berlaku"] in ("5 tahun", "10 tahun")
    assert lines["Status menikah"] in ("sudah menikah", "belum menikah")
    assert lines["Dokumen yang diperiksa"] == "Paspor lama, KTP elektronik (e-KTP)"
    assert lines["Catatan"] == "KK asli sudah dicek"
    assert lines["Biaya"].startswith("Rp")
    # Every label is Indonesian, and no value is a stored English code.
    assert set(lines) <= {m.id for m in (*LABELS.values(), *RECORD_FIELD_LABELS.values())}
    codes = {m.value for _, enum in CODED for m in enum} | {"true", "false"}
    assert not codes & {value.lower() for value in lines.values()}


def test_applicant_show_in_english():
    data = _captured("new")
    lines = dict(describe(data, "en"))
    assert lines["Application type"] == "new"
    assert lines["Sex"] in ("male", "female")
    assert lines["Passport kind"] in ("ordinary", "electronic")
    assert lines["Fee"].startswith("Rp")


def test_a_value_the_domain_does_not_know_is_shown_as_stored():
    data = {**_captured("new"), "application_type": "renewal", "extra": "x"}
    lines = dict(describe(data, "id"))
    assert lines["Jenis permohonan"] == "renewal"
    assert lines["extra"] == "x"
