"""Check-in at the counter: find the arrival, check them in, let walk-ins in, show the queue.

:func:`find_arrival` answers what the officer types (or a barcode scanner types): a booking
code or a NIK through the blind indexes, else part of a name through a
:class:`~fieldkit.domain.checkin.NameIndex` built once per session and visit from the
decrypted roster and kept in memory; nothing is decrypted per keystroke. :func:`check_in` marks
the entry arrived, makes the applicant (format 2, state ``waiting``) with the next queue number
and writes the three in one transaction (``checked_in``). :func:`walk_in` does the same for
someone without a booking. The watchlist check runs at every check-in with a NIK; the officer
is only told "refer to supervisor", never why.
"""

from __future__ import annotations

import functools
import random
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from fieldkit.domain.applicant import FIELDS
from fieldkit.domain.applications import ApplicationType, may_serve
from fieldkit.domain.checkin import NameIndex, check_arrival, priority_group
from fieldkit.domain.counter import (
    QUEUE_STATE,
    ROSTER_FORMAT,
    ApplicantState,
    QueueSeries,
    RosterState,
    counter_applicant,
    queue_label,
)
from fieldkit.domain.dates import parse_iso_date
from fieldkit.domain.fees import quote_fee
from fieldkit.domain.findings import Finding, Message, error
from fieldkit.domain.identifiers import check_booking_code, check_person_name, check_phone
from fieldkit.domain.ids import new_id
from fieldkit.domain.nik import parse_nik
from fieldkit.domain.products import check_product
from fieldkit.domain.queueing import empty_queue, next_number, series_for
from fieldkit.domain.text import compact, is_digits
from fieldkit.domain.walkin import REFUSALS, check_walk_in
from fieldkit.service.session import OfficerSession
from fieldkit.service.visits import invalid, require_open_visit
from fieldkit.vault import syncstate
from fieldkit.vault.clock import now
from fieldkit.vault.errors import InvalidInput, NotFound, ReferenceUnavailable, Refused
from fieldkit.vault.kinds import APPLICANT, QUEUE, ROSTER, VISIT
from fieldkit.vault.records import Change, Record, VersionConflict
from fieldkit.vault.roster.listing import roster_changes, roster_entries, write_signal
from sync.device.reference import watchlist_hit

__all__ = [
    "Arrival",
    "QueueItem",
    "RosterMatch",
    "check_in",
    "find_arrival",
    "prepare_index",
    "queue_view",
    "walk_in",
]

NIK_LENGTH = 16
# What a walk-in's ``person`` may hold; the rest is filled in at the counter.
WALK_IN_FIELDS = ("name", "birth_date", "nik", "sex", "phone", "application_type")
REFER = Message("Rujuk ke supervisor sebelum dilayani.", "Refer to supervisor before serving.")
NO_WATCHLIST = Message(
    "Daftar cekal belum ada di laptop ini: pemeriksaan belum dilakukan; sinkronkan dengan HQ.",
    "No watchlist on this laptop: the check was not made; sync with HQ.",
)


@dataclass(frozen=True, slots=True)
class RosterMatch:
    """A roster entry that matches what the officer typed, as the index holds it."""

    entry_id: str
    name: str
    booking_code: str | None
    birth_date: str | None
    state: str
    matched_by: str  # "booking_code", "nik" or "name"

    def as_json(self) -> dict[str, object]:
        """The match as ``fieldkit checkin --json`` lists it."""
        return {
            "entry_id": self.entry_id,
            "name": self.name,
            "booking_code": self.booking_code,
            "birth_date": self.birth_date,
            "state": self.state,
            "matched_by": self.matched_by,
        }


