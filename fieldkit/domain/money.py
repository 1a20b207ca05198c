"""Money as officers and applicants read it: whole rupiah, written the Indonesian way."""

from __future__ import annotations


def format_rupiah(amount: int) -> str:
    """Return ``amount`` rupiah as written on Indonesian receipts: ``Rp350.000``, ``-Rp5.000``.

    "Rp" comes first with no space and "." groups thousands; there are no decimals because
    PNBP fees are whole rupiah. Money is an ``int`` everywhere in fieldkit, so a float or a bool
    here is a programming error and raises :class:`TypeError` rather than printing a wrong sum.
    """
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"rupiah amounts are int, not {type(amount).__name__}")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")
