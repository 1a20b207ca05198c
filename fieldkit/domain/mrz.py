"""The machine-readable zone (MRZ) of a passport data page: ICAO Doc 9303 TD3.

A TD3 MRZ is two lines of 44 characters from ``A``–``Z``, ``0``–``9`` and the filler ``<``.
Line 1: 1–2 document type (``P``), 3–5 issuing state, 6–44 name (``SURNAME<<GIVEN<NAMES``).
Line 2: 1–9 document number, 10 its check digit, 11–13 nationality, 14–19 birth date YYMMDD,
20 its check digit, 21 sex, 22–27 expiry date YYMMDD, 28 its check digit, 29–42 optional data
(a personal number), 43 its check digit, 44 a composite check digit over 1–10, 14–20 and 22–43.

:func:`parse_td3` reports every problem it finds as a finding instead of raising, so the
officer sees all of them at once. A line of the wrong length is reported as such and its fields
are not read, because every position after the mistake would be shifted and the field findings
would be noise. A character outside the MRZ alphabet is reported once for its line, and the
fields and check digits that contain it are not read either.

Limitation of ICAO Doc 9303 itself: the nationality (11–13) and the sex (21) are covered by no
check digit, so a change that leaves them well-formed goes unnoticed. Check digits weigh each
character by 7, 3 or 1 and keep the sum modulo 10, so replacing a character by another whose
value differs by a multiple of 10 (``0``, ``A``, ``K``, ``U``, ``<`` are worth 0, 10, 20, 30, 0)
leaves every check digit unchanged; only a field's own shape rule (no letters in a date) sees it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from fieldkit.domain.findings import Checked, Finding, error

LINE_LENGTH = 44
FILLER = "<"

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DIGITS = "0123456789"
_ALPHABET = frozenset(_DIGITS + _LETTERS + FILLER)
# ICAO character values: digits keep their value, A–Z count 10–35, the filler counts 0.
_VALUES: dict[str, int] = {ch: i for i, ch in enumerate(_DIGITS + _LETTERS)} | {FILLER: 0}
_WEIGHTS = (7, 3, 1)
_SEXES = {"M": "M", "F": "F", "X": "X", FILLER: "X"}
# A document number is letters and digits padded on the right with fillers; a filler inside it
# is a misread or a tampered character, never part of a real number.
_DOCUMENT_NUMBER = re.compile(r"[A-Z0-9]+<*")
# Positions listed in messages for a line with many bad characters; more would not help.
_MAX_POSITIONS_SHOWN = 5


def check_digit(data: str) -> int:
    """Return the ICAO Doc 9303 check digit of ``data``.

    Digits keep their value, ``A``–``Z`` count 10–35 and ``<`` counts 0; the values are
    weighted 7, 3, 1, 7, 3, 1, … and the sum is taken modulo 10.

    This is the internal helper of :func:`parse_td3` (exported for tests and for building
    MRZs); unlike the parser it is strict: it raises ``ValueError`` when ``data`` holds any
    character outside ``[0-9A-Z<]`` (lowercase included) and ``TypeError`` when it is not a str.
    """
    if not isinstance(data, str):
        raise TypeError(f"check_digit needs a str, not {type(data).__name__}")
    total = 0
    for index, ch in enumerate(data):
        value = _VALUES.get(ch)
        if value is None:
            raise ValueError(f"{ch!r} at index {index} is not an MRZ character [0-9A-Z<]")
        total += value * _WEIGHTS[index % 3]
    return total % 10


@dataclass(frozen=True, slots=True)
class Td3:
    """The fields of a valid TD3 MRZ, with fillers removed and dates resolved to a century."""

    document_type: str
    issuing_state: str
    surname: str
    given_names: str
    document_number: str
    nationality: str
    birth_date: date
    sex: str
    expiry_date: date
    optional_data: str


@dataclass(frozen=True, slots=True)
class _Field:
    """Where a field sits in the MRZ and what an officer calls it."""

    key: str  # the ``field`` of its findings
    line: int
    start: int  # 1-based, inclusive, as ICAO numbers positions
    end: int
    check: int | None  # 1-based position of its check digit on the same line
    id_name: str
    en_name: str

    def take(self, line: str) -> str:
        """Return the field's characters from its line."""
        return line[self.start - 1 : self.end]

    @property
    def where_id(self) -> str:
        """The field's place, in Indonesian."""
        return f"baris {self.line}, posisi {_span(self.start, self.end)}"

    @property
    def where_en(self) -> str:
        """The field's place, in English."""
        return f"line {self.line}, position {_span(self.start, self.end)}"


