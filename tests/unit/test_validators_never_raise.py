"""Every validator, fed arbitrary input, returns findings and never raises."""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.domain.calendar import check_visit_plan
from fieldkit.domain.identifiers import (
    check_billing_code,
    check_booking_code,
    check_person_name,
    check_phone,
)
from fieldkit.domain.kk import parse_kk
from fieldkit.domain.mrz import parse_td3
from fieldkit.domain.nik import parse_nik
from fieldkit.domain.products import check_product

TODAY = date(2026, 11, 28)

# Text that looks almost right is where parsers break: digits of every script, separators,
# fillers, and the lengths the rules care about.
near_miss = st.one_of(
    st.text(),
    st.text(alphabet="0123456789 .-٠١٢٣٤٥٦٧٨٩０１２", min_size=14, max_size=18),
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<abc ", min_size=40, max_size=48),
)
anything = st.one_of(
    near_miss, st.none(), st.integers(), st.floats(), st.booleans(), st.lists(st.text())
)

VALIDATORS = [
    lambda raw: parse_nik(raw, today=TODAY),
    lambda raw: parse_kk(raw, today=TODAY),
    check_person_name,
    check_phone,
    check_billing_code,
    check_booking_code,
]


@settings(max_examples=300)
@given(raw=anything)
def test_single_value_validators_return_structured_results(raw):
    for validate in VALIDATORS:
        checked = validate(raw)
        assert checked.ok == (checked.value is not None and not checked.errors)
        if not checked.ok:
            assert checked.errors, "an invalid result must say why"
        for finding in checked.findings:
            assert finding.code and finding.field
            assert finding.message.id and finding.message.en


@settings(max_examples=200)
@given(line1=near_miss, line2=near_miss)
def test_mrz_parser_never_raises(line1, line2):
    checked = parse_td3(line1, line2)
    assert checked.ok or checked.errors


@settings(max_examples=200)
@given(kind=anything, years=anything)
def test_product_check_never_raises(kind, years):
    checked = check_product(kind, years, birth_date=date(1990, 1, 1), married=False, on=TODAY)
    assert checked.ok or checked.errors


@settings(max_examples=200)
@given(kind=anything, on=anything, session=anything, site=anything, name=anything, phone=anything)
def test_visit_plan_check_never_raises(kind, on, session, site, name, phone):
    checked = check_visit_plan(kind, on, session, site, name, phone)
    assert checked.ok or checked.errors