@dataclass(frozen=True, slots=True)
class Arrival:
    """Someone checked in: their applicant, queue number and what to tell the officer."""

    applicant_id: str
    entry_id: str | None
    queue_label: str
    series: str
    number: int
    refer_to_supervisor: bool
    message: Message
    warnings: tuple[Message, ...] = ()

    def as_json(self) -> dict[str, object]:
        """The arrival as ``fieldkit checkin --json`` and ``fieldkit walkin --json`` print it."""
        return {
            "applicant_id": self.applicant_id,
            "entry_id": self.entry_id,
            "queue": self.queue_label,
            "series": self.series,
            "number": self.number,
            "refer_to_supervisor": self.refer_to_supervisor,
            "message_id": self.message.id,
            "message_en": self.message.en,
            "warnings": [{"id": w.id, "en": w.en} for w in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class QueueItem:
    """One applicant in the visit's queue."""

    applicant_id: str
    label: str
    series: str
    number: int
    name: str
    state: str
    walk_in: bool
    refer_to_supervisor: bool

    def as_json(self) -> dict[str, object]:
        """The item as ``fieldkit queue --json`` prints it."""
        return {
            "applicant_id": self.applicant_id,
            "queue": self.label,
            "series": self.series,
            "number": self.number,
            "name": self.name,
            "state": self.state,
            "walk_in": self.walk_in,
            "refer_to_supervisor": self.refer_to_supervisor,
        }


# -- the name index, once per session and visit -------------------------------------------------


@dataclass
class _Cached:
    index: NameIndex
    states: dict[str, str]
    birth_dates: dict[str, str | None]
    seq: int  # the outbox number the index is current at
    signal: tuple[int, int]


class _IndexCache:
    """The name indexes of one session, by visit, with what tells whether each is current."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.visits: dict[str, _Cached] = {}


# Kept beside the session, not on it: the session knows nothing of the counter. Dropped with
# the session (and its decrypted names) when the session is collected.
_CACHES: weakref.WeakKeyDictionary[OfficerSession, _IndexCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def _cache(session: OfficerSession) -> _IndexCache:
    with _CACHES_LOCK:
        found = _CACHES.get(session)
        if found is None:
            found = _CACHES[session] = _IndexCache()
        return found


def _indexed(record: Record) -> tuple[str | None, str | None, str | None]:
    """What the index holds of an entry besides its id: name, booking code, NIK."""
    data = record.data
    return _text(data.get("name")), _text(data.get("booking_code")), _text(data.get("nik"))


def _build(session: OfficerSession, visit_id: str) -> _Cached:
    unlocked = session.unlocked
    signal = write_signal(unlocked)
    # Read before the entries: a write in between is seen again later (one needless rebuild
    # at worst), never missed.
    seq, _ = roster_changes(unlocked, visit_id, None)
    records = roster_entries(unlocked, visit_id)
    return _Cached(
        NameIndex((r.id, *_indexed(r)) for r in records),
        {r.id: r.state for r in records},
        {r.id: _text(r.data.get("birth_date")) for r in records},
        seq,
        signal,
    )


def _refresh(session: OfficerSession, held: _Cached, visit_id: str) -> bool:
    """Bring ``held`` up to date in place; False when the roster changed beyond states.

    Only the entries written since the index was built are read: a check-in (by this session
    or another process) changes an entry's state, not what the index holds of it.
    """
    unlocked = session.unlocked
    signal = write_signal(unlocked)
    seq, changed = roster_changes(unlocked, visit_id, held.seq)
    for entry_id in changed:
        entry = held.index.entry(entry_id)
        if entry is None:
            return False  # a new entry: rebuild
        record = unlocked.read(ROSTER, entry_id)
        if _indexed(record) != (entry.name or None, entry.booking_code, entry.nik):
            return False  # a name, code or NIK changed: rebuild
        held.states[entry_id] = record.state
        held.birth_dates[entry_id] = _text(record.data.get("birth_date"))
    held.seq, held.signal = seq, signal
    return True


def _current(session: OfficerSession, visit_id: str) -> _Cached:
    """The visit's index, brought up to date with what was written since it was built.

    Nothing written to the file since the last lookup (:func:`write_signal` unchanged): no
    query at all. Something written: the visit's roster entries written since (by outbox
    number), usually none; their states are updated in place, anything else rebuilds.
    """
    cache = _cache(session)
    with cache.lock:
        held = cache.visits.get(visit_id)
        if held is not None and (
            write_signal(session.unlocked) == held.signal or _refresh(session, held, visit_id)
        ):
            return held
        held = cache.visits[visit_id] = _build(session, visit_id)
        return held


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _match(held: _Cached, entry_id: str, how: str) -> RosterMatch:
    entry = held.index.entry(entry_id)
    assert entry is not None
    return RosterMatch(
        entry_id,
        entry.name,
        entry.booking_code,
        held.birth_dates.get(entry_id),
        held.states.get(entry_id, RosterState.EXPECTED.value),
        how,
    )


def prepare_index(session: OfficerSession, visit_id: str) -> int:
    """Build the visit's name index now (e.g. in a worker thread right after unlock).

    Decrypts the visit's roster once (about 2 s for 20,000 entries on a field laptop); every
    later :func:`find_arrival` answers from memory. Returns the number of entries indexed.
    """
    return len(_current(session, visit_id).index)


def find_arrival(
    session: OfficerSession, visit_id: str, query: str, *, limit: int = 10
) -> list[RosterMatch]:
    """Roster entries of the visit matching ``query``, best first (at most ``limit``).

    Sixteen digits: the NIK, exactly (blind index; the one hit is read). A booking code (6–20
    letters and digits, as a scanner types it): the same. When no entry of this visit has that
    NIK or code, or the query is shaped like neither, part of a name: any word's beginning, or
    anywhere in the name, ignoring case and accents, from the visit's name index (built on the
    first name search, see :func:`prepare_index`). Not audited: it shows what the roster list shows
    and is asked on every keystroke. Raises :class:`NotFound` for an unknown visit, and
    :class:`Refused` for a code or NIK on another visit's roster only (``checkin.other_date``
    with the booked day, or ``checkin.other_visit``).
    """
    text = query.strip()
    if not text:
        return []
    unlocked = session.unlocked
    digits = compact(text)
    elsewhere: list[Record] = []
    exact: list[tuple[str, str]] = []
    if len(digits) == NIK_LENGTH and is_digits(digits):
        exact.append(("nik", digits))
    code = check_booking_code(text)
    if code.ok and code.value is not None:
        exact.append(("booking_code", code.value))
    for field, value in exact:
        # A blind-index hit is one record: read it (no index needed, so a scanner's check-in
        # from the command line never decrypts the whole roster).
        records = [unlocked.read(ROSTER, i) for _, i in unlocked.find(field, value, kind=ROSTER)]
        here = [r for r in records if r.visit_id == visit_id]
        if here:
            return [_record_match(r, field) for r in here[:limit]]
        elsewhere += records
    if elsewhere:
        _refuse_elsewhere(session, visit_id, elsewhere[0])
    held = _current(session, visit_id)
    return [_match(held, e.entry_id, "name") for e in held.index.lookup(text, limit)]


def _record_match(record: Record, how: str) -> RosterMatch:
    name, booking_code, _nik = _indexed(record)
    birth_date = _text(record.data.get("birth_date"))
    return RosterMatch(record.id, name or "", booking_code, birth_date, record.state, how)


def _refuse_elsewhere(session: OfficerSession, visit_id: str, entry: Record) -> None:
    """A scanned code or NIK that is on another visit's roster: say which day it is for."""
    unlocked = session.unlocked
    if entry.visit_id is None:
        return
    other, this = unlocked.read(VISIT, entry.visit_id), unlocked.read(VISIT, visit_id)
    day, other_session = str(other.data.get("date")), str(other.data.get("session"))
    booked = parse_iso_date(entry.data.get("booking_date")) or parse_iso_date(day)
    this_day, this_session, _kind = _visit_day(this)
    _refused(check_arrival("expected", booked, None, this_day, this_session))
    raise Refused(
        Message(
            f"Pemohon ini terdaftar di kunjungan lain ({other.data.get('site')}, {day} sesi "
            f"{other_session}), bukan di kunjungan ini.",
            f"This person is on the roster of another visit ({other.data.get('site')}, {day} "
            f"{other_session} session), not this one.",
        ),
        "checkin.other_visit",
    )