def _span(start: int, end: int) -> str:
    return str(start) if start == end else f"{start}–{end}"


_DOCUMENT_TYPE = _Field("mrz.document_type", 1, 1, 2, None, "jenis dokumen", "document type")
_ISSUING_STATE = _Field("mrz.issuing_state", 1, 3, 5, None, "negara penerbit", "issuing state")
_NAME = _Field("mrz.name", 1, 6, 44, None, "nama", "name")
_DOCUMENT_NUMBER_FIELD = _Field(
    "mrz.document_number", 2, 1, 9, 10, "nomor paspor", "passport number"
)
_NATIONALITY = _Field("mrz.nationality", 2, 11, 13, None, "kewarganegaraan", "nationality")
_BIRTH_DATE = _Field("mrz.birth_date", 2, 14, 19, 20, "tanggal lahir", "birth date")
_SEX = _Field("mrz.sex", 2, 21, 21, None, "jenis kelamin", "sex")
_EXPIRY_DATE = _Field("mrz.expiry_date", 2, 22, 27, 28, "tanggal habis berlaku", "expiry date")
_OPTIONAL_DATA = _Field("mrz.optional_data", 2, 29, 42, 43, "data opsional", "optional data")
_COMPOSITE = _Field("mrz.composite", 2, 44, 44, 44, "gabungan", "composite")


def parse_td3(line1: str, line2: str, *, today: date | None = None) -> Checked[Td3]:
    """Parse and check the two lines of a passport MRZ (ICAO Doc 9303 TD3).

    Surrounding white space on each line is stripped; nothing else is tidied (lowercase is an
    error, not a typo to fix). Every problem found is returned as an error finding; the value is
    present only when there is none. An expired passport is not an error: its expiry date is in
    the value for the caller to judge.

    Two-digit years: a birth date takes the most recent century that does not put it after
    ``today``; an expiry date is 20YY unless that is more than 50 years after ``today``'s year,
    then 19YY. ``today`` defaults to the current date.

    Never raises for any ``line1``/``line2``, whatever their type or content (a non-str is
    reported as ``mrz.type``). A ``today`` that is not a date is a programming error and raises
    ``TypeError``.
    """
    if today is None:
        today = date.today()
    elif isinstance(today, datetime):
        # A datetime is a date, but comparing one with a date raises; keep its calendar day.
        today = today.date()
    elif not isinstance(today, date):
        raise TypeError(f"today must be a date, not {type(today).__name__}")

    findings: list[Finding] = []
    first = _read_line(line1, 1, findings)
    second = _read_line(line2, 2, findings)
    header = _parse_line1(first, findings) if first is not None else None
    body = _parse_line2(second, today, findings) if second is not None else None
    if findings or header is None or body is None:
        return Checked.invalid(*findings)
    document_type, issuing_state, surname, given_names = header
    document_number, nationality, birth_date, sex, expiry_date, optional_data = body
    return Checked.of(
        Td3(
            document_type=document_type,
            issuing_state=issuing_state,
            surname=surname,
            given_names=given_names,
            document_number=document_number,
            nationality=nationality,
            birth_date=birth_date,
            sex=sex,
            expiry_date=expiry_date,
            optional_data=optional_data,
        )
    )


