"""Import a visit's roster: the coordinator's applicant list, or the online bookings.

A roster entry (kind ``roster``, state ``expected``) is a person the team expects at a visit.
:func:`import_roster` reads a CSV or XLSX file, checks every row with the domain rules and
stores the good rows as one action, in one transaction; bad rows are reported by their
spreadsheet row number (the header row is row 1 when it is the first row) and not stored.

Files
-----
- **CSV**: UTF-8 with or without a byte-order mark (UTF-16 with a BOM and Windows-1252 are
  read too), fields separated by ``;`` (what Excel writes on Indonesian Windows), ``,`` or a
  tab. The separator is the one with which a header row is recognised.
- **XLSX** (Excel 2007 and later): the first worksheet whose header row is recognised. Dates may
  be date cells or text. Old ``.xls`` workbooks are refused with a request to save as XLSX.
- The header row is the first of the first 10 rows that names the required columns (rows above
  it, such as a letter's title, are ignored). Blank rows are skipped. Unrecognised columns
  (a running number ``No``, ``Keterangan``) are ignored and listed in the result.

Header names are matched case-insensitively, ignoring punctuation and anything in parentheses
(``Tgl. Lahir (dd/mm/yyyy)`` is ``tgl lahir``).

Coordinator's list (source ``coordinator``; the four first columns are required)
    ==================  ===============================================================
    field               accepted headers
    ==================  ===============================================================
    name                name, full name, nama, nama lengkap, nama pemohon, nama sesuai ktp
    birth_date          birth date, date of birth, dob, tanggal lahir, tgl lahir, tgl lhr
    nik                 nik, nik ktp, no nik, nomor nik, no ktp, nomor ktp,
                        nomor induk kependudukan
    application_type    new or replacement, application type, type, jenis permohonan,
                        permohonan, jenis, baru atau penggantian
    phone (optional)    phone, phone number, mobile, no hp, nomor hp, hp, no wa, no hp wa,
                        whatsapp, no telp, no telepon, nomor telepon, telepon
    ==================  ===============================================================

Online bookings (source ``booking``; chosen when the three booking columns are present)
    ==================  ===============================================================
    booking_code        booking code, kode booking, no booking, nomor booking,
                        kode pendaftaran, kode antrian
    booking_date        date, booking date, appointment date, tanggal, tanggal booking,
                        tanggal kedatangan, tanggal layanan, tanggal kunjungan
    session             session, sesi, sesi layanan
    optional            any of the coordinator's columns (name, NIK, birth date, ...)
    ==================  ===============================================================

A coordinator's list may carry a booking code column; date and session columns are read only
with it (otherwise they are ignored like any unknown column), and only on rows that have a
booking code.

Values
------
- Dates: date cells, or text ``dd/mm/yyyy``, ``dd-mm-yyyy``, ``dd.mm.yyyy`` (day first, as
  written in Indonesia) or ``yyyy-mm-dd``. A birth date after today is an error.
- NIK: checked with :func:`fieldkit.domain.nik.parse_nik` against the stated birth date; a
  mismatch is a warning kept with the row. A NIK stored as a *number* (an XLSX number cell, or
  ``3.2E+15`` in a CSV) is refused: Excel keeps only 15 significant digits, so the last digit
  may already be lost; the column must be formatted as text.
- Application type: ``new``/``baru``; ``expired``/``replacement``/``penggantian``/
  ``perpanjangan``/``habis berlaku``/``penuh`` mean a replacement of an expired or full
  passport; ``lost``/``hilang`` and ``damaged``/``rusak`` are refused away from the office
  (:func:`fieldkit.domain.applications.may_serve`).
- Phone: normalised to E.164 (+628…); a number cell that lost its leading 0 gets it back.
- Session: ``pagi``/``morning``, ``siang``/``sore``/``afternoon`` (``Sesi Pagi (08.00-12.00)``
  is read as ``pagi``). A booking for another day than the visit's is an error; for the other
  session of the same day, a warning.
- A NIK or booking code that an earlier row of the same file has, or that is already in this
  visit's roster, makes the row bad.

Nothing of a row's content is logged or written anywhere except inside the encrypted records;
the file is read into memory, never copied to a temporary file.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from fieldkit.domain.applications import ApplicationType, may_serve
from fieldkit.domain.calendar import Session as BookingSession
from fieldkit.domain.calendar import VisitKind
from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.findings import Checked, Finding, Message, error, warning
from fieldkit.domain.identifiers import check_booking_code, check_person_name, check_phone
from fieldkit.domain.nik import parse_nik
from fieldkit.vault import audit, db, syncstate
from fieldkit.vault.errors import InvalidInput
from fieldkit.vault.ids import new_ids
from fieldkit.vault.records import Change, Record
from fieldkit.vault.service import ROSTER, visit
from fieldkit.vault.vault import Session, now

Source = Literal["coordinator", "booking"]
Progress = Callable[[int, int], None]

NAME = "name"
BIRTH_DATE = "birth_date"
NIK = "nik"
APPLICATION_TYPE = "application_type"
PHONE = "phone"
BOOKING_CODE = "booking_code"
BOOKING_DATE = "booking_date"
SESSION = "session"

# The stored entry always has these keys (None when the file has no such column or cell).
ENTRY_FIELDS = (
    NAME,
    BIRTH_DATE,
    NIK,
    APPLICATION_TYPE,
    PHONE,
    BOOKING_CODE,
    BOOKING_DATE,
    SESSION,
)

HEADER_ALIASES: Mapping[str, tuple[str, ...]] = {
    NAME: ("name", "full name", "nama", "nama lengkap", "nama pemohon", "nama sesuai ktp"),
    BIRTH_DATE: ("birth date", "date of birth", "dob", "tanggal lahir", "tgl lahir", "tgl lhr"),
    NIK: (
        "nik",
        "nik ktp",
        "no nik",
        "nomor nik",
        "no ktp",
        "nomor ktp",
        "nomor induk kependudukan",
    ),
    APPLICATION_TYPE: (
        "new or replacement",
        "application type",
        "type",
        "jenis permohonan",
        "permohonan",
        "jenis",
        "baru atau penggantian",
    ),
    PHONE: (
        "phone",
        "phone number",
        "mobile",
        "no hp",
        "nomor hp",
        "hp",
        "no wa",
        "no hp wa",
        "whatsapp",
        "no telp",
        "no telepon",
        "nomor telepon",
        "telepon",
    ),
    BOOKING_CODE: (
        "booking code",
        "kode booking",
        "no booking",
        "nomor booking",
        "kode pendaftaran",
        "kode antrian",
    ),
    BOOKING_DATE: (
        "date",
        "booking date",
        "appointment date",
        "tanggal",
        "tanggal booking",
        "tanggal kedatangan",
        "tanggal layanan",
        "tanggal kunjungan",
    ),
    SESSION: ("session", "sesi", "sesi layanan"),
}
_HEADER_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

REQUIRED_COLUMNS: Mapping[Source, tuple[str, ...]] = {
    "coordinator": (NAME, BIRTH_DATE, NIK, APPLICATION_TYPE),
    "booking": (BOOKING_CODE, BOOKING_DATE, SESSION),
}
HEADER_SCAN_ROWS = 10
CSV_DELIMITERS = (";", ",", "\t")
PROGRESS_CALLS = 100

_LABELS: Mapping[str, tuple[str, str]] = {
    NAME: ("Nama", "name"),
    BIRTH_DATE: ("Tanggal Lahir", "birth date"),
    NIK: ("NIK", "NIK"),
    APPLICATION_TYPE: ("Jenis Permohonan", "new or replacement"),
    PHONE: ("No HP", "phone"),
    BOOKING_CODE: ("Kode Booking", "booking code"),
    BOOKING_DATE: ("Tanggal", "date"),
    SESSION: ("Sesi", "session"),
}

_APPLICATION_WORDS: Mapping[str, ApplicationType] = {
    **dict.fromkeys(
        ("new", "baru", "paspor baru", "permohonan baru", "new passport"), ApplicationType.NEW
    ),
    **dict.fromkeys(
        (
            "expired",
            "replacement",
            "renewal",
            "full",
            "penggantian",
            "pengganti",
            "ganti",
            "perpanjang",
            "perpanjangan",
            "habis berlaku",
            "penggantian habis berlaku",
            "penuh",
            "halaman penuh",
            "penggantian halaman penuh",
            "penggantian habis berlaku halaman penuh",
        ),
        ApplicationType.EXPIRED,
    ),
    **dict.fromkeys(
        ("lost", "hilang", "paspor hilang", "penggantian hilang"), ApplicationType.LOST
    ),
    **dict.fromkeys(
        ("damaged", "rusak", "paspor rusak", "penggantian rusak"), ApplicationType.DAMAGED
    ),
}
_SESSION_WORDS: Mapping[str, BookingSession] = {
    "pagi": BookingSession.PAGI,
    "morning": BookingSession.PAGI,
    "siang": BookingSession.SIANG,
    "sore": BookingSession.SIANG,
    "afternoon": BookingSession.SIANG,
}

_BOOKING_DETAILS = frozenset((BOOKING_DATE, SESSION))
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_DAY_FIRST = re.compile(r"([0-9]{1,2})[/.\-]([0-9]{1,2})[/.\-]([0-9]{4})")
_ISO_WITH_MIDNIGHT = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?")
_SCIENTIFIC = re.compile(r"[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+")


@dataclass(frozen=True, slots=True)
class RowProblem:
    """The findings of one row, by its spreadsheet row number (the header row is row 1)."""

    row: int
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class RosterImport:
    """The outcome of :func:`import_roster`.

    ``imported`` rows were stored (their record ids in ``ids``, in file order); ``rejected``
    rows were not, each with every finding (errors and warnings); ``warnings`` are the imported
    rows that carry warnings. ``rows`` counts the non-blank data rows read.
    """

    source: Source
    rows: int
    imported: int
    ids: list[str]
    rejected: list[RowProblem]
    warnings: list[RowProblem]
    ignored_columns: tuple[str, ...] = field(default=())


# -- errors about the file as a whole -----------------------------------------------------------


def _unusable(code: str, id: str, en: str) -> InvalidInput:
    return InvalidInput(
        Message(
            f"{id} Tidak ada yang diimpor.",
            f"{en} Nothing was imported.",
        ),
        [(0, error(code, "file", id, en))],
    )


def _required_text(lang: Literal["id", "en"]) -> str:
    pick = 0 if lang == "id" else 1
    coordinator = ", ".join(_LABELS[f][pick] for f in REQUIRED_COLUMNS["coordinator"])
    booking = ", ".join(_LABELS[f][pick] for f in REQUIRED_COLUMNS["booking"])
    if lang == "id":
        return (
            f"Daftar koordinator memerlukan kolom {coordinator} (No HP boleh ada); "
            f"data booking online memerlukan kolom {booking}."
        )
    return (
        f"A coordinator's list needs the columns {coordinator} (phone is optional); "
        f"online bookings need {booking}."
    )


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


# -- reading the file ---------------------------------------------------------------------------


def _normal_header(cell: object) -> str:
    if not isinstance(cell, str):
        return ""
    text = _PARENTHESES.sub(" ", cell.replace("\ufeff", "").lower())
    return _NOT_WORD.sub(" ", text).strip()


@dataclass(frozen=True)
class _Header:
    index: int  # 0-based position of the header row in the rows read
    source: Source
    columns: dict[str, int]  # field -> 0-based column
    ignored: tuple[str, ...]


@dataclass(frozen=True)
class _Candidate:
    index: int
    columns: dict[str, int]
    missing: tuple[str, ...]


def _find_header(rows: Sequence[Sequence[object]]) -> _Header | _Candidate | None:
    """The header row among the first rows, or the closest candidate, or None."""
    best: _Candidate | None = None
    for index, cells in enumerate(rows[:HEADER_SCAN_ROWS]):
        columns: dict[str, int] = {}
        ignored: list[str] = []
        doubled: tuple[str, int, int] | None = None
        for position, cell in enumerate(cells):
            name = _HEADER_FIELD.get(_normal_header(cell))
            if name is None:
                if isinstance(cell, str) and cell.strip():
                    ignored.append(cell.strip())
            elif name in columns:
                doubled = doubled or (name, columns[name], position)
            else:
                columns[name] = position
        if not columns:
            continue
        for source in ("booking", "coordinator"):
            missing = tuple(f for f in REQUIRED_COLUMNS[source] if f not in columns)  # type: ignore[index]
            if not missing:
                if doubled is not None:
                    raise _doubled_column(index, *doubled)
                if BOOKING_CODE not in columns:
                    # Without a booking code, a "Tanggal" or "Sesi" column is about something
                    # else (the letter's date, the visit's session): not checked, not stored.
                    for name in (BOOKING_DATE, SESSION):
                        if name in columns:
                            ignored.append(str(cells[columns.pop(name)]).strip())
                return _Header(index, source, columns, tuple(ignored))  # type: ignore[arg-type]
            if best is None or len(missing) < len(best.missing):
                best = _Candidate(index, columns, missing)
    return best


def _doubled_column(index: int, name: str, first: int, second: int) -> InvalidInput:
    label_id, label_en = _LABELS[name]
    where = f"{_column_letter(first)}, {_column_letter(second)}"
    return _unusable(
        "roster.column_twice",
        f"Kolom {label_id} muncul lebih dari sekali di baris judul (baris {index + 1}, kolom "
        f"{where}); hapus salah satu.",
        f"The column {label_en} appears more than once in the header row (row {index + 1}, "
        f"columns {where}); remove one of them.",
    )


def _no_header(found: _Candidate | None) -> InvalidInput:
    if found is None:
        return _unusable(
            "roster.columns",
            f"Judul kolom tidak dikenali di {HEADER_SCAN_ROWS} baris pertama. "
            + _required_text("id"),
            f"No known column headers in the first {HEADER_SCAN_ROWS} rows. "
            + _required_text("en"),
        )
    missing_id = ", ".join(_LABELS[f][0] for f in found.missing)
    missing_en = ", ".join(_LABELS[f][1] for f in found.missing)
    return _unusable(
        "roster.columns",
        f"Baris judul (baris {found.index + 1}) tidak memuat kolom {missing_id}. "
        + _required_text("id"),
        f"The header row (row {found.index + 1}) lacks the column(s) {missing_en}. "
        + _required_text("en"),
    )


def _decode(raw: bytes) -> str:
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    else:
        encodings = ("utf-8-sig", "cp1252")
    for encoding in encodings:
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        if "\x00" not in text:
            return text
    raise _unusable(
        "roster.unreadable",
        "Berkas ini bukan CSV (UTF-8) atau XLSX yang dapat dibaca.",
        "This file is not a readable CSV (UTF-8) or XLSX file.",
    )


def _csv_rows(text: str, delimiter: str, limit: int | None = None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(itertools.islice(reader, limit)) if limit else list(reader)
    except csv.Error as exc:
        raise _unusable(
            "roster.unreadable",
            f"CSV tidak dapat dibaca di baris {reader.line_num} ({exc}).",
            f"The CSV cannot be read at line {reader.line_num} ({exc}).",
        ) from None


def _read_csv(raw: bytes) -> tuple[list[list[str]], _Header]:
    text = _decode(raw)
    delimiters = CSV_DELIMITERS
    first, _, rest = text.partition("\n")
    if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:
        # Excel's separator hint; Excel does not show it as a row, so neither do we.
        delimiters, text = (first.strip()[4],), rest
    best: _Candidate | None = None
    for delimiter in delimiters:
        try:
            found = _find_header(_csv_rows(text, delimiter, HEADER_SCAN_ROWS))
        except InvalidInput as exc:
            if exc.findings[0][1].code == "roster.column_twice":  # type: ignore[attr-defined]
                raise
            continue
        if isinstance(found, _Header):
            return _csv_rows(text, delimiter), found
        if found is not None and (best is None or len(found.missing) < len(best.missing)):
            best = found
    raise _no_header(best)


def _read_xlsx(raw: bytes) -> tuple[list[tuple[object, ...]], _Header]:
    import openpyxl  # only needed for workbooks

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not know
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            try:
                best: _Candidate | None = None
                for sheet in book.worksheets:
                    if not hasattr(sheet, "iter_rows"):
                        continue  # a chart sheet
                    sheet.reset_dimensions()  # the stored dimensions may be wrong
                    head = list(
                        itertools.islice(
                            sheet.iter_rows(min_row=1, values_only=True), HEADER_SCAN_ROWS
                        )
                    )
                    found = _find_header(head)
                    if isinstance(found, _Header):
                        return list(sheet.iter_rows(min_row=1, values_only=True)), found
                    if found is not None and (
                        best is None or len(found.missing) < len(best.missing)
                    ):
                        best = found
            finally:
                book.close()
    except InvalidInput:
        raise
    except Exception:  # a broken workbook can fail in zipfile, XML or openpyxl code
        raise _unusable(
            "roster.unreadable",
            "Berkas XLSX ini rusak atau tidak dapat dibaca. Simpan ulang dari Excel.",
            "This XLSX file is damaged or cannot be read. Save it again from Excel.",
        ) from None
    raise _no_header(best)


def _read(path: Path) -> tuple[Sequence[Sequence[object]], _Header]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason_id, reason_en = {
            FileNotFoundError: ("berkas tidak ada", "it does not exist"),
            IsADirectoryError: ("ini sebuah folder", "it is a folder"),
            PermissionError: ("tidak ada izin membaca", "no permission to read it"),
        }.get(type(exc), (exc.strerror or "I/O", exc.strerror or "I/O"))
        raise _unusable(
            "roster.unreadable",
            f"Berkas {path} tidak dapat dibuka ({reason_id}).",
            f"The file {path} cannot be opened ({reason_en}).",
        ) from None
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise _empty()
    if raw.startswith(b"PK\x03\x04"):
        return _read_xlsx(raw)
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise _unusable(
            "roster.old_excel",
            "Berkas Excel lama (.xls) tidak didukung. Simpan sebagai .xlsx atau CSV.",
            "Old Excel workbooks (.xls) are not supported. Save it as .xlsx or CSV.",
        )
    return _read_csv(raw)


def _empty() -> InvalidInput:
    return _unusable(
        "roster.empty",
        "Berkas tidak berisi baris data.",
        "The file holds no data rows.",
    )


# -- checking rows --------------------------------------------------------------------------------


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    return str(value).strip()


def _parse_date(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    found = _DAY_FIRST.fullmatch(text)
    if found:
        try:
            return date(int(found[3]), int(found[2]), int(found[1]))
        except ValueError:
            return None
    found = _ISO_WITH_MIDNIGHT.fullmatch(text)
    return parse_iso_date(found[1]) if found else None


def _word(text: str) -> str:
    return _NOT_WORD.sub(" ", _PARENTHESES.sub(" ", text.lower())).strip()


def _missing(name: str) -> Finding:
    label_id, label_en = _LABELS[name]
    return error("roster.missing", name, f"{label_id} wajib diisi.", f"The {label_en} is required.")


def _bad_date(name: str) -> Finding:
    label_id, label_en = _LABELS[name]
    return error(
        "roster.date",
        name,
        f"{label_id} harus tanggal yang ada, ditulis HH/BB/TTTT, HH-BB-TTTT atau TTTT-BB-HH.",
        f"The {label_en} must be a real date written dd/mm/yyyy, dd-mm-yyyy or yyyy-mm-dd.",
    )


_NIK_NUMERIC = error(
    "roster.nik_numeric",
    NIK,
    "NIK tersimpan sebagai angka, sehingga Excel bisa menghilangkan digit terakhirnya. "
    "Format kolom NIK sebagai Teks lalu ketik ulang NIK dari KTP.",
    "The NIK is stored as a number, so Excel may have dropped its last digit. Format the NIK "
    "column as Text and type the NIK again from the KTP.",
)
_BIRTH_IN_FUTURE = error(
    "roster.birth_date_future",
    BIRTH_DATE,
    "Tanggal lahir tidak boleh setelah hari ini.",
    "The birth date cannot be after today.",
)
_UNKNOWN_TYPE = error(
    "application.unknown_type",
    APPLICATION_TYPE,
    "Jenis permohonan tidak dikenal; tulis baru atau penggantian (habis berlaku/penuh).",
    "Unknown application type; write new or replacement (expired or full).",
)
_UNKNOWN_SESSION = error(
    "roster.session",
    SESSION,
    "Sesi harus pagi atau siang.",
    "The session must be pagi (morning) or siang (afternoon).",
)


def _cell(cells: Sequence[object], index: int) -> object:
    """The cell's value, stripped when text; None when absent or blank."""
    if index >= len(cells):
        return None
    value = cells[index]
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


