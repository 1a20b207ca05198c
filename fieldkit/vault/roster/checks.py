"""Checking a roster row with the domain rules: a normalised entry and its findings."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import date

from fieldkit.domain.applications import ApplicationType, may_serve
from fieldkit.domain.calendar import VisitKind
from fieldkit.domain.calendar import VisitSession as BookingSession
from fieldkit.domain.findings import Checked, Finding
from fieldkit.domain.identifiers import check_booking_code, check_person_name, check_phone
from fieldkit.domain.nik import parse_nik
from fieldkit.domain.roster import (
    APPLICATION_TYPE,
    BIRTH_DATE,
    BOOKING_CODE,
    BOOKING_DATE,
    ENTRY_FIELDS,
    NAME,
    NIK,
    PHONE,
    REQUIRED_COLUMNS,
    SESSION,
    Source,
)
from fieldkit.vault.records import Record
from fieldkit.vault.roster.rejections import (
    BIRTH_IN_FUTURE,
    NIK_NUMERIC,
    UNKNOWN_SESSION,
    UNKNOWN_TYPE,
    bad_date,
    missing,
    other_day,
    other_session,
)
from fieldkit.vault.roster.values import as_text, cell, parse_date, word

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
_SCIENTIFIC = re.compile(r"[0-9](?:[.,][0-9]+)?[eE]\+?[0-9]+")


class RowChecker:
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
        self.other_day = other_day(self.visit_date)
        self.other_session = other_session(self.visit_session)

    def check(self, cells: Sequence[object]) -> tuple[dict[str, object], list[Finding]]:
        """The normalised entry (None for what is missing or invalid) and every finding."""
        data: dict[str, object] = dict.fromkeys(ENTRY_FIELDS)
        findings: list[Finding] = []
        self.born = None
        for name, index, required, handler in self.steps:
            value = cell(cells, index)
            if name in _BOOKING_DETAILS and data[BOOKING_CODE] is None and not required:
                continue  # a booking's day and session mean nothing without its code
            if value is not None:
                handler(value, data, findings)
            elif required:
                findings.append(missing(name))
        return data, findings

    def _date(self, raw: object) -> date | None:
        key = raw if isinstance(raw, str) else repr(raw)
        found = self.dates.get(key, False)
        if found is False:
            found = self.dates[key] = parse_date(raw)
        return found  # type: ignore[return-value]

    def _name(self, value: object, data: dict[str, object], findings: list[Finding]) -> None:
        text = as_text(value)
        name = self.names.get(text)
        if name is None:
            name = self.names[text] = check_person_name(text, NAME)
        if name.findings:
            findings.extend(name.findings)
        data[NAME] = name.value

    def _birth_date(self, value: object, data: dict[str, object], findings: list[Finding]) -> None:
        born = self._date(value)
        if born is None:
            findings.append(bad_date(BIRTH_DATE))
        elif born > self.today:
            findings.append(BIRTH_IN_FUTURE)
        else:
            self.born = born
            data[BIRTH_DATE] = born.isoformat()

    def _nik(self, value: object, data: dict[str, object], findings: list[Finding]) -> None:
        text = as_text(value)
        if isinstance(value, int | float) or (
            ("e" in text or "E" in text) and _SCIENTIFIC.fullmatch(text)
        ):
            findings.append(NIK_NUMERIC)
            return
        nik = parse_nik(text, stated_birth_date=self.born, today=self.today, field=NIK)
        if nik.findings:
            findings.extend(nik.findings)
        data[NIK] = nik.value.number if nik.value is not None else None

    def _application_type(
        self, value: object, data: dict[str, object], findings: list[Finding]
    ) -> None:
        text = as_text(value)
        if text not in self.types:
            kind = _APPLICATION_WORDS.get(word(text))
            self.types[text] = None if kind is None else may_serve(kind, self.visit_kind)
        served = self.types[text]
        if served is None:
            findings.append(UNKNOWN_TYPE)
            return
        findings.extend(served.findings)
        data[APPLICATION_TYPE] = served.value.value if served.value is not None else None

    def _phone(self, value: object, data: dict[str, object], findings: list[Finding]) -> None:
        text = as_text(value)
        if isinstance(value, int | float) and text.startswith("8"):
            text = "0" + text  # a number cell drops the leading 0 of 08…
        phone = check_phone(text, PHONE)
        if phone.findings:
            findings.extend(phone.findings)
        data[PHONE] = phone.value

    def _booking_code(
        self, value: object, data: dict[str, object], findings: list[Finding]
    ) -> None:
        code = check_booking_code(as_text(value), BOOKING_CODE)
        if code.findings:
            findings.extend(code.findings)
        data[BOOKING_CODE] = code.value

    def _booking_date(
        self, value: object, data: dict[str, object], findings: list[Finding]
    ) -> None:
        booked = self._date(value)
        if booked is None:
            findings.append(bad_date(BOOKING_DATE))
        elif booked != self.visit_date:
            findings.append(self.other_day)
        else:
            data[BOOKING_DATE] = booked.isoformat()

    def _session(self, value: object, data: dict[str, object], findings: list[Finding]) -> None:
        text = as_text(value)
        if text not in self.sessions:
            words = [w for w in word(text).split() if w not in ("sesi", "session")]
            self.sessions[text] = _SESSION_WORDS.get(words[0]) if words else None
        chosen = self.sessions[text]
        if chosen is None:
            findings.append(UNKNOWN_SESSION)
            return
        if chosen is not self.visit_session:
            findings.append(self.other_session)
        data[SESSION] = chosen.value