def _read_line(raw: object, number: int, findings: list[Finding]) -> str | None:
    """Return the stripped line when its fields can be read (right length), else None."""
    key = f"mrz.line{number}"
    if not isinstance(raw, str):
        findings.append(
            error(
                "mrz.type",
                key,
                id=f"Baris {number} MRZ harus berupa teks.",
                en=f"MRZ line {number} must be text.",
            )
        )
        return None
    line = raw.strip()
    if len(line) != LINE_LENGTH:
        findings.append(
            error(
                "mrz.length",
                key,
                id=f"Baris {number} MRZ harus {LINE_LENGTH} karakter, bukan {len(line)}.",
                en=f"MRZ line {number} must be {LINE_LENGTH} characters, not {len(line)}.",
            )
        )
    bad = [position for position, ch in enumerate(line, 1) if ch not in _ALPHABET]
    if bad:
        shown = ", ".join(str(p) for p in bad[:_MAX_POSITIONS_SHOWN])
        if len(bad) > _MAX_POSITIONS_SHOWN:
            shown += ", …"
        # Lowercase is the common case (typed by hand, or a phone's OCR); say so plainly.
        if all("a" <= line[p - 1] <= "z" for p in bad):
            id_text = (
                f"Baris {number} MRZ memuat huruf kecil (posisi {shown}); "
                "MRZ hanya memakai huruf kapital."
            )
            en_text = (
                f"MRZ line {number} contains lowercase letters (position {shown}); "
                "the MRZ uses capital letters only."
            )
        else:
            id_text = (
                f"Baris {number} MRZ memuat karakter tidak sah (posisi {shown}); "
                "hanya A–Z, 0–9 dan < yang boleh."
            )
            en_text = (
                f"MRZ line {number} contains invalid characters (position {shown}); "
                "only A–Z, 0–9 and < are allowed."
            )
        findings.append(error("mrz.charset", key, id=id_text, en=en_text))
    return line if len(line) == LINE_LENGTH else None


def _clean(text: str) -> bool:
    """Tell whether every character is in the MRZ alphabet (if not, the charset finding says so)."""
    return all(ch in _ALPHABET for ch in text)


def _unfill(text: str) -> str:
    """Remove the trailing fillers that pad a field to its width."""
    return text.rstrip(FILLER)


def _parse_line1(line: str, findings: list[Finding]) -> tuple[str, str, str, str] | None:
    """Check line 1; return (document type, issuing state, surname, given names) or None."""
    before = len(findings)

    document_type = _DOCUMENT_TYPE.take(line)
    if _clean(document_type):
        if document_type[0] != "P":
            findings.append(
                error(
                    "mrz.document_type",
                    _DOCUMENT_TYPE.key,
                    id=f"Bukan MRZ paspor: baris 1 harus diawali P, bukan {document_type[0]} "
                    "(baris 1, posisi 1).",
                    en=f"Not a passport MRZ: line 1 must start with P, not {document_type[0]} "
                    "(line 1, position 1).",
                )
            )
        elif document_type[1] not in _LETTERS + FILLER:
            findings.append(
                error(
                    "mrz.document_type",
                    _DOCUMENT_TYPE.key,
                    id=f"Jenis dokumen {document_type} tidak sah; karakter kedua harus huruf "
                    "atau < (baris 1, posisi 2).",
                    en=f"Document type {document_type} is not valid; its second character must "
                    "be a letter or < (line 1, position 2).",
                )
            )

    issuing_state = _ISSUING_STATE.take(line)
    _check_state(issuing_state, _ISSUING_STATE, findings)

    name = _NAME.take(line)
    surname, given_names = "", ""
    if _clean(name):
        if any(ch in _DIGITS for ch in name):
            findings.append(
                error(
                    "mrz.name",
                    _NAME.key,
                    id=f"Nama tidak boleh memuat angka ({_NAME.where_id}).",
                    en=f"The name must not contain digits ({_NAME.where_en}).",
                )
            )
        elif not any(ch in _LETTERS for ch in name):
            findings.append(
                error(
                    "mrz.name",
                    _NAME.key,
                    id=f"Nama kosong ({_NAME.where_id}).",
                    en=f"The name is empty ({_NAME.where_en}).",
                )
            )
        else:
            surname, given_names = _split_name(name)

    if len(findings) > before:
        return None
    return _unfill(document_type), _unfill(issuing_state), surname, given_names


