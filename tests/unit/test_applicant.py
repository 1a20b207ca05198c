"""One applicant object checked against every rule at once."""

from datetime import date

import pytest

from fieldkit.domain.applicant import FIELDS, check_applicant
from fieldkit.domain.synth import synthetic_applicants

ON = date(2026, 11, 28)


def codes(checked):
    return sorted(f.code for f in checked.findings)


@pytest.fixture
def person():
    return next(a for a in synthetic_applicants(50, 3) if a.application_type == "new").as_json()


def test_a_synthetic_applicant_passes_and_gets_its_fee(person):
    checked = check_applicant(person, on=ON, visit_kind="eazy")
    assert checked.ok, checked.findings
    value = checked.value
    assert {k: value[k] for k in FIELDS} == person
    expected = {("ordinary", 5): 350_000, ("ordinary", 10): 650_000}.get(
        (person["product"], person["validity_years"]),
        {5: 650_000, 10: 950_000}[person["validity_years"]],
    )
    assert value["fee"]["total"] == expected
    assert value["fee"]["regulation"] == "PP 45/2024"


def test_input_is_normalised(person):
    person = {
        **person,
        "name": "  siti   rahayu ",
        "phone": "0812-3456-7890",
        "booking_code": "ab12-cd34",
    }
    value = check_applicant(person, on=ON).value
    assert value["name"] == "SITI RAHAYU"
    assert value["phone"] == "+6281234567890"
    assert value["booking_code"] == "AB12CD34"


def test_every_problem_is_reported_with_its_field(person):
    broken = {
        **person,
        "nik": "12",
        "phone": "0212345678",
        "married": "yes",
        "birth_date": "01-02-1990",
        "nickname": "X",
    }
    del broken["sex"]
    checked = check_applicant(broken, on=ON)
    assert not checked.ok
    fields = {f.code: f.field for f in checked.errors}
    assert fields == {
        "applicant.unknown_field": "nickname",
        "applicant.missing": "sex",
        "applicant.date": "birth_date",
        "nik.length": "nik",
        "phone.not_mobile": "phone",
        "applicant.married": "married",
    }


def test_lost_passport_is_refused_on_a_mobile_visit_but_not_at_the_office(person):
    lost = {**person, "application_type": "lost"}
    at_visit = check_applicant(lost, on=ON, visit_kind="eazy")
    at_office = check_applicant(lost, on=ON, visit_kind="office")
    assert codes(at_visit) == ["application.office_only"]
    assert at_office.ok
    assert at_office.value["fee"]["total"] > 1_000_000  # the fine for a lost passport


def test_a_minor_cannot_have_ten_years(person):
    child = {**person, "birth_date": "2015-03-01", "validity_years": 10, "married": False}
    child["nik"] = (
        child["nik"][:6] + ("41" if child["sex"] == "F" else "01") + "0315" + child["nik"][12:]
    )
    checked = check_applicant(child, on=ON)
    assert "product.ten_years_not_allowed" in codes(checked)


def test_a_nik_that_disagrees_with_the_stated_birth_date_is_only_a_warning(person):
    other = {**person, "birth_date": "1960-01-01"}
    checked = check_applicant(other, on=ON)
    assert checked.ok
    assert "nik.birth_date_mismatch" in codes(checked)


@pytest.mark.parametrize("raw", [None, [], "text", 5, {"name": None}, {"validity_years": 0}])
def test_malformed_input_gives_errors_not_exceptions(raw):
    checked = check_applicant(raw, on=ON)
    assert not checked.ok
    assert checked.errors
