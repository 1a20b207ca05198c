"""Passport products: kinds, validity, and the 10-year rule of Permenkumham 18/2022."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain.products import PassportKind, Product, check_product

ADULT_BORN = date(1990, 6, 1)
ON = date(2025, 1, 15)


def codes(checked):
    return [f.code for f in checked.findings]


@pytest.mark.parametrize("years", [5, 10])
@pytest.mark.parametrize("kind", list(PassportKind))
def test_every_kind_and_validity_for_an_adult(kind, years):
    checked = check_product(kind.value, years, birth_date=ADULT_BORN, married=False, on=ON)
    assert checked.ok
    assert checked.value == Product(kind, years)
    # The fee-schedule code the fee data uses (passport.ordinary.5 ...).
    assert checked.value.item == f"passport.{kind.value}.{years}"


@pytest.mark.parametrize(
    ("raw_kind", "raw_years", "expected"),
    [
        ("ordinary", "5", Product(PassportKind.ORDINARY, 5)),
        (" Electronic ", " 10 ", Product(PassportKind.ELECTRONIC, 10)),
        ("ORDINARY", 10, Product(PassportKind.ORDINARY, 10)),
    ],
)
def test_words_as_typed_on_the_command_line(raw_kind, raw_years, expected):
    checked = check_product(raw_kind, raw_years, birth_date=ADULT_BORN, married=False, on=ON)
    assert checked.value == expected


# The rule: 10 years only for applicants aged 17+ or married. Birth dates are real-format
# examples around the boundary; "on" is the day the application is made.
TEN_YEAR_CASES = [
    # birth date, married, on, allowed, why
    (date(2008, 3, 15), False, date(2025, 3, 14), False, "the day before the 17th birthday"),
    (date(2008, 3, 15), False, date(2025, 3, 15), True, "on the 17th birthday"),
    (date(2008, 3, 15), True, date(2025, 3, 14), True, "married at 16"),
    (date(2009, 1, 20), True, date(2025, 7, 1), True, "married 16-year-old"),
    (date(2008, 2, 29), False, date(2025, 2, 28), False, "leap-day birth, 28 Feb of year 17"),
    (date(2008, 2, 29), False, date(2025, 3, 1), True, "leap-day birth, 1 Mar of year 17"),
    (date(2020, 5, 5), False, date(2025, 5, 5), False, "five-year-old"),
]


@pytest.mark.parametrize(("born", "married", "on", "allowed", "why"), TEN_YEAR_CASES)
def test_ten_years_only_for_17_or_married(born, married, on, allowed, why):
    checked = check_product("electronic", 10, birth_date=born, married=married, on=on)
    assert checked.ok is allowed, why
    if not allowed:
        assert codes(checked) == ["product.ten_years_not_allowed"]
        (finding,) = checked.findings
        for text in (finding.message.id, finding.message.en):
            assert "Permenkumham 18/2022" in text
            assert "17" in text
    # Five years is open to everyone.
    assert check_product("electronic", 5, birth_date=born, married=married, on=on).ok


@pytest.mark.parametrize(
    ("kind", "years", "expected"),
    [
        ("biasa", 5, ["product.unknown_kind"]),
        ("", 5, ["product.unknown_kind"]),
        (None, 5, ["product.unknown_kind"]),
        ("ordinary", 7, ["product.years"]),
        ("ordinary", 0, ["product.years"]),
        ("ordinary", True, ["product.years"]),  # a bool is not a number of years
        ("ordinary", 10.0, ["product.years"]),
        ("ordinary", "٥", ["product.years"]),  # Arabic-Indic five: not typed on a KTP form
        ("ordinary", "1_0", ["product.years"]),
        ("ordinary", None, ["product.years"]),
        ("diplomatic", "ten", ["product.unknown_kind", "product.years"]),  # both at once
    ],
)
def test_bad_products(kind, years, expected):
    checked = check_product(kind, years, birth_date=ADULT_BORN, married=False, on=ON)
    assert not checked.ok
    assert checked.value is None
    assert codes(checked) == expected


def test_labels_name_kind_and_years():
    product = Product(PassportKind.ORDINARY, 10)
    assert "10 tahun" in product.label.id
    assert "10 years" in product.label.en
    assert product.label.id.startswith(PassportKind.ORDINARY.label.id)


@given(
    kind=st.one_of(st.none(), st.text(), st.sampled_from([k.value for k in PassportKind])),
    years=st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text()),
    born=st.dates(),
    married=st.booleans(),
    on=st.dates(),
)
def test_check_product_never_raises(kind, years, born, married, on):
    checked = check_product(kind, years, birth_date=born, married=married, on=on)
    assert checked.ok == (checked.value is not None)


@given(
    born=st.dates(min_value=date(1950, 1, 1), max_value=date(2030, 12, 31)),
    on=st.dates(min_value=date(1950, 1, 1), max_value=date(2060, 12, 31)),
    married=st.booleans(),
)
def test_ten_year_rule_matches_the_17th_birthday(born, married, on):
    try:
        seventeenth = born.replace(year=born.year + 17)
    except ValueError:  # born 29 February: 17 on 1 March of a common year
        seventeenth = date(born.year + 17, 3, 1)
    checked = check_product("ordinary", 10, birth_date=born, married=married, on=on)
    assert checked.ok is (married or on >= seventeenth)
