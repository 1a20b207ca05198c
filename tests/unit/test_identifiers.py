"""Names, mobile numbers, SIMPONI billing codes and booking codes."""

import pytest

from fieldkit.domain.identifiers import (
    check_billing_code,
    check_booking_code,
    check_person_name,
    check_phone,
)


def codes(checked):
    return sorted(f.code for f in checked.findings)


@pytest.mark.parametrize(
    ("raw", "normalised"),
    [
        ("Siti Rahayu", "SITI RAHAYU"),
        ("  budi   santoso ", "BUDI SANTOSO"),
        ("MA'RUF AMIN", "MA'RUF AMIN"),
        ("Moh. Hatta", "MOH. HATTA"),
        ("Maria Br. Siregar", "MARIA BR. SIREGAR"),
        ("Nur Al-Farizi", "NUR AL-FARIZI"),
        ("Sukarno", "SUKARNO"),  # single names are common
        ("I Made Sudarma", "I MADE SUDARMA"),
    ],
)
def test_names_are_normalised_as_on_the_ktp(raw, normalised):
    checked = check_person_name(raw)
    assert checked.ok
    assert checked.value == normalised


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("", "name.empty"),
        ("   ", "name.empty"),
        ("José Ramos", "name.charset"),  # É is not on a KTP: refused, never silently changed
        ("BUDI2", "name.charset"),
        ("SITI_RAHAYU", "name.charset"),
        ("Budi\nSantoso\x00", "name.charset"),
        ("'.-", "name.no_letter"),
        ("A" * 101, "name.too_long"),
        (None, "input.not_text"),
        (42, "input.not_text"),
    ],
)
def test_bad_names(raw, code):
    checked = check_person_name(raw, field="coordinator_name")
    assert codes(checked) == [code]
    assert checked.findings[0].field == "coordinator_name"


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("081234567890", "+6281234567890"),
        ("0812-3456-7890", "+6281234567890"),
        ("0812 3456 7890", "+6281234567890"),
        ("+62 812 3456 7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("(0812) 3456.7890", "+6281234567890"),
        ("0811234567", "+62811234567"),  # 10 digits, the shortest
        ("0895123456789", "+62895123456789"),  # 13 digits, the longest
    ],
)
def test_mobile_numbers_normalise_to_e164(raw, e164):
    checked = check_phone(raw)
    assert checked.ok
    assert checked.value == e164


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("0212345678", "phone.not_mobile"),  # a Jakarta landline
        ("+6221234567", "phone.not_mobile"),
        ("0801234567", "phone.not_mobile"),
        ("+6512345678", "phone.not_indonesian"),  # Singapore
        ("081234567", "phone.length"),
        ("08123456789012", "phone.length"),
        ("0812345678x", "phone.charset"),
        ("", "phone.charset"),
        (81234567890, "input.not_text"),
    ],
)
def test_bad_mobile_numbers(raw, code):
    assert codes(check_phone(raw)) == [code]


def test_billing_codes_are_fifteen_digits():
    assert check_billing_code("820240012345678").value == "820240012345678"
    assert check_billing_code("8202 4001 2345 678").value == "820240012345678"
    assert codes(check_billing_code("82024001234567")) == ["billing.length"]
    assert codes(check_billing_code("8202400123456789")) == ["billing.length"]
    assert codes(check_billing_code("82024001234567A")) == ["billing.charset"]


def test_booking_codes():
    assert check_booking_code("ab12-cd34").value == "AB12CD34"
    assert check_booking_code("GWBBBA2P5B").ok
    assert codes(check_booking_code("AB12")) == ["booking.format"]
    assert codes(check_booking_code("AB12*CD34")) == ["booking.format"]
    assert codes(check_booking_code("A" * 21)) == ["booking.format"]
