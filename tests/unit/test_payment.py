"""The payment rules: SIMPONI billing code, NTPN, and a payment against the quoted fee."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fieldkit.domain.payment import check_billing_code, check_ntpn, check_payment

BILLING = "820240012345678"
NTPN = "0A1B2C3D4E5F6A7B"
PAID = {
    "billing_code": BILLING,
    "amount": 350000,
    "paid": True,
    "ntpn": NTPN,
    "paid_at": "2026-12-10T03:04:05.000000+00:00",
}


def codes(findings) -> list[str]:
    return [f.code for f in findings]


def test_a_billing_code_is_15_digits_separators_ignored():
    assert check_billing_code(BILLING).value == BILLING
    assert check_billing_code("8202 4001-2345 678").value == BILLING
    assert codes(check_billing_code("82024001234567").findings) == ["billing.length"]
    assert codes(check_billing_code("82024001234567X").findings) == ["billing.charset"]
    assert codes(check_billing_code(820240012345678).findings) == ["input.not_text"]
    assert check_billing_code("1").findings[0].field == "payment.billing_code"


def test_an_ntpn_is_16_letters_and_digits_upper_cased():
    assert check_ntpn(NTPN).value == NTPN
    assert check_ntpn(" 0a1b 2c3d-4e5f 6a7b ").value == NTPN
    assert codes(check_ntpn("0A1B2C3D4E5F6A7").findings) == ["ntpn.length"]
    assert codes(check_ntpn("0A1B2C3D4E5F6A7B0").findings) == ["ntpn.length"]
    assert codes(check_ntpn("0A1B2C3D4E5F6A7_").findings) == ["ntpn.charset"]
    assert codes(check_ntpn(None).findings) == ["input.not_text"]


def test_a_paid_billing_for_the_quoted_fee_has_no_findings():
    assert check_payment(PAID, 350000) == []
    assert check_payment(None, 350000) == []  # nothing recorded yet: the decision's business


def test_a_billed_but_unpaid_payment_is_valid_without_an_ntpn():
    unpaid = {**PAID, "paid": False, "ntpn": None, "paid_at": None}
    assert check_payment(unpaid, 350000) == []


def test_the_amount_must_equal_the_quoted_fee():
    found = check_payment({**PAID, "amount": 300000}, 350000)
    assert codes(found) == ["payment.amount_mismatch"]
    assert "Rp300.000" in found[0].message.id and "Rp350.000" in found[0].message.en
    assert check_payment({**PAID, "amount": 300000}, None) == []  # no quote to compare with


@pytest.mark.parametrize("amount", [True, -1, "350000", 350000.0, None])
def test_the_amount_is_a_whole_number_of_rupiah(amount):
    assert codes(check_payment({**PAID, "amount": amount}, 350000)) == ["payment.amount"]


def test_paid_requires_an_ntpn_and_the_time_of_payment():
    assert codes(check_payment({**PAID, "ntpn": None}, 350000)) == ["payment.no_ntpn"]
    assert codes(check_payment({**PAID, "ntpn": ""}, 350000)) == ["payment.no_ntpn"]
    assert codes(check_payment({**PAID, "ntpn": "123"}, 350000)) == ["ntpn.length"]
    assert codes(check_payment({**PAID, "paid_at": None}, 350000)) == ["payment.no_paid_at"]


def test_an_ntpn_on_an_unpaid_billing_is_a_slip():
    found = check_payment({**PAID, "paid": False, "paid_at": None}, 350000)
    assert codes(found) == ["payment.ntpn_unpaid"]


def test_an_invalid_billing_code_and_bad_shapes_are_named():
    assert codes(check_payment({**PAID, "billing_code": "12345"}, 350000)) == ["billing.length"]
    assert codes(check_payment({**PAID, "billing_code": None}, 350000)) == ["input.not_text"]
    assert codes(check_payment({**PAID, "paid": "yes"}, 350000)) == ["payment.paid"]
    assert codes(check_payment({**PAID, "bank": "BRI"}, 350000)) == ["payment.unknown_key"]
    assert codes(check_payment(["not", "a", "dict"], 350000)) == ["payment.not_object"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)


@settings(max_examples=300)
@given(raw=json_values)
def test_the_code_checks_never_raise(raw):
    for checked in (check_billing_code(raw), check_ntpn(raw)):
        assert checked.ok or checked.errors


@settings(max_examples=300)
@given(
    payment=st.one_of(
        json_values,
        st.fixed_dictionaries(
            {},
            optional={
                k: json_values for k in ("billing_code", "amount", "paid", "ntpn", "paid_at")
            },
        ),
    ),
    quoted=st.none() | st.integers(),
)
def test_the_payment_check_never_raises_on_any_json(payment, quoted):
    for finding in check_payment(payment, quoted):
        assert finding.is_error and finding.code and finding.message.en
