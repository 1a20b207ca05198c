"""Recognising the header row: Indonesian and English column names mapped to entry fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from fieldkit.domain.roster import (
    APPLICATION_TYPE,
    BIRTH_DATE,
    BOOKING_CODE,
    BOOKING_DATE,
    LABELS,
    NAME,
    NIK,
    PHONE,
    REQUIRED_COLUMNS,
    SESSION,
    Source,
)
from fieldkit.vault.errors import InvalidInput
from fieldkit.vault.roster.unusable import unusable
from fieldkit.vault.roster.values import word

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

HEADER_SCAN_ROWS = 10


@dataclass(frozen=True)
class Header:
    """A recognised header row: the source it names and where each field's column is."""

    index: int  # 0-based position of the header row in the rows read
    source: Source
    columns: dict[str, int]  # field -> 0-based column
    ignored: tuple[str, ...]


@dataclass(frozen=True)
class Candidate:
    """The row closest to a header row, and the required columns it lacks."""

    index: int
    columns: dict[str, int]
    missing: tuple[str, ...]


def _normal_header(cell: object) -> str:
    if not isinstance(cell, str):
        return ""
    return word(cell.replace("\ufeff", ""))


def find_header(rows: Sequence[Sequence[object]]) -> Header | Candidate | None:
    """The header row among the first rows, or the closest candidate, or None."""
    best: Candidate | None = None
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
                return Header(index, source, columns, tuple(ignored))  # type: ignore[arg-type]
            if best is None or len(missing) < len(best.missing):
                best = Candidate(index, columns, missing)
    return best


def no_header(found: Candidate | None) -> InvalidInput:
    """The error for a file without a recognised header row (``roster.columns``)."""
    if found is None:
        return unusable(
            "roster.columns",
            f"Judul kolom tidak dikenali di {HEADER_SCAN_ROWS} baris pertama. "
            + _required_text("id"),
            f"No known column headers in the first {HEADER_SCAN_ROWS} rows. "
            + _required_text("en"),
        )
    missing_id = ", ".join(LABELS[f][0] for f in found.missing)
    missing_en = ", ".join(LABELS[f][1] for f in found.missing)
    return unusable(
        "roster.columns",
        f"Baris judul (baris {found.index + 1}) tidak memuat kolom {missing_id}. "
        + _required_text("id"),
        f"The header row (row {found.index + 1}) lacks the column(s) {missing_en}. "
        + _required_text("en"),
    )


def _doubled_column(index: int, name: str, first: int, second: int) -> InvalidInput:
    label_id, label_en = LABELS[name]
    where = f"{_column_letter(first)}, {_column_letter(second)}"
    return unusable(
        "roster.column_twice",
        f"Kolom {label_id} muncul lebih dari sekali di baris judul (baris {index + 1}, kolom "
        f"{where}); hapus salah satu.",
        f"The column {label_en} appears more than once in the header row (row {index + 1}, "
        f"columns {where}); remove one of them.",
    )


def _required_text(lang: Literal["id", "en"]) -> str:
    pick = 0 if lang == "id" else 1
    coordinator = ", ".join(LABELS[f][pick] for f in REQUIRED_COLUMNS["coordinator"])
    booking = ", ".join(LABELS[f][pick] for f in REQUIRED_COLUMNS["booking"])
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
