"""Names and the short identifiers an officer types.

Phone numbers, SIMPONI billing codes and online booking codes.

Each ``check_*`` function takes whatever the user typed (or a JSON value), never raises, and
returns the normalised value or findings that say what to fix.
"""

from __future__ import annotations

import re

from fieldkit.domain.findings import Checked, Finding, error
from fieldkit.domain.text import compact, is_digits

NAME_MAX_LENGTH = 100
BILLING_CODE_LENGTH = 15

# KTP names are printed in capitals using Latin letters, spaces and a little punctuation
# (apostrophes as in MA'RUF, dots in abbreviations such as MOH., hyphens in double names).
_NAME_CHARS = re.compile(r"[A-Z .'\-]+")
_NAME_LETTER = re.compile(r"[A-Z]")
_BOOKING_CODE = re.compile(r"[A-Z0-9]{6,20}")
# The common case, already well formed: 08…, 628… or +628… with 10–13 national digits.
_MOBILE = re.compile(r"(?:\+62|62|0)(8[1-9][0-9]{7,10})")


def _not_text(field: str) -> Finding:
    return error("input.not_text", field, "Isian harus berupa teks.", "The value must be text.")


def check_person_name(raw: object, field: str = "name") -> Checked[str]:
    """Normalise a name as written on the KTP: upper case, single spaces.

    Allowed are the letters A–Z, spaces, apostrophes, dots and hyphens. Letters outside A–Z
    (such as É) are refused rather than silently changed, because the name must match the KTP.
    """
    if not isinstance(raw, str):
        return Checked.invalid(_not_text(field))
    name = " ".join(raw.split()).upper()
    if not name:
        return Checked.invalid(
            error("name.empty", field, "Nama wajib diisi.", "The name is required.")
        )
    if len(name) > NAME_MAX_LENGTH:
        return Checked.invalid(
            error(
                "name.too_long",
                field,
                f"Nama terlalu panjang (paling banyak {NAME_MAX_LENGTH} karakter).",
                f"The name is too long (at most {NAME_MAX_LENGTH} characters).",
            )
        )
    if not _NAME_CHARS.fullmatch(name):
        bad = "".join(sorted({ch for ch in name if not _NAME_CHARS.fullmatch(ch)}))
        return Checked.invalid(
            error(
                "name.charset",
                field,
                f"Nama hanya boleh berisi huruf A–Z, spasi, titik, apostrof dan tanda hubung "
                f"seperti di KTP; tidak boleh: {bad!r}.",
                f"A name may contain only the letters A–Z, spaces, dots, apostrophes and "
                f"hyphens, as on the KTP; not allowed: {bad!r}.",
            )
        )
    if not _NAME_LETTER.search(name):
        return Checked.invalid(
            error(
                "name.no_letter",
                field,
                "Nama harus berisi setidaknya satu huruf.",
                "The name must contain at least one letter.",
            )
        )
    return Checked.of(name)


def check_phone(raw: object, field: str = "phone") -> Checked[str]:
    """Normalise an Indonesian mobile number (08…, +628…, 628…) to E.164 (+628…).

    Indonesian mobile numbers are 08 followed by 8 to 11 digits, i.e. 10 to 13 digits in
    national form. Spaces, dots, dashes and parentheses are ignored.
    """
    if not isinstance(raw, str):
        return Checked.invalid(_not_text(field))
    number = compact(raw).replace("(", "").replace(")", "")
    well_formed = _MOBILE.fullmatch(number)
    if well_formed:
        return Checked.of("+62" + well_formed[1])
    if number.startswith("+") and not number.startswith("+62"):
        return Checked.invalid(
            error(
                "phone.not_indonesian",
                field,
                "Hanya nomor HP Indonesia (+62) yang dapat dipakai.",
                "Only Indonesian mobile numbers (+62) can be used.",
            )
        )
    if number.startswith("+62"):
        national = "0" + number[3:]
    elif number.startswith("62"):
        national = "0" + number[2:]
    else:
        national = number
    if not is_digits(national):
        return Checked.invalid(
            error(
                "phone.charset",
                field,
                "Nomor HP hanya boleh berisi angka (boleh diawali +62).",
                "A mobile number may contain only digits (optionally starting with +62).",
            )
        )
    if not national.startswith("08") or national[2:3] == "0":
        return Checked.invalid(
            error(
                "phone.not_mobile",
                field,
                "Nomor HP Indonesia harus diawali 08 atau +628.",
                "An Indonesian mobile number must start with 08 or +628.",
            )
        )
    if not 10 <= len(national) <= 13:
        return Checked.invalid(
            error(
                "phone.length",
                field,
                f"Nomor HP harus 10–13 angka (diawali 08); tertulis {len(national)} angka.",
                f"A mobile number has 10–13 digits (starting 08); {len(national)} were given.",
            )
        )
    return Checked.of("+62" + national[1:])


def check_billing_code(raw: object, field: str = "billing_code") -> Checked[str]:
    """Check a SIMPONI billing code: exactly 15 digits (separators ignored)."""
    if not isinstance(raw, str):
        return Checked.invalid(_not_text(field))
    code = compact(raw)
    if not is_digits(code):
        return Checked.invalid(
            error(
                "billing.charset",
                field,
                "Kode billing SIMPONI hanya berisi angka.",
                "A SIMPONI billing code contains only digits.",
            )
        )
    if len(code) != BILLING_CODE_LENGTH:
        return Checked.invalid(
            error(
                "billing.length",
                field,
                f"Kode billing SIMPONI harus {BILLING_CODE_LENGTH} angka; "
                f"tertulis {len(code)} angka.",
                f"A SIMPONI billing code has {BILLING_CODE_LENGTH} digits; {len(code)} were given.",
            )
        )
    return Checked.of(code)


def check_booking_code(raw: object, field: str = "booking_code") -> Checked[str]:
    """Check an online-registration booking code: 6–20 letters and digits, upper-cased.

    The M-Paspor code format is not published, so the rule is deliberately loose: what a QR
    scanner or an officer types, without separators.
    """
    if not isinstance(raw, str):
        return Checked.invalid(_not_text(field))
    code = compact(raw).upper()
    if not _BOOKING_CODE.fullmatch(code):
        return Checked.invalid(
            error(
                "booking.format",
                field,
                "Kode booking harus 6–20 huruf atau angka.",
                "A booking code has 6–20 letters or digits.",
            )
        )
    return Checked.of(code)