# -- checking in --------------------------------------------------------------------------------


def _refused(findings: tuple[Finding, ...] | list[Finding]) -> None:
    errors = [f for f in findings if f.is_error]
    if errors:
        first = errors[0]
        raise Refused(first.message, first.code)


def _queue(session: OfficerSession, visit_id: str) -> tuple[dict[str, object], int]:
    """The visit's queue counters and the version they are at (0: none handed out yet)."""
    try:
        record = session.unlocked.read(QUEUE, visit_id)
    except NotFound:
        return empty_queue(), 0
    return dict(record.data), record.version


def _watchlist(session: OfficerSession, nik: str | None) -> tuple[dict[str, object], bool | None]:
    """The applicant's ``watchlist`` field, and True/False/None (hit, clear, not checked)."""
    unlocked = session.unlocked
    state = syncstate.reference_state(unlocked.vault)
    version = state.version if state is not None else None
    possible: bool | None = None
    if nik:
        try:
            possible = watchlist_hit(unlocked, nik).possible_match
        except (ReferenceUnavailable, InvalidInput):
            possible = None  # never taken as "no hit": the field says it was not checked
    return {"possible_match": possible, "reference_version": version, "resolution": None}, possible


def _fee(person: Mapping[str, object], on: date, session: OfficerSession) -> object:
    """The fee quote when the application type and the passport are known, else None."""
    born = parse_iso_date(person.get("birth_date"))
    app, kind, years = (person.get(k) for k in ("application_type", "product", "validity_years"))
    if born is None or app in (None, "") or kind in (None, "") or years is None:
        return None
    product = check_product(
        kind, years, birth_date=born, married=bool(person.get("married")), on=on
    )
    if product.value is None:
        return None
    try:
        app_type = ApplicationType(str(app))
    except ValueError:
        return None
    quote = quote_fee(
        app_type=app_type, product=product.value, on=on, schedules=session.fee_schedules()
    ).value
    if quote is None:
        return None
    return {
        "regulation": quote.regulation,
        "total": quote.total,
        "lines": [{"item": line.item, "amount": line.amount} for line in quote.lines],
    }


