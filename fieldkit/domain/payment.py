"""Paying the passport fee (PNBP): the SIMPONI billing code, the NTPN receipt, the amount.

The applicant pays the quoted fee against a SIMPONI billing code; the bank or post office that
takes the money gives an NTPN (Nomor Transaksi Penerimaan Negara), the state's receipt number.
The counter records both. These rules take plain data only (the stored ``payment`` dict and
the quoted total), so HQ runs them on received records exactly as the laptop does.

Stored shape (``payment`` of an applicant, format 2)::

    {"billing_code": "820240012345678", "amount": 350000, "paid": true,
     "ntpn": "0A1B2C3D4E5F6A7B", "paid_at": "2026-12-10T03:04:05.000000+00:00"}

``paid`` false means billed but not paid yet (``ntpn`` and ``paid_at`` are then None).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from fieldkit.domain import identifiers
from fieldkit.domain.findings import Checked, Finding, error
from fieldkit.domain.money import format_rupiah
from fieldkit.domain.text import compact

# DOMAIN.md ("The service", Payment) says only "a 15-digit SIMPONI billing code"; it names no
# prefix, so none is required here (the MPN G2 first digit tells which directorate general
# issued the code, and that split is not ours to police). The rule itself lives in
# fieldkit.domain.identifiers, where the officer's other typed codes are checked.
BILLING_CODE_LENGTH = identifiers.BILLING_CODE_LENGTH

# DOMAIN.md says a paid billing "has an NTPN receipt number" without its form. The NTPN of the
# state revenue module (MPN G2, Kemenkeu DJPb) is 16 characters, digits and capital letters;
# officers copy it from the receipt, so separators are dropped and letters upper-cased.
NTPN_LENGTH = 16
_NTPN = re.compile(r"[A-Z0-9]+")

PAYMENT_KEYS = frozenset({"billing_code", "amount", "paid", "ntpn", "paid_at"})


def check_billing_code(raw: object, field: str = "payment.billing_code") -> Checked[str]:
    """Check a SIMPONI billing code: exactly 15 digits (spaces and dashes ignored).

    Codes: ``billing.charset``, ``billing.length``, ``input.not_text``.
    """
    return identifiers.check_billing_code(raw, field)


def check_ntpn(raw: object, field: str = "payment.ntpn") -> Checked[str]:
    """Check an NTPN: 16 letters and digits, returned upper-case without separators.

    Codes: ``ntpn.charset``, ``ntpn.length``, ``input.not_text``.
    """
    if not isinstance(raw, str):
        return Checked.invalid(
            error("input.not_text", field, "Isian harus berupa teks.", "The value must be text.")
        )
    code = compact(raw).upper()
    if not _NTPN.fullmatch(code):
        return Checked.invalid(
            error(
                "ntpn.charset",
                field,
                "NTPN hanya berisi huruf dan angka.",
                "An NTPN contains only letters and digits.",
            )
        )
    if len(code) != NTPN_LENGTH:
        return Checked.invalid(
            error(
                "ntpn.length",
                field,
                f"NTPN harus {NTPN_LENGTH} karakter; tertulis {len(code)}.",
                f"An NTPN has {NTPN_LENGTH} characters; {len(code)} were given.",
            )
        )
    return Checked.of(code)


def _is_amount(value: object) -> bool:
    # JSON true/false decode to bool, which Python counts as int.
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_payment(payment: object, quoted_total: int | None) -> list[Finding]:
    """Every finding on a stored ``payment`` against the fee quoted (``quoted_total`` rupiah).

    A valid billing code is required; ``amount`` is a whole number of rupiah equal to the quote
    (``payment.amount_mismatch``) when a quote exists; ``paid`` is a boolean and a paid billing
    needs its NTPN (``payment.no_ntpn``) and its time (``payment.no_paid_at``). An unpaid one
    carries no NTPN (``payment.ntpn_unpaid``: a receipt for money not taken is a typing slip).
    None (nothing recorded yet) has no findings: whether payment is *needed* is the decision's
    rule (:mod:`fieldkit.domain.decision`).
    """
    if payment is None:
        return []
    if not isinstance(payment, Mapping):
        return [
            error(
                "payment.not_object",
                "payment",
                "Data pembayaran harus berupa objek JSON.",
                "The payment must be a JSON object.",
            )
        ]
    findings: list[Finding] = []
    unknown = sorted(str(k) for k in payment if k not in PAYMENT_KEYS)
    if unknown:
        findings.append(
            error(
                "payment.unknown_key",
                f"payment.{unknown[0]}",
                f"Kolom pembayaran tidak dikenal: {', '.join(unknown)}.",
                f"Unknown payment field(s): {', '.join(unknown)}.",
            )
        )
    findings.extend(check_billing_code(payment.get("billing_code")).errors)
    amount = payment.get("amount")
    if not _is_amount(amount):
        findings.append(
            error(
                "payment.amount",
                "payment.amount",
                "Jumlah bayar harus bilangan bulat rupiah, 0 atau lebih.",
                "The amount must be a whole number of rupiah, 0 or more.",
            )
        )
    elif quoted_total is not None and amount != quoted_total:
        findings.append(
            error(
                "payment.amount_mismatch",
                "payment.amount",
                f"Jumlah pada billing ({format_rupiah(int(amount))}) tidak sama dengan tarif "
                f"({format_rupiah(quoted_total)}).",
                f"The billed amount ({format_rupiah(int(amount))}) is not the quoted fee "
                f"({format_rupiah(quoted_total)}).",
            )
        )
    paid = payment.get("paid")
    if not isinstance(paid, bool):
        findings.append(
            error(
                "payment.paid",
                "payment.paid",
                "Status lunas harus true atau false.",
                "paid must be true or false.",
            )
        )
    elif paid:
        ntpn = payment.get("ntpn")
        if ntpn in (None, ""):
            findings.append(
                error(
                    "payment.no_ntpn",
                    "payment.ntpn",
                    "Pembayaran lunas wajib dicatat dengan NTPN dari bukti bayar.",
                    "A paid billing needs the NTPN from the receipt.",
                )
            )
        else:
            findings.extend(check_ntpn(ntpn).errors)
        if not isinstance(payment.get("paid_at"), str) or not payment.get("paid_at"):
            findings.append(
                error(
                    "payment.no_paid_at",
                    "payment.paid_at",
                    "Waktu pelunasan tidak tercatat.",
                    "The time of payment is not recorded.",
                )
            )
    elif payment.get("ntpn") not in (None, ""):
        findings.append(
            error(
                "payment.ntpn_unpaid",
                "payment.ntpn",
                "NTPN hanya dicatat untuk billing yang sudah lunas.",
                "An NTPN is recorded only for a paid billing.",
            )
        )
    return findings
