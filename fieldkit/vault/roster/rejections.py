"""The findings a roster row can get, in both languages.

Errors make the row bad (rejected, not stored); warnings are kept with the stored entry.
"""

from __future__ import annotations

from datetime import date

from fieldkit.domain.calendar import VisitSession as BookingSession
from fieldkit.domain.findings import Finding, error, warning
from fieldkit.domain.roster import APPLICATION_TYPE, BIRTH_DATE, BOOKING_DATE, LABELS, NIK, SESSION

NIK_NUMERIC = error(
    "roster.nik_numeric",
    NIK,
    "NIK tersimpan sebagai angka, sehingga Excel bisa menghilangkan digit terakhirnya. "
    "Format kolom NIK sebagai Teks lalu ketik ulang NIK dari KTP.",
    "The NIK is stored as a number, so Excel may have dropped its last digit. Format the NIK "
    "column as Text and type the NIK again from the KTP.",
)
BIRTH_IN_FUTURE = error(
    "roster.birth_date_future",
    BIRTH_DATE,
    "Tanggal lahir tidak boleh setelah hari ini.",
    "The birth date cannot be after today.",
)
UNKNOWN_TYPE = error(
    "application.unknown_type",
    APPLICATION_TYPE,
    "Jenis permohonan tidak dikenal; tulis baru atau penggantian (habis berlaku/penuh).",
    "Unknown application type; write new or replacement (expired or full).",
)
UNKNOWN_SESSION = error(
    "roster.session",
    SESSION,
    "Sesi harus pagi atau siang.",
    "The session must be pagi (morning) or siang (afternoon).",
)


def missing(name: str) -> Finding:
    """A required cell is empty (``roster.missing``)."""
    label_id, label_en = LABELS[name]
    return error("roster.missing", name, f"{label_id} wajib diisi.", f"The {label_en} is required.")


def bad_date(name: str) -> Finding:
    """A date cell holds no real date in a known format (``roster.date``)."""
    label_id, label_en = LABELS[name]
    return error(
        "roster.date",
        name,
        f"{label_id} harus tanggal yang ada, ditulis HH/BB/TTTT, HH-BB-TTTT atau TTTT-BB-HH.",
        f"The {label_en} must be a real date written dd/mm/yyyy, dd-mm-yyyy or yyyy-mm-dd.",
    )


def other_day(visit_date: date) -> Finding:
    """A booking for another day than the visit's (``roster.other_day``, an error)."""
    return error(
        "roster.other_day",
        BOOKING_DATE,
        f"Booking ini untuk tanggal lain, bukan tanggal kunjungan ({visit_date:%d-%m-%Y}).",
        f"This booking is for another day than the visit ({visit_date:%Y-%m-%d}).",
    )


def other_session(visit_session: BookingSession) -> Finding:
    """A booking for the visit's day but the other session (``roster.other_session``)."""
    return warning(
        "roster.other_session",
        SESSION,
        f"Booking ini untuk sesi lain; kunjungan ini sesi {visit_session.value}.",
        f"This booking is for the other session; the visit is the {visit_session.value} session.",
    )


def duplicate(name: str, first_row: int) -> Finding:
    """A NIK or booking code that an earlier row of the file has (``roster.duplicate``)."""
    label_id, label_en = LABELS[name]
    return error(
        "roster.duplicate",
        name,
        f"{label_id} ini sama dengan baris {first_row} di berkas ini; baris ini tidak diimpor.",
        f"This {label_en} is the same as on row {first_row} of this file; this row is not "
        "imported.",
    )


def already_in_roster(name: str) -> Finding:
    """A NIK or booking code already in the visit's roster (``roster.already_in_roster``)."""
    label_id, label_en = LABELS[name]
    return error(
        "roster.already_in_roster",
        name,
        f"{label_id} ini sudah ada di daftar pemohon kunjungan ini.",
        f"This {label_en} is already in this visit's roster.",
    )