def _arrival_message(label: str, refer: bool, warnings: list[Message]) -> Message:
    told = Message(f"Nomor antrean {label}.", f"Queue number {label}.")
    parts = [told, *([REFER] if refer else []), *warnings]
    return Message(" ".join(p.id for p in parts), " ".join(p.en for p in parts))


def _visit_day(visit: Record) -> tuple[date, str, str]:
    data = visit.data
    return date.fromisoformat(str(data["date"])), str(data["session"]), str(data["kind"])


# Two processes on one vault (the field app and a CLI command, two officers' windows) may read
# the same queue counters; the second write then fails its version check. A check-in is tried
# again from a fresh read, a few times, after a short random wait so the two drift apart.
ATTEMPTS = 6
RETRY_WAIT = 0.02  # seconds before the second try; doubled before each later one
CONFLICT = Message(
    "Antrean atau entri ini terus diubah di sesi lain; ulangi check-in.",
    "The queue or this entry kept being changed by another session; check in again.",
)


def _retrying(attempt: Callable[[], Arrival]) -> Arrival:
    """``attempt()``, run again from a fresh read while another process wins the write."""
    for tries in range(ATTEMPTS):
        try:
            return attempt()
        except VersionConflict as exc:
            if tries == ATTEMPTS - 1:
                raise Refused(CONFLICT, "checkin.conflict") from exc
            time.sleep(RETRY_WAIT * 2**tries * random.uniform(0.5, 1.5))
    raise AssertionError("unreachable")


