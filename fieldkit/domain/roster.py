"""The fields of a roster entry, the columns each source requires, and their labels."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

Source = Literal["coordinator", "booking"]

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

REQUIRED_COLUMNS: Mapping[Source, tuple[str, ...]] = {
    "coordinator": (NAME, BIRTH_DATE, NIK, APPLICATION_TYPE),
    "booking": (BOOKING_CODE, BOOKING_DATE, SESSION),
}

# How messages name each field: (Indonesian, English).
LABELS: Mapping[str, tuple[str, str]] = {
    NAME: ("Nama", "name"),
    BIRTH_DATE: ("Tanggal Lahir", "birth date"),
    NIK: ("NIK", "NIK"),
    APPLICATION_TYPE: ("Jenis Permohonan", "new or replacement"),
    PHONE: ("No HP", "phone"),
    BOOKING_CODE: ("Kode Booking", "booking code"),
    BOOKING_DATE: ("Tanggal", "date"),
    SESSION: ("Sesi", "session"),
}