def _split_name(name: str) -> tuple[str, str]:
    """Split ``SURNAME<<GIVEN<NAMES<<<`` into ("SURNAME", "GIVEN NAMES").

    Without a ``<<`` before the padding the holder has a single name, which ICAO puts in the
    surname (primary identifier). Single fillers between name parts become spaces.
    """
    core = _unfill(name)
    surname, _, given = core.partition(FILLER * 2)
    return _words(surname), _words(given)


def _words(part: str) -> str:
    return " ".join(word for word in part.split(FILLER) if word)


def _check_state(code: str, where: _Field, findings: list[Finding]) -> None:
    """Check a three-letter state code (issuing state or nationality) for shape.

    There is no list of codes: ICAO adds codes (and ``UTO`` is its specimen state), and a stale
    list in an offline kit would reject real passports.
    """
    if not _clean(code):
        return
    if any(ch in _DIGITS for ch in code):
        findings.append(
            error(
                "mrz.country_code",
                where.key,
                id=f"Kode {where.id_name} hanya boleh berisi huruf A–Z dan < ({where.where_id}).",
                en=f"The {where.en_name} code may only contain letters A–Z and < "
                f"({where.where_en}).",
            )
        )
    elif set(code) == {FILLER}:
        findings.append(
            error(
                "mrz.country_code",
                where.key,
                id=f"Kode {where.id_name} kosong ({where.where_id}).",
                en=f"The {where.en_name} code is empty ({where.where_en}).",
            )
        )


def _parse_line2(
    line: str, today: date, findings: list[Finding]
) -> tuple[str, str, date, str, date, str] | None:
    """Check line 2; return (number, nationality, birth, sex, expiry, optional data) or None."""
    before = len(findings)

    document_number = _DOCUMENT_NUMBER_FIELD.take(line)
    if _clean(document_number) and not _DOCUMENT_NUMBER.fullmatch(document_number):
        # Either all fillers, or a filler before a letter or digit.
        if set(document_number) == {FILLER}:
            id_text = f"Nomor paspor kosong ({_DOCUMENT_NUMBER_FIELD.where_id})."
            en_text = f"The passport number is empty ({_DOCUMENT_NUMBER_FIELD.where_en})."
        else:
            position = document_number.index(FILLER) + _DOCUMENT_NUMBER_FIELD.start
            id_text = f"Nomor paspor memuat < di tengah (baris 2, posisi {position})."
            en_text = f"The passport number has a < inside it (line 2, position {position})."
        findings.append(
            error("mrz.document_number", _DOCUMENT_NUMBER_FIELD.key, id=id_text, en=en_text)
        )
    _verify(line, _DOCUMENT_NUMBER_FIELD, findings)

    nationality = _NATIONALITY.take(line)
    _check_state(nationality, _NATIONALITY, findings)

    birth_date = _read_date(line, _BIRTH_DATE, lambda yy, mm, dd: _birth(yy, mm, dd, today))
    if isinstance(birth_date, Finding):
        findings.append(birth_date)
    _verify(line, _BIRTH_DATE, findings)

    sex_char = _SEX.take(line)
    sex = _SEXES.get(sex_char)
    if sex is None and _clean(sex_char):
        findings.append(
            error(
                "mrz.sex",
                _SEX.key,
                id=f"Jenis kelamin harus M, F, X atau <, bukan {sex_char} ({_SEX.where_id}).",
                en=f"Sex must be M, F, X or <, not {sex_char} ({_SEX.where_en}).",
            )
        )

    expiry_date = _read_date(line, _EXPIRY_DATE, lambda yy, mm, dd: _expiry(yy, mm, dd, today))
    if isinstance(expiry_date, Finding):
        findings.append(expiry_date)
    _verify(line, _EXPIRY_DATE, findings)

    optional_data = _OPTIONAL_DATA.take(line)
    _verify(line, _OPTIONAL_DATA, findings)

    _verify(line, _COMPOSITE, findings)

    if (
        len(findings) > before
        or not isinstance(birth_date, date)
        or not isinstance(expiry_date, date)
        or sex is None
    ):
        return None
    return (
        _unfill(document_number),
        _unfill(nationality),
        birth_date,
        sex,
        expiry_date,
        _unfill(optional_data),
    )