def _hand_out(
    session: OfficerSession,
    visit_id: str,
    person: Mapping[str, object],
    series: QueueSeries,
    watched: tuple[dict[str, object], bool | None],
    warnings: list[Message],
    *,
    entry: Record | None = None,
    walk_in: dict[str, object] | None = None,
    counters: tuple[dict[str, object], int] | None = None,
) -> Arrival:
    """Give ``person`` the next number of ``series``: applicant, queue (and entry) in one write.

    The queue record is read here, just before the write (or given as ``counters``, with the
    version they were read at, when a rule was checked on them), so the window in which
    another process can take a number first is small; when it does, the write raises
    :class:`VersionConflict` and :func:`_retrying` starts the attempt again.
    """
    queue, queue_version = counters if counters is not None else _queue(session, visit_id)
    queue = dict(queue)
    last, number = next_number(queue.get("last") or {}, series)  # type: ignore[arg-type]
    if walk_in is not None:
        queue["walk_ins"] = int(queue.get("walk_ins") or 0) + 1  # type: ignore[call-overload]
    watch, possible = watched
    at = now()
    applicant_id = new_id()
    applicant = counter_applicant(
        person,
        roster_entry_id=entry.id if entry is not None else None,
        walk_in=walk_in,
        queue={"series": series.value, "number": number},
        watchlist=watch,
        checked_in_at=at,
        checked_in_by=session.officer_id,
    )
    changes = []
    if entry is not None:
        arrived = {
            **entry.data,
            "format": ROSTER_FORMAT,
            "arrived_at": at,
            "applicant_id": applicant_id,
        }
        changes.append(
            Change(ROSTER, entry.id, arrived, RosterState.ARRIVED, visit_id, entry.version)
        )
    changes += [
        Change(APPLICANT, applicant_id, applicant, ApplicantState.WAITING, visit_id),
        Change(QUEUE, visit_id, {**queue, "last": last}, QUEUE_STATE, visit_id, queue_version),
    ]
    session.unlocked.write(changes, action="checked_in")
    label = queue_label(series, number)
    refer = possible is True
    return Arrival(
        applicant_id,
        entry.id if entry is not None else None,
        label,
        series.value,
        number,
        refer,
        _arrival_message(label, refer, warnings),
        tuple(warnings),
    )


def check_in(session: OfficerSession, visit_id: str, entry_id: str) -> Arrival:
    """Check a roster entry in: arrived, an applicant waiting with the next queue number.

    The entry, the applicant and the queue counters are written in one transaction (audited
    ``checked_in``), so queue numbers stay gapless per series. Refused (:class:`Refused`, its
    ``code`` from :func:`~fieldkit.domain.checkin.check_arrival`) for an entry already
    checked in, a no-show, a withdrawn entry or a booking for another day; the visit must be
    open (:func:`~fieldkit.service.visits.require_open_visit`). A NIK the watchlist may hold
    sets ``refer_to_supervisor``; the officer is told only to refer. When another process
    checks someone in at the same moment, the check-in is tried again from a fresh read (up
    to :data:`ATTEMPTS` times, then ``checkin.conflict``); an entry the other process checked
    in meanwhile is refused as already arrived.
    """
    # The watchlist check (tens of ms of Argon2id) is made once per NIK, not on every try.
    watchlist = functools.cache(lambda nik: _watchlist(session, nik))
    return _retrying(lambda: _check_in_once(session, visit_id, entry_id, watchlist))


