"""KK (family card) number: form checks only."""

from datetime import date

import pytest

from fieldkit.domain.kk import EARLIEST_ENTRY, parse_kk

TODAY = date(2026, 11, 28)


def codes(checked):
    return sorted(f.code for f in checked.findings)


@pytest.mark.parametrize(
    ("number", "entered", "district"),
    [
        ("3174071203159001", date(2015, 3, 12), "Kebayoran Baru"),
        ("3273012902089002", date(2008, 2, 29), "Sukasari"),  # leap day
        ("6501010101909003", date(1990, 1, 1), "Tanjung Palas"),  # the earliest plausible day
        ("6473011506109004", date(2010, 6, 15), "Tarakan Barat"),  # pre-2012 Tarakan code
        ("9101012811269005", date(2026, 11, 28), "Merauke"),  # entered today, old Papua code
    ],
)
def test_valid_kk_numbers(number, entered, district):
    checked = parse_kk(number, today=TODAY)
    assert checked.ok, codes(checked)
    assert checked.value.entry_date == entered
    assert checked.value.region.district_name == district
    assert checked.value.serial == number[12:]


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("317407120315900", "kk.length"),
        ("31740712031590011", "kk.length"),
        ("3174-0712-0315-900A", "kk.charset"),
        ("9974071203159001", "kk.province_unknown"),
        ("3174073102159001", "kk.entry_date"),  # 31 February
        ("3174074103159001", "kk.entry_date"),  # no +40 in a KK number
        ("3174070013159001", "kk.entry_date"),  # month 13 and day 00
        ("3174072902019001", "kk.entry_date"),  # 29 February 2001
        ("3174071203509001", "kk.entry_date_implausible"),  # 1950
        ("3174073112899001", "kk.entry_date_implausible"),  # 31-12-1989
        ("3174070112269001", "kk.entry_date_implausible"),  # 01-12-2026 is future: 1926
    ],
)
def test_invalid_kk_numbers(number, code):
    checked = parse_kk(number, today=TODAY)
    assert not checked.ok
    assert code in codes(checked)


def test_the_plausibility_boundary_is_the_documented_one():
    day_before = EARLIEST_ENTRY.replace(year=EARLIEST_ENTRY.year - 1, month=12, day=31)
    assert not parse_kk(f"317407{day_before:%d%m%y}9001", today=TODAY).ok
    assert parse_kk(f"317407{EARLIEST_ENTRY:%d%m%y}9001", today=TODAY).ok


def test_unknown_region_below_the_province_is_a_warning():
    checked = parse_kk("3174991203159001", today=TODAY)
    assert checked.ok
    assert codes(checked) == ["kk.region_unknown"]


def test_non_text_is_an_error():
    assert codes(parse_kk(3174071203159001, today=TODAY)) == ["kk.not_text"]