def _verify(line: str, where: _Field, findings: list[Finding]) -> None:
    """Compare the check digit of ``where`` with the one printed on ``line``."""
    # The composite skips nationality (11–13) and sex (21): ICAO covers them by no check digit.
    data = line[0:10] + line[13:20] + line[21:43] if where is _COMPOSITE else where.take(line)
    if where.check is None:  # not reached: only fields with a check digit are passed here
        return
    printed = line[where.check - 1]
    if not _clean(data) or printed not in _ALPHABET:
        return  # the line's charset finding already says what is wrong
    place_id = f"baris 2, posisi {where.check}"
    place_en = f"line 2, position {where.check}"
    en_name = where.en_name[0].upper() + where.en_name[1:]
    if printed == FILLER and where is _OPTIONAL_DATA:
        # ICAO allows a filler here only when the optional data field is unused (all fillers).
        if set(data) == {FILLER}:
            return
        findings.append(
            error(
                "mrz.check_digit",
                where.key,
                id=f"Digit pemeriksa {where.id_name} berisi < padahal {where.id_name} terisi "
                f"({place_id}).",
                en=f"{en_name} check digit is < although the {where.en_name} is filled in "
                f"({place_en}).",
            )
        )
        return
    if printed not in _DIGITS:
        findings.append(
            error(
                "mrz.check_digit",
                where.key,
                id=f"Digit pemeriksa {where.id_name} harus berupa angka ({place_id}).",
                en=f"{en_name} check digit must be a digit ({place_en}).",
            )
        )
    elif int(printed) != check_digit(data):
        findings.append(
            error(
                "mrz.check_digit",
                where.key,
                id=f"Digit pemeriksa {where.id_name} salah ({place_id}).",
                en=f"{en_name} check digit is wrong ({place_en}).",
            )
        )


def _read_date(
    line: str, where: _Field, resolve: Callable[[int, int, int], date | None]
) -> date | Finding | None:
    """Read a YYMMDD field: its date, a ``mrz.date`` finding, or None when charset failed."""
    raw = where.take(line)
    if not _clean(raw):
        return None
    if not all(ch in _DIGITS for ch in raw):
        return error(
            "mrz.date",
            where.key,
            id=f"{where.id_name.capitalize()} harus 6 angka TTBBHH ({where.where_id}).",
            en=f"The {where.en_name} must be 6 digits YYMMDD ({where.where_en}).",
        )
    value = resolve(int(raw[0:2]), int(raw[2:4]), int(raw[4:6]))
    if value is None:
        return error(
            "mrz.date",
            where.key,
            id=f"{where.id_name.capitalize()} {raw} bukan tanggal yang ada ({where.where_id}).",
            en=f"The {where.en_name} {raw} is not a real date ({where.where_en}).",
        )
    return value


def _real_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:  # no such day (31 April, 29 February of a common year), or year 0
        return None


def _birth(yy: int, mm: int, dd: int, today: date) -> date | None:
    """Return the birth date in the most recent century that does not put it after ``today``."""
    century = today.year - today.year % 100
    # 29 February may exist in one century and not the other (2000 was leap, 2100 is not), so
    # the later century is kept only when the day exists there and is not in the future.
    for year in (century + yy, century - 100 + yy):
        found = _real_date(year, mm, dd)
        if found is not None and found <= today:
            return found
    return None


def _expiry(yy: int, mm: int, dd: int, today: date) -> date | None:
    """Return the expiry date: 20YY, or 19YY when 20YY is over 50 years after ``today``."""
    year = 2000 + yy if 2000 + yy <= today.year + 50 else 1900 + yy
    return _real_date(year, mm, dd)