def _check_in_once(
    session: OfficerSession,
    visit_id: str,
    entry_id: str,
    watchlist: Callable[[str | None], tuple[dict[str, object], bool | None]],
) -> Arrival:
    visit = require_open_visit(session, visit_id)
    entry = session.unlocked.read(ROSTER, entry_id)
    if entry.visit_id != visit_id:
        raise NotFound(
            Message(
                f"Entri {entry_id} tidak ada di daftar kunjungan {visit_id}.",
                f"Entry {entry_id} is not on the roster of visit {visit_id}.",
            )
        )
    on, visit_session, _kind = _visit_day(visit)
    data = entry.data
    label = None
    if entry.state == RosterState.ARRIVED:
        label = _label_of(session, data.get("applicant_id"))
    findings = check_arrival(
        entry.state,
        parse_iso_date(data.get("booking_date")),
        _text(data.get("session")),
        on,
        visit_session,
        arrived_at=_when(data.get("arrived_at")),
        queue_label=label,
    )
    _refused(findings)
    warnings = [f.message for f in findings]
    person: dict[str, object] = {field: data.get(field) for field in FIELDS}
    person["fee"] = _fee(person, on, session)
    watched = watchlist(_text(data.get("nik")))
    if watched[1] is None and data.get("nik"):
        warnings.append(NO_WATCHLIST)
    born = parse_iso_date(data.get("birth_date"))
    series = series_for(priority_group(born, on) is not None)
    return _hand_out(session, visit_id, person, series, watched, warnings, entry=entry)


def _when(at: object) -> str | None:
    """A stored time as read out: ``2026-12-01 08:14 UTC``."""
    if not isinstance(at, str) or len(at) < 16:
        return None
    return f"{at[:10]} {at[11:16]} UTC"


def _label_of(session: OfficerSession, applicant_id: object) -> str | None:
    if not isinstance(applicant_id, str):
        return None
    try:
        queue = session.unlocked.read(APPLICANT, applicant_id).data.get("queue")
    except NotFound:
        return None
    if isinstance(queue, dict) and isinstance(queue.get("number"), int):
        return queue_label(str(queue.get("series")), int(queue["number"]))
    return None


# -- walk-ins -----------------------------------------------------------------------------------


def _person(raw: Mapping[str, object], on: date, visit_kind: str) -> dict[str, object]:
    """The walk-in's fields checked with the applicant rules: name and birth date required."""
    findings: list[Finding] = []
    person: dict[str, object] = dict.fromkeys(FIELDS)
    unknown = sorted(str(k) for k in raw if k not in WALK_IN_FIELDS)
    if unknown:
        findings.append(
            _error("walkin.unknown_field", unknown[0], "Kolom tidak dikenal", "Unknown field")
        )
    name = check_person_name(raw.get("name") or "")
    findings.extend(name.findings)
    person["name"] = name.value
    born = parse_iso_date(raw.get("birth_date"))
    if born is None or born > on:
        findings.append(
            _error(
                "walkin.birth_date",
                "birth_date",
                "Tanggal lahir wajib, berformat TTTT-BB-HH",
                "A birth date is required, written YYYY-MM-DD",
            )
        )
    person["birth_date"] = born.isoformat() if born else None
    if raw.get("nik") not in (None, ""):
        nik = parse_nik(raw["nik"], stated_birth_date=born)
        findings.extend(f for f in nik.findings if f.is_error)
        person["nik"] = nik.value.number if nik.value is not None else None
    if raw.get("phone") not in (None, ""):
        phone = check_phone(raw["phone"])
        findings.extend(phone.findings)
        person["phone"] = phone.value
    if raw.get("application_type") not in (None, ""):
        served = may_serve(raw["application_type"], visit_kind)
        findings.extend(served.findings)
        person["application_type"] = str(served.value) if served.value is not None else None
    sex = raw.get("sex")
    if sex not in (None, "", "M", "F"):
        findings.append(
            _error("walkin.sex", "sex", "Jenis kelamin harus M atau F", "Sex is M or F")
        )
    person["sex"] = sex or None
    errors = [f for f in findings if f.is_error]
    if errors:
        raise invalid([(0, f) for f in errors])
    return person


def _error(code: str, field: str, id_text: str, en_text: str) -> Finding:
    return error(code, field, f"{id_text}.", f"{en_text}.")