class _Checker:
    """Checks rows against the domain rules; caches the results of repeated values."""

    def __init__(
        self, source: Source, columns: Mapping[str, int], plan: Record, today: date
    ) -> None:
        self.today = today
        self.visit_kind = VisitKind(str(plan.data["kind"]))
        self.visit_date = date.fromisoformat(str(plan.data["date"]))
        self.visit_session = BookingSession(str(plan.data["session"]))
        required = REQUIRED_COLUMNS[source]
        handlers: dict[str, Callable[[object, dict[str, object], list[Finding]], None]] = {
            NAME: self._name,
            BIRTH_DATE: self._birth_date,
            NIK: self._nik,
            APPLICATION_TYPE: self._application_type,
            PHONE: self._phone,
            BOOKING_CODE: self._booking_code,
            BOOKING_DATE: self._booking_date,
            SESSION: self._session,
        }
        # Birth date before NIK: the NIK is checked against it.
        self.steps = [
            (name, columns[name], name in required, handlers[name])
            for name in ENTRY_FIELDS
            if name in columns
        ]
        self.born: date | None = None
        self.names: dict[str, Checked[str]] = {}
        self.dates: dict[object, date | None] = {}
        self.types: dict[str, Checked[ApplicationType] | None] = {}
        self.sessions: dict[str, BookingSession | None] = {}
        self.other_day = error(
            "roster.other_day",
            BOOKING_DATE,
            f"Booking ini untuk tanggal lain, bukan tanggal kunjungan "
            f"({self.visit_date:%d-%m-%Y}).",
            f"This booking is for another day than the visit ({self.visit_date:%Y-%m-%d}).",
        )
        self.other_session = warning(
            "roster.other_session",
            SESSION,
            f"Booking ini untuk sesi lain; kunjungan ini sesi {self.visit_session.value}.",
            f"This booking is for the other session; the visit is the "
            f"{self.visit_session.value} session.",
        )

    def check(self, cells: Sequence[object]) -> tuple[dict[str, object], list[Finding]]:
        """The normalised entry (None for what is missing or invalid) and every finding."""
        data: dict[str, object] = dict.fromkeys(ENTRY_FIELDS)
        findings: list[Finding] = []
        self.born = None
        for name, index, required, handler in self.steps:
            value = _cell(cells, index)
            if name in _BOOKING_DETAILS and data[BOOKING_CODE] is None and not required:
                continue  # a booking's day and session mean nothing without its code
            if value is not None:
                handler(value, data, findings)
            elif required:
                findings.append(_missing(name))
        return data, findings

    def _date(self, raw: object) -> date | None:
        key = raw if isinstance(raw, str) else repr(raw)
        found = self.dates.get(key, False)
        if found is False:
            found = self.dates[key] = _parse_date(raw)
        return found  # type: ignore[return-value]

    def _name(self, value: object, data: dict[str, object], findings: list[Finding]) -> None:
        text = _text(value)
        name = self.names.get(text)
        if name is None:
            name = self.names[text] = check_person_name(text, NAME)
        if name.findings:
            findings.extend(name.findings)
        data[NAME] = name.value

    def _birth_date(self, value: object, data: dict[str, object], findings: list[Finding]) -> None:
        born = self._date(value)
        if born is None:
            findings.append(_bad_date(BIRTH_DATE))
        elif born > self.today:
            findings.append(_BIRTH_IN_FUTURE)
        else:
            self.born = born
            data[BIRTH_DATE] = born.isoformat()

    def _nik(self, value: object, data: dict[str, object], findings: list[Finding]) -> None:
        text = _text(value)
        if isinstance(value, int | float) or (
            ("e" in text or "E" in text) and _SCIENTIFIC.fullmatch(text)
        ):
            findings.append(_NIK_NUMERIC)
            return
        nik = parse_nik(text, stated_birth_date=self.born, today=self.today, field=NIK)
        if nik.findings:
            findings.extend(nik.findings)
        data[NIK] = nik.value.number if nik.value is not None else None

    def _application_type(
        self, value: object, data: dict[str, object], findings: list[Finding]
    ) -> None:
        text = _text(value)
        if text not in self.types:
            kind = _APPLICATION_WORDS.get(_word(text))
            self.types[text] = None if kind is None else may_serve(kind, self.visit_kind)
        served = self.types[text]
        if served is None:
            findings.append(_UNKNOWN_TYPE)
            return
        findings.extend(served.findings)
        data[APPLICATION_TYPE] = served.value.value if served.value is not None else None

    def _phone(self, value: object, data: dict[str, object], findings: list[Finding]) -> None:
        text = _text(value)
        if isinstance(value, int | float) and text.startswith("8"):
            text = "0" + text  # a number cell drops the leading 0 of 08…
        phone = check_phone(text, PHONE)
        if phone.findings:
            findings.extend(phone.findings)
        data[PHONE] = phone.value

    def _booking_code(
        self, value: object, data: dict[str, object], findings: list[Finding]
    ) -> None:
        code = check_booking_code(_text(value), BOOKING_CODE)
        if code.findings:
            findings.extend(code.findings)
        data[BOOKING_CODE] = code.value

    def _booking_date(
        self, value: object, data: dict[str, object], findings: list[Finding]
    ) -> None:
        booked = self._date(value)
        if booked is None:
            findings.append(_bad_date(BOOKING_DATE))
        elif booked != self.visit_date:
            findings.append(self.other_day)
        else:
            data[BOOKING_DATE] = booked.isoformat()

    def _session(self, value: object, data: dict[str, object], findings: list[Finding]) -> None:
        text = _text(value)
        if text not in self.sessions:
            words = [w for w in _word(text).split() if w not in ("sesi", "session")]
            self.sessions[text] = _SESSION_WORDS.get(words[0]) if words else None
        chosen = self.sessions[text]
        if chosen is None:
            findings.append(_UNKNOWN_SESSION)
            return
        if chosen is not self.visit_session:
            findings.append(self.other_session)
        data[SESSION] = chosen.value


