"""Rupiah formatting: the Indonesian way receipts and officers write amounts."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldkit.domain.money import format_rupiah

# Amounts from DOMAIN.md's fee table and the seed ("Rp350 ribu", "satu juta"), written as an
# Indonesian receipt writes them.
CASES = [
    (0, "Rp0"),
    (1, "Rp1"),
    (999, "Rp999"),
    (1_000, "Rp1.000"),
    (350_000, "Rp350.000"),  # ordinary passport, 5 years
    (500_000, "Rp500.000"),  # fine for a damaged passport
    (950_000, "Rp950.000"),  # electronic passport, 10 years (PP 45/2024)
    (1_000_000, "Rp1.000.000"),  # fine for a lost passport, same-day service
    (2_950_000, "Rp2.950.000"),
    (12_345_678_901, "Rp12.345.678.901"),
    (-5_000, "-Rp5.000"),
    (-1, "-Rp1"),
]


@pytest.mark.parametrize(("amount", "written"), CASES)
def test_format_rupiah(amount, written):
    assert format_rupiah(amount) == written


@pytest.mark.parametrize("not_money", [350000.0, 0.5, True, False, "350000", None])
def test_only_int_is_money(not_money):
    with pytest.raises(TypeError):
        format_rupiah(not_money)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_formatted_amount_reads_back(amount):
    written = format_rupiah(amount)
    # The grouping itself: a prefix, then 1–3 digits, then groups of exactly three.
    assert re.fullmatch(r"-?Rp[0-9]{1,3}(\.[0-9]{3})*", written)
    assert (amount < 0) == written.startswith("-")
    digits = written.removeprefix("-").removeprefix("Rp").replace(".", "")
    assert int(digits) * (-1 if amount < 0 else 1) == amount
