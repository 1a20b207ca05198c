"""Reading a roster file (CSV or XLSX) into rows, and finding its header row.

The file is read into memory, never copied to a temporary file.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path

from fieldkit.vault.errors import InvalidInput
from fieldkit.vault.roster.headers import (
    HEADER_SCAN_ROWS,
    Candidate,
    Header,
    find_header,
    no_header,
)
from fieldkit.vault.roster.unusable import empty, unusable

CSV_DELIMITERS = (";", ",", "\t")


def read_sheet(path: Path) -> tuple[Sequence[Sequence[object]], Header]:
    """Every row of the file (header and rows above it included) and its header row.

    Raises :class:`InvalidInput` when the file cannot be used (``roster.unreadable``,
    ``roster.old_excel``, ``roster.empty``, ``roster.columns``, ``roster.column_twice``).
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason_id, reason_en = {
            FileNotFoundError: ("berkas tidak ada", "it does not exist"),
            IsADirectoryError: ("ini sebuah folder", "it is a folder"),
            PermissionError: ("tidak ada izin membaca", "no permission to read it"),
        }.get(type(exc), (exc.strerror or "I/O", exc.strerror or "I/O"))
        raise unusable(
            "roster.unreadable",
            f"Berkas {path} tidak dapat dibuka ({reason_id}).",
            f"The file {path} cannot be opened ({reason_en}).",
        ) from None
    if not raw.strip(b" \t\r\n\x00\xef\xbb\xbf"):
        raise empty()
    if raw.startswith(b"PK\x03\x04"):
        return _read_xlsx(raw)
    if raw.startswith(b"\xd0\xcf\x11\xe0"):
        raise unusable(
            "roster.old_excel",
            "Berkas Excel lama (.xls) tidak didukung. Simpan sebagai .xlsx atau CSV.",
            "Old Excel workbooks (.xls) are not supported. Save it as .xlsx or CSV.",
        )
    return _read_csv(raw)


def data_rows(
    rows: Sequence[Sequence[object]], header: Header
) -> Iterator[tuple[int, Sequence[object]]]:
    """The non-blank rows below the header, with their spreadsheet row numbers."""
    for number, cells in enumerate(rows[header.index + 1 :], start=header.index + 2):
        if not _blank(cells):
            yield number, cells


def _blank(cells: Sequence[object]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


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
    raise unusable(
        "roster.unreadable",
        "Berkas ini bukan CSV (UTF-8) atau XLSX yang dapat dibaca.",
        "This file is not a readable CSV (UTF-8) or XLSX file.",
    )


def _csv_rows(text: str, delimiter: str, limit: int | None = None) -> list[list[str]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        return list(itertools.islice(reader, limit)) if limit else list(reader)
    except csv.Error as exc:
        raise unusable(
            "roster.unreadable",
            f"CSV tidak dapat dibaca di baris {reader.line_num} ({exc}).",
            f"The CSV cannot be read at line {reader.line_num} ({exc}).",
        ) from None


def _read_csv(raw: bytes) -> tuple[list[list[str]], Header]:
    text = _decode(raw)
    delimiters = CSV_DELIMITERS
    first, _, rest = text.partition("\n")
    if first.strip().lower().startswith("sep=") and len(first.strip()) == 5:
        # Excel's separator hint; Excel does not show it as a row, so neither do we.
        delimiters, text = (first.strip()[4],), rest
    best: Candidate | None = None
    for delimiter in delimiters:
        try:
            found = find_header(_csv_rows(text, delimiter, HEADER_SCAN_ROWS))
        except InvalidInput as exc:
            if exc.findings[0][1].code == "roster.column_twice":  # type: ignore[attr-defined]
                raise
            continue
        if isinstance(found, Header):
            return _csv_rows(text, delimiter), found
        if found is not None and (best is None or len(found.missing) < len(best.missing)):
            best = found
    raise no_header(best)


def _read_xlsx(raw: bytes) -> tuple[list[tuple[object, ...]], Header]:
    import openpyxl  # only needed for workbooks

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles it does not know
            book = openpyxl.load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
            try:
                best: Candidate | None = None
                for sheet in book.worksheets:  # chart sheets are not among them
                    sheet.reset_dimensions()  # the stored dimensions may be wrong
                    head = list(
                        itertools.islice(
                            sheet.iter_rows(min_row=1, values_only=True), HEADER_SCAN_ROWS
                        )
                    )
                    found = find_header(head)
                    if isinstance(found, Header):
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
        raise unusable(
            "roster.unreadable",
            "Berkas XLSX ini rusak atau tidak dapat dibaca. Simpan ulang dari Excel.",
            "This XLSX file is damaged or cannot be read. Save it again from Excel.",
        ) from None
    raise no_header(best)