def _duplicate(name: str, first_row: int) -> Finding:
    label_id, label_en = _LABELS[name]
    return error(
        "roster.duplicate",
        name,
        f"{label_id} ini sama dengan baris {first_row} di berkas ini; baris ini tidak diimpor.",
        f"This {label_en} is the same as on row {first_row} of this file; this row is not "
        "imported.",
    )


def _already_in_roster(name: str) -> Finding:
    label_id, label_en = _LABELS[name]
    return error(
        "roster.already_in_roster",
        name,
        f"{label_id} ini sudah ada di daftar pemohon kunjungan ini.",
        f"This {label_en} is already in this visit's roster.",
    )


def _visit_roster_ids(session: Session, visit_id: str) -> set[str]:
    rows = session.conn.execute(
        "SELECT id FROM records WHERE kind = ? AND visit_id = ?", (ROSTER, visit_id)
    )
    return {row[0] for row in rows}


def _blank(cells: Sequence[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _data_rows(
    rows: Sequence[Sequence[object]], header: _Header
) -> Iterator[tuple[int, Sequence[object]]]:
    for number, cells in enumerate(rows[header.index + 1 :], start=header.index + 2):
        if not _blank(cells):
            yield number, cells


# -- the public API ---------------------------------------------------------------------------


def import_roster(
    session: Session,
    visit_id: str,
    path: Path | str,
    *,
    progress: Progress | None = None,
    today: date | None = None,
) -> RosterImport:
    """Import a coordinator's list or an online-booking export into a visit's roster.

    Every row is checked; the good rows are stored as one action in one transaction (kind
    ``roster``, state ``expected``), together with one ``roster_imported`` audit entry that
    counts rows, imported, rejected and warned rows. Bad rows are returned, not stored.

    ``progress(done, total)`` is called at most about 100 times while rows are checked, and
    with ``(total, total)`` once the import has committed. ``today`` (default: the system
    date) is the day birth dates may not be after and two-digit NIK years resolve against.

    Raises :class:`NotFound` for an unknown visit and :class:`InvalidInput` (exit code 2, a
    message in both languages and one ``file`` finding: ``roster.unreadable``,
    ``roster.old_excel``, ``roster.empty``, ``roster.columns``, ``roster.column_twice``) when
    the file itself cannot be used; nothing is stored then.
    """
    syncstate.require_active_device(session.vault)
    plan = visit(session, visit_id)
    today = today or date.today()
    rows, header = _read(Path(path))
    data_rows = list(_data_rows(rows, header))
    total = len(data_rows)
    if total == 0:
        raise _empty()
    checker = _Checker(header.source, header.columns, plan, today)
    step = max(1, -(-total // PROGRESS_CALLS))
    good: list[tuple[int, dict[str, object], list[Finding]]] = []
    problems: dict[int, list[Finding]] = {}
    first_seen: dict[tuple[str, str], int] = {}
    for position, (number, cells) in enumerate(data_rows):
        if progress is not None and position % step == 0:
            progress(position, total)
        data, findings = checker.check(cells)
        for name in (NIK, BOOKING_CODE):
            value = data[name]
            if value is None:
                continue
            earlier = first_seen.setdefault((name, value), number)  # type: ignore[arg-type]
            if earlier != number:
                findings.append(_duplicate(name, earlier))
        if any(f.is_error for f in findings):
            problems[number] = findings
        else:
            good.append((number, data, findings))
    existing = _visit_roster_ids(session, visit_id)
    if existing:
        still_good = []
        for number, data, findings in good:
            for name in (NIK, BOOKING_CODE):
                value = data[name]
                if isinstance(value, str) and any(
                    rid in existing for _, rid in session.find(name, value, kind=ROSTER)
                ):
                    findings.append(_already_in_roster(name))
            if any(f.is_error for f in findings):
                problems[number] = findings
            else:
                still_good.append((number, data, findings))
        good = still_good
    changes = []
    for (number, data, findings), entry_id in zip(good, new_ids(len(good)), strict=True):
        data["source"] = header.source
        data["row"] = number
        data["warnings"] = [f.code for f in findings]
        changes.append(Change(ROSTER, entry_id, data, "expected", visit_id))
    warned = [RowProblem(n, tuple(f)) for n, _, f in good if f]
    rejected = [RowProblem(n, tuple(problems[n])) for n in sorted(problems)]
    summary = {
        "source": header.source,
        "rows": total,
        "imported": len(changes),
        "rejected": len(rejected),
        "warned": len(warned),
    }
    with db.transaction(session.conn):
        if changes:
            # One user action, one audit entry: its outbox range names every entry it wrote.
            session.write_in_transaction(
                changes, action="roster_imported", at=now(), summary=(f"visit:{visit_id}", summary)
            )
        else:
            audit.append(
                session.conn,
                session.vault.vault_id,
                session.officer_id,
                "roster_imported",
                f"visit:{visit_id}",
                summary,
            )
    if progress is not None:
        progress(total, total)
    return RosterImport(
        source=header.source,
        rows=total,
        imported=len(changes),
        ids=[c.id for c in changes],
        rejected=rejected,
        warnings=warned,
        ignored_columns=header.ignored,
    )


def roster_entries(session: Session, visit_id: str) -> list[Record]:
    """The latest version of every roster entry of a visit, in import order (file row order).

    Raises :class:`NotFound` for an unknown visit. Decrypts without auditing: a command that
    shows the entries to a person records the view itself (``roster_viewed``).
    """
    visit(session, visit_id)
    entries = session.latest(ROSTER, visit_id)
    return sorted(entries, key=lambda r: (r.at, _row_of(r)))


def _row_of(record: Record) -> int:
    row = record.data.get("row")
    return row if isinstance(row, int) else 0


__all__ = [
    "HEADER_ALIASES",
    "REQUIRED_COLUMNS",
    "RosterImport",
    "RowProblem",
    "import_roster",
    "roster_entries",
]
