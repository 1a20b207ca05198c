"""Small text helpers shared by the validators: what counts as a digit, how input is tidied."""

from __future__ import annotations

# Officers type numbers with spaces, dots or dashes as they appear on cards and letters; these
# separators carry no meaning in NIK, KK, billing or phone numbers.
_SEPARATORS = str.maketrans("", "", " \t\u00a0.-")


def is_digits(value: str) -> bool:
    """True when ``value`` is non-empty and made only of ASCII digits.

    ``str.isdigit`` alone would accept other scripts' digits (such as Arabic-Indic), which no
    Indonesian document number contains; on ASCII text it accepts exactly 0–9.
    """
    return value.isascii() and value.isdigit()


def compact(value: str) -> str:
    """Strip surrounding white space and the separators people type inside numbers."""
    return value.strip().translate(_SEPARATORS)