def walk_in(
    session: OfficerSession, visit_id: str, person: Mapping[str, object], *, group: str, reason: str
) -> Arrival:
    """Let someone without a booking in: an applicant waiting with the next queue number.

    ``person`` holds :data:`WALK_IN_FIELDS`: ``name`` and ``birth_date`` are required; a NIK,
    sex, phone and application type are checked when given. ``group`` and ``reason`` pass
    :func:`~fieldkit.domain.walkin.check_walk_in`: outside the priority groups, beyond the
    Simpatik quota or off a Simpatik visit the walk-in is :class:`Refused` with the reason to
    read out; a missing reason is invalid input. The applicant and the queue counters (the
    day's walk-in count with them) are written in one transaction (``checked_in``); when
    another process takes a number at the same moment, the walk-in is tried again from a
    fresh read of the counters, the quota checked again (as :func:`check_in` does).
    """
    watchlist = functools.cache(lambda nik: _watchlist(session, nik))
    return _retrying(lambda: _walk_in_once(session, visit_id, person, group, reason, watchlist))


def _walk_in_once(
    session: OfficerSession,
    visit_id: str,
    person: Mapping[str, object],
    group: str,
    reason: str,
    watchlist: Callable[[str | None], tuple[dict[str, object], bool | None]],
) -> Arrival:
    visit = require_open_visit(session, visit_id)
    on, _session, kind = _visit_day(visit)
    checked_person = _person(person, on, kind)
    born = parse_iso_date(checked_person["birth_date"])
    assert born is not None
    checked_person["fee"] = _fee(checked_person, on, session)
    watched = watchlist(_text(checked_person.get("nik")))
    warnings = [NO_WATCHLIST] if watched[1] is None and checked_person.get("nik") else []
    # The quota is checked on these counters and the write carries their version: a walk-in
    # let in meanwhile by another process makes this try start over, the quota checked again.
    counters = _queue(session, visit_id)
    quota = visit.data.get("walk_in_quota")
    checked = check_walk_in(
        group,
        reason,
        birth_date=born,
        on=on,
        visit_kind=kind,
        walk_ins_so_far=int(counters[0].get("walk_ins") or 0),  # type: ignore[call-overload]
        quota=quota if isinstance(quota, int) else None,
    )
    refusals = [f for f in checked.errors if f.code in REFUSALS]
    if refusals:
        raise Refused(refusals[0].message, refusals[0].code)
    if checked.errors or checked.value is None:
        raise invalid([(0, f) for f in checked.errors])
    chosen = checked.value
    series = series_for(chosen.priority or priority_group(born, on) is not None)
    return _hand_out(
        session,
        visit_id,
        checked_person,
        series,
        watched,
        warnings,
        walk_in={"group": chosen.value, "reason": reason.strip()},
        counters=counters,
    )


# -- the queue ----------------------------------------------------------------------------------

_SHOWN = frozenset({ApplicantState.WAITING, ApplicantState.AT_COUNTER})


def queue_view(
    session: OfficerSession, visit_id: str, *, include_done: bool = False
) -> list[QueueItem]:
    """The visit's queue: applicants waiting or at the counter (every one with ``include_done``).

    Priority series first, then regular, each in number order. Audited (``queue_viewed``): it
    shows names.
    """
    unlocked = session.unlocked
    session.unlocked.read(VISIT, visit_id)
    items: list[QueueItem] = []
    for record in unlocked.latest(APPLICANT, visit_id):
        queue = record.data.get("queue")
        if not isinstance(queue, dict) or not isinstance(queue.get("number"), int):
            continue  # captured without the counter workflow: not in the queue
        if not include_done and record.state not in _SHOWN:
            continue
        watch = record.data.get("watchlist")
        series, number = str(queue.get("series")), int(queue["number"])
        items.append(
            QueueItem(
                record.id,
                queue_label(series, number),
                series,
                number,
                str(record.data.get("name") or ""),
                record.state,
                record.data.get("walk_in") is not None,
                isinstance(watch, dict)
                and watch.get("possible_match") is True
                and watch.get("resolution") is None,
            )
        )
    items.sort(key=lambda i: (i.series != QueueSeries.PRIORITY, i.number))
    unlocked.note("queue_viewed", f"visit:{visit_id}", {"shown": len(items)})
    return items
