"""When and where passports are served: visit kinds, sessions, Simpatik Saturdays, visit plans."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum
from typing import TypeVar

from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.findings import Checked, Finding, Message, error, warning
from fieldkit.domain.identifiers import check_person_name, check_phone

_SATURDAY = 5
_SUNDAY = 6
_DECEMBER = 12

E = TypeVar("E", bound=StrEnum)


class VisitKind(StrEnum):
    """Where the service runs: a requested visit, a Simpatik Saturday, or the office itself."""

    EAZY = "eazy"
    SIMPATIK = "simpatik"
    OFFICE = "office"

    @property
    def label(self) -> Message:
        """The kind of visit in both working languages."""
        return _VISIT_LABELS[self]


_VISIT_LABELS: dict[VisitKind, Message] = {
    VisitKind.EAZY: Message(
        "Eazy Passport (paspor keliling atas permintaan, dengan koordinator)",
        "Eazy Passport (mobile service on request, with a coordinator)",
    ),
    VisitKind.SIMPATIK: Message(
        "Paspor Simpatik (Sabtu ke-2 dan ke-4)", "Paspor Simpatik (2nd and 4th Saturday)"
    ),
    VisitKind.OFFICE: Message("Layanan di Kantor Imigrasi", "Service at the immigration office"),
}


class VisitSession(StrEnum):
    """The half-day an applicant books in M-Paspor: morning or afternoon."""

    PAGI = "pagi"
    SIANG = "siang"

    @property
    def start(self) -> time:
        """When the session opens."""
        return _SESSION_HOURS[self][0]

    @property
    def end(self) -> time:
        """When the session closes."""
        return _SESSION_HOURS[self][1]

    @property
    def label(self) -> Message:
        """The session with its hours, written the way each language writes times."""
        name = _SESSION_NAMES[self]
        start, end = self.start, self.end
        return Message(
            f"{name.id} ({start:%H.%M}–{end:%H.%M})", f"{name.en} ({start:%H:%M}–{end:%H:%M})"
        )


# A visit day runs 08:00–16:00 (DOMAIN.md); the two booking sessions split it at noon.
_SESSION_HOURS: dict[VisitSession, tuple[time, time]] = {
    VisitSession.PAGI: (time(8, 0), time(12, 0)),
    VisitSession.SIANG: (time(12, 0), time(16, 0)),
}
_SESSION_NAMES: dict[VisitSession, Message] = {
    VisitSession.PAGI: Message("pagi", "morning"),
    VisitSession.SIANG: Message("siang", "afternoon"),
}
# The seed article says "pagi atau sore"; M-Paspor says "siang". Both mean the afternoon session.
_SESSION_ALIASES: dict[str, VisitSession] = {"sore": VisitSession.SIANG}


def simpatik_saturdays(year: int, month: int) -> tuple[date, date]:
    """Return the 2nd and 4th Saturdays of the month, the Paspor Simpatik days.

    The seed says "hari Sabtu di Minggu kedua dan keempat"; read as the 2nd and 4th Saturday of
    the month, which always exist (the 4th falls on the 22nd to 28th).
    """
    first = date(year, month, 1)
    first_saturday = 1 + (_SATURDAY - first.weekday()) % 7
    return date(year, month, first_saturday + 7), date(year, month, first_saturday + 21)


def is_simpatik_saturday(d: date) -> bool:
    """Return True when ``d`` is the 2nd or 4th Saturday of its month."""
    return d in simpatik_saturdays(d.year, d.month)


def next_simpatik_saturday(on_or_after: date) -> date:
    """Return the first Simpatik Saturday on or after ``on_or_after``.

    Raises :class:`ValueError` only past the last Simpatik Saturday the calendar can hold
    (December 9999).
    """
    for saturday in simpatik_saturdays(on_or_after.year, on_or_after.month):
        if saturday >= on_or_after:
            return saturday
    if on_or_after.month == _DECEMBER:
        return simpatik_saturdays(on_or_after.year + 1, 1)[0]
    return simpatik_saturdays(on_or_after.year, on_or_after.month + 1)[0]


@dataclass(frozen=True, slots=True)
class VisitPlan:
    """One service day: what kind, when, which session, where, and who coordinates on site.

    ``coordinator_name`` is normalised as on a KTP; ``coordinator_phone`` is E.164 (+628…).
    """

    kind: VisitKind
    on: date
    session: VisitSession
    site: str
    coordinator_name: str | None = None
    coordinator_phone: str | None = None

    def as_data(self) -> dict[str, object]:
        """The visit as stored and sent: the fields of a visit record (and of HQ's roster)."""
        return {
            "kind": self.kind.value,
            "date": self.on.isoformat(),
            "session": self.session.value,
            "site": self.site,
            "coordinator_name": self.coordinator_name,
            "coordinator_phone": self.coordinator_phone,
        }


def check_visit_plan(
    kind: object,
    on: object,
    session: object,
    site: object,
    coordinator_name: object = None,
    coordinator_phone: object = None,
) -> Checked[VisitPlan]:
    """Check a planned service day and return it normalised, with every problem found.

    - ``kind`` and ``session`` are the lowercase words (``eazy``/``simpatik``/``office``,
      ``pagi``/``siang``; ``sore`` is read as ``siang``).
    - ``on`` is a :class:`date` or a ``YYYY-MM-DD`` string.
    - ``site`` is the place's name, not blank.
    - An Eazy Passport visit needs the coordinator's name and mobile number, because the
      request letter names them and the team calls the coordinator about missing documents.
      For other kinds they are optional, and checked when given.
    - A Simpatik day must be a 2nd or 4th Saturday; the error names the next one.
    - Office service on a Sunday is allowed but unusual: a warning.
    """
    findings: list[Finding] = []
    visit_kind = _parse_word(kind, VisitKind, {})
    if visit_kind is None:
        findings.append(_unknown("visit.unknown_kind", "kind", kind, VisitKind))
    day = _parse_day(on)
    if day is None:
        findings.append(
            error(
                "visit.date",
                "on",
                f"Tanggal layanan harus berupa tanggal YYYY-MM-DD, bukan {_show(on)}.",
                f"The service date must be a YYYY-MM-DD date, not {_show(on)}.",
            )
        )
    visit_session = _parse_word(session, VisitSession, _SESSION_ALIASES)
    if visit_session is None:
        findings.append(_unknown("visit.unknown_session", "session", session, VisitSession))
    place = " ".join(site.split()) if isinstance(site, str) else ""
    if not place:
        findings.append(
            error(
                "visit.site_missing",
                "site",
                "Lokasi layanan wajib diisi.",
                "The service location is required.",
            )
        )
    required = visit_kind is VisitKind.EAZY
    name = _coordinator(coordinator_name, "coordinator_name", check_person_name, required, findings)
    phone = _coordinator(coordinator_phone, "coordinator_phone", check_phone, required, findings)
    if visit_kind is not None and day is not None:
        findings.extend(_day_findings(visit_kind, day))
    if visit_kind is None or day is None or visit_session is None or not place:
        return Checked.invalid(*findings)
    return Checked.of(VisitPlan(visit_kind, day, visit_session, place, name, phone), findings)


def _parse_word(raw: object, enum: type[E], aliases: dict[str, E]) -> E | None:
    if not isinstance(raw, str):
        return None
    word = raw.strip().lower()
    if word in aliases:
        return aliases[word]
    try:
        return enum(word)
    except ValueError:
        return None


def _parse_day(raw: object) -> date | None:
    # A datetime is a date to isinstance, but comparing it with dates raises: keep its day.
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    return parse_iso_date(raw)


def _coordinator(
    raw: object,
    field: str,
    check: Callable[[object, str], Checked[str]],
    required: bool,
    findings: list[Finding],
) -> str | None:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if required:
            findings.append(_coordinator_missing(field))
        return None
    checked = check(raw, field)
    findings.extend(checked.findings)
    return checked.value


def _coordinator_missing(field: str) -> Finding:
    what_id, what_en = (
        ("Nama", "name") if field == "coordinator_name" else ("Nomor HP", "mobile number")
    )
    return error(
        f"visit.{field}_missing",
        field,
        f"{what_id} koordinator wajib diisi untuk layanan Eazy Passport: tim menghubungi "
        "koordinator tentang jadwal dan dokumen yang kurang.",
        f"The coordinator's {what_en} is required for an Eazy Passport visit: the team calls "
        "the coordinator about the schedule and missing documents.",
    )


def _day_findings(kind: VisitKind, day: date) -> list[Finding]:
    if kind is VisitKind.SIMPATIK and not is_simpatik_saturday(day):
        return [_not_simpatik_saturday(day)]
    if kind is VisitKind.OFFICE and day.weekday() == _SUNDAY:
        return [
            warning(
                "visit.office_sunday",
                "on",
                f"{_long_date_id(day)}: Kantor Imigrasi biasanya tutup pada hari Minggu. "
                "Pastikan layanan memang dibuka hari itu.",
                f"{_long_date_en(day)}: the immigration office is usually closed on Sundays. "
                "Make sure the service really opens that day.",
            )
        ]
    return []


def _not_simpatik_saturday(day: date) -> Finding:
    try:
        suggestion = next_simpatik_saturday(day)
    except ValueError:
        suggestion = None
    hint_id = hint_en = ""
    if suggestion is not None:
        hint_id = f" Hari Simpatik terdekat: {_long_date_id(suggestion)}."
        hint_en = f" The next Simpatik day is {_long_date_en(suggestion)}."
    return error(
        "visit.not_simpatik_saturday",
        "on",
        f"Paspor Simpatik hanya dibuka pada hari Sabtu ke-2 dan ke-4 setiap bulan; "
        f"{_long_date_id(day)} bukan salah satunya.{hint_id}",
        f"Paspor Simpatik only opens on the 2nd and 4th Saturday of each month; "
        f"{_long_date_en(day)} is not one of them.{hint_en}",
    )


def _unknown(code: str, field: str, raw: object, enum: type[StrEnum]) -> Finding:
    choices = ", ".join(member.value for member in enum)
    return error(
        code,
        field,
        f"Isian {_show(raw)} tidak dikenal; pilih salah satu: {choices}.",
        f"Unknown value {_show(raw)}; choose one of: {choices}.",
    )


def _show(value: object) -> str:
    shown = repr(value)
    return shown if len(shown) <= 40 else f"{shown[:37]}..."


_DAYS_ID = ("Senin", "Selasa", "Rabu", "Kamis", "Jumat", "Sabtu", "Minggu")
_MONTHS_ID = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)
_DAYS_EN = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS_EN = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _long_date_id(day: date) -> str:
    # Spelled out rather than strftime, whose names follow the machine's locale.
    return f"{_DAYS_ID[day.weekday()]}, {day.day} {_MONTHS_ID[day.month - 1]} {day.year}"


def _long_date_en(day: date) -> str:
    return f"{_DAYS_EN[day.weekday()]} {day.day} {_MONTHS_EN[day.month - 1]} {day.year}"
