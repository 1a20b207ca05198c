"""A synthetic visit day for demos, tests and benchmarks: deterministic for a seed, never real.

:func:`synthetic_day` plans one visit and scripts its day at the counter: the roster the
coordinator sends (synthetic people from :mod:`fieldkit.domain.synth`), the arrivals in the
order and at the times they come (gaps drawn from an exponential distribution, as arrivals at a
counter are), a share of no-shows, priority walk-ins, applicants missing a document, one
booking for an expired passport that turns out to be a lost one (a lost passport is served
only at the office, so it is refused with the explanation), and one person on HQ's watchlist
(the check-in says "refer to supervisor"). Each scripted arrival says what the officer does
at the counter and the decision that follows, so a driver (the day test, the demo, a
benchmark) plays it through the commands and checks the outcome.

The script is plain data (:meth:`SyntheticDay.as_json`): ``fieldkit synth day`` writes it
beside the roster as a CSV file the roster import reads.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from fieldkit.domain.applications import ApplicationType, applicant_category, required_documents
from fieldkit.domain.calendar import VisitKind, VisitSession
from fieldkit.domain.dates import age_on
from fieldkit.domain.fees import quote_fee
from fieldkit.domain.nik import build_nik
from fieldkit.domain.products import check_product
from fieldkit.domain.synth import SyntheticApplicant, synthetic_applicants

DAY_FORMAT = 1
# Shares of the roster: who never comes, who lacks a document. The rest are accepted.
NO_SHOW_SHARE = 0.1
MISSING_SHARE = 0.1
# Days an applicant has to bring a missing document before the pending decision lapses.
PENDING_DAYS = 14
_SITE = "Aula SMA Negeri 9 (sintetis)"
_COORDINATOR = ("IBU RATNA SARI", "+628129990001")  # synthetic: a common name, an unused number


@dataclass(frozen=True, slots=True)
class SyntheticDay:
    """A visit, its roster, the scripted arrivals, and the NIKs HQ's watchlist must hold."""

    seed: int
    visit: dict[str, object]
    roster: list[dict[str, object]]
    arrivals: list[dict[str, object]]
    no_shows: list[str]
    watchlist: list[str]

    def as_json(self) -> dict[str, object]:
        """The day as ``fieldkit synth day`` writes it (``day.json``, format 1)."""
        return {
            "format": DAY_FORMAT,
            "seed": self.seed,
            "visit": self.visit,
            "roster": self.roster,
            "arrivals": self.arrivals,
            "no_shows": self.no_shows,
            "watchlist": self.watchlist,
            "expected": self.expected(),
        }

    def expected(self) -> dict[str, object]:
        """What the day must end with: roster counts, walk-ins and decisions by kind."""
        decisions: dict[str, int] = {}
        for arrival in self.arrivals:
            kind = str(arrival["decision"]["kind"])  # type: ignore[index]
            decisions[kind] = decisions.get(kind, 0) + 1
        walk_ins = sum(1 for a in self.arrivals if a.get("walk_in") is not None)
        return {
            "roster": len(self.roster),
            "arrived": len(self.arrivals) - walk_ins,
            "no_shows": len(self.no_shows),
            "walk_ins": walk_ins,
            "decisions": dict(sorted(decisions.items())),
        }


def synthetic_day(
    seed: int = 0,
    applicants: int = 60,
    *,
    on: date,
    session: VisitSession | str = VisitSession.PAGI,
    kind: VisitKind | str = VisitKind.EAZY,
) -> SyntheticDay:
    """Script a visit day of ``applicants`` booked people on ``on``; the same seed, the same day.

    At least 10 applicants are needed for every case to appear once. The walk-ins (one 60 or
    over, one child under 5, one person with a disability) come on top of the roster.
    """
    if applicants < 10:
        raise ValueError("a synthetic day needs at least 10 applicants")
    session, kind = VisitSession(session), VisitKind(kind)
    rng = random.Random(f"fieldkit-day-{seed}")
    people = _distinct(synthetic_applicants(applicants + 40, seed))
    booked, walkers = people[:applicants], people[applicants:]
    roster = [_roster_row(p, on, session) for p in booked]
    order = list(range(applicants))
    rng.shuffle(order)
    no_show_count = max(1, round(applicants * NO_SHOW_SHARE))
    no_shows = sorted(order[:no_show_count])
    coming = order[no_show_count:]
    # The special cases are drawn among those who come, so they fall anywhere in the day.
    special = rng.sample(coming, 2 + max(1, round(applicants * MISSING_SHARE)))
    lost, watched, missing = special[0], special[1], set(special[2:])
    scripted: list[dict[str, object]] = []
    for index in coming:
        person = booked[index]
        if index == lost:
            scripted.append(_lost_passport(person, rng))
        elif index == watched:
            scripted.append(_watchlist_hit(person, on))
        elif index in missing:
            scripted.append(_missing_document(person, on, rng))
        else:
            scripted.append(_accepted(person, on, rng, walk_in=False))
    groups = _walk_in_people(walkers, on)
    for group, person, reason in groups:
        arrival = _accepted(person, on, rng, walk_in=True)
        arrival["walk_in"] = {"group": group, "reason": reason, **_walker(person)}
        # A walk-in comes at a random point of the day, not at its end.
        scripted.insert(rng.randint(1, len(scripted)), arrival)
    _add_times(scripted, on, session, rng)
    return SyntheticDay(
        seed=seed,
        visit={
            "kind": kind.value,
            "date": on.isoformat(),
            "session": session.value,
            "site": _SITE,
            "coordinator_name": _COORDINATOR[0],
            "coordinator_phone": _COORDINATOR[1],
        },
        roster=roster,
        arrivals=scripted,
        no_shows=[str(booked[i].booking_code) for i in no_shows],
        watchlist=[booked[watched].nik],
    )


def _distinct(people: Iterable[SyntheticApplicant]) -> list[SyntheticApplicant]:
    """People with distinct NIKs and booking codes."""
    seen: set[str] = set()
    chosen = []
    for person in people:
        if person.nik in seen or person.booking_code in seen:
            continue
        seen.update((person.nik, person.booking_code))
        chosen.append(person)
    return chosen


def _roster_row(person: SyntheticApplicant, on: date, session: VisitSession) -> dict[str, object]:
    return {
        "name": person.name,
        "birth_date": person.birth_date.isoformat(),
        "nik": person.nik,
        "application_type": person.application_type,
        "phone": person.phone,
        "booking_code": person.booking_code,
        "booking_date": on.isoformat(),
        "session": session.value,
    }


def _counter_fields(person: SyntheticApplicant, on: date) -> dict[str, object]:
    """What the officer types at the counter beyond the roster: from the papers on the desk."""
    years = person.validity_years
    product = check_product(
        person.product, years, birth_date=person.birth_date, married=person.married, on=on
    )
    if not product.ok:
        years = 5  # a child asking for ten years gets five, as the officer would tell them
    return {
        "kk": person.kk,
        "sex": person.sex.value,
        "birth_place": person.birth_place,
        "married": person.married,
        "product": person.product,
        "validity_years": years,
        "old_passport_issued": (
            person.old_passport_issued.isoformat() if person.old_passport_issued else None
        ),
    }


def _documents(
    person: SyntheticApplicant, on: date, *, walk_in: bool, application_type: str | None = None
) -> dict[str, str]:
    """Every line of the checklist: the first alternative seen; a conditional line not applicable.

    The proof of online registration is seen for a booked applicant; a priority walk-in has
    none and is exempt (the line's condition says so).
    """
    category = applicant_category(person.birth_date, person.married, on)
    app_type = ApplicationType(application_type or person.application_type)
    states: dict[str, str] = {}
    for requirement in required_documents(
        app_type, category, old_passport_issued=person.old_passport_issued
    ):
        first = requirement.alternatives[0].value
        if first == "online_registration_proof":
            states[first] = "not_applicable" if walk_in else "seen"
        elif requirement.condition is None:
            states[first] = "seen"
        else:
            states[first] = "not_applicable"
    return states


def _fee(person: SyntheticApplicant, fields: dict[str, object], on: date) -> int:
    product = check_product(
        str(fields["product"]),
        fields["validity_years"],
        birth_date=person.birth_date,
        married=person.married,
        on=on,
    )
    assert product.value is not None  # _counter_fields chose a product the rules allow
    quote = quote_fee(
        app_type=ApplicationType(person.application_type), product=product.value, on=on
    )
    assert quote.value is not None
    return quote.value.total


def _payment(rng: random.Random, amount: int) -> dict[str, object]:
    # SIMPONI billing codes are 15 digits and NTPNs 16 characters; these are random, not issued.
    return {
        "billing_code": "8" + "".join(rng.choice("0123456789") for _ in range(14)),
        "amount": amount,
        "paid": True,
        "ntpn": "".join(rng.choice("0123456789ABCDEF") for _ in range(16)),
    }


def _accepted(
    person: SyntheticApplicant, on: date, rng: random.Random, *, walk_in: bool
) -> dict[str, object]:
    fields = _counter_fields(person, on)
    return {
        "case": "walk_in" if walk_in else "accepted",
        "booking_code": None if walk_in else person.booking_code,
        "walk_in": None,
        "set": fields,
        "documents": _documents(person, on, walk_in=walk_in),
        "payment": _payment(rng, _fee(person, fields, on)),
        "biometrics_ref": f"BIO-{rng.randrange(10**8):08d}",
        "notes": "",
        "decision": {"kind": "accepted"},
    }


def _missing_document(
    person: SyntheticApplicant, on: date, rng: random.Random
) -> dict[str, object]:
    arrival = _accepted(person, on, rng, walk_in=False)
    documents = dict(arrival["documents"])  # type: ignore[call-overload]
    required = [d for d, state in documents.items() if state == "seen"]
    lacking = required[-1]  # the last paper of the list, never the booking proof
    documents[lacking] = "missing"
    arrival.update(
        case="missing_document",
        documents=documents,
        payment=None,
        biometrics_ref=None,
        notes="Dokumen asli tertinggal di rumah (sintetis).",
        decision={
            "kind": "pending_documents",
            "missing": [lacking],
            "due": (on + timedelta(days=PENDING_DAYS)).isoformat(),
        },
    )
    return arrival


def _lost_passport(person: SyntheticApplicant, rng: random.Random) -> dict[str, object]:
    """Booked as an expired passport; at the counter the applicant says it was lost."""
    return {
        "case": "lost_passport",
        "booking_code": person.booking_code,
        "walk_in": None,
        # What the officer tries first; the rules refuse it at a mobile visit.
        "attempt": {"application_type": ApplicationType.LOST.value},
        "refusal": "application.office_only",
        "set": {},
        "documents": {},
        "payment": None,
        "biometrics_ref": None,
        "notes": "Paspor hilang: dilayani di kantor, dengan laporan polisi (sintetis).",
        "decision": {
            "kind": "rejected",
            "reason": "not_eligible_mobile",
            "text": "Paspor hilang hanya dilayani di Kantor Imigrasi.",
        },
    }


def _watchlist_hit(person: SyntheticApplicant, on: date) -> dict[str, object]:
    return {
        "case": "watchlist",
        "booking_code": person.booking_code,
        "walk_in": None,
        "set": {},
        "documents": {},
        "payment": None,
        "biometrics_ref": None,
        "notes": "",
        "decision": {"kind": "referred", "reason": "Kemungkinan cocok daftar cegah (sintetis)."},
    }


def _walk_in_people(
    walkers: list[SyntheticApplicant], on: date
) -> list[tuple[str, SyntheticApplicant, str]]:
    """One person 60 or over, one child under 5, one adult with a disability."""
    picks: list[tuple[str, SyntheticApplicant, str]] = []
    rules = (
        ("elderly", lambda p: age_on(p.birth_date, on) >= 60, "Lansia, datang tanpa booking."),
        ("under_five", lambda p: age_on(p.birth_date, on) < 5, "Balita bersama orang tuanya."),
        (
            "disability",
            lambda p: 17 <= age_on(p.birth_date, on) < 60,
            "Pengguna kursi roda, datang tanpa booking.",
        ),
    )
    used: set[str] = set()
    for group, fits, reason in rules:
        person = next((p for p in walkers if p.nik not in used and fits(p)), None)
        if person is None:
            person = _aged(walkers, used, on, group)
        used.add(person.nik)
        picks.append((group, person, reason))
    return picks


def _aged(
    walkers: list[SyntheticApplicant], used: set[str], on: date, group: str
) -> SyntheticApplicant:
    """A walker made to fit the group when the seed drew nobody of that age (rare)."""
    base = next(p for p in walkers if p.nik not in used)
    years = 65 if group == "elderly" else 3 if group == "under_five" else 30
    born = date(on.year - years, 6, 15)
    return replace(
        base,
        birth_date=born,
        nik=build_nik(base.nik[:6], born, base.sex, int(base.nik[12:])),
        married=base.married and years >= 17,
        application_type="new",
        old_passport_issued=None,
        validity_years=5,
    )


def _walker(person: SyntheticApplicant) -> dict[str, object]:
    """What the officer types for a walk-in before the counter: who they are."""
    return {
        "name": person.name,
        "birth_date": person.birth_date.isoformat(),
        "nik": person.nik,
        "phone": person.phone,
        "application_type": "new" if person.application_type == "new" else "expired",
    }


def _add_times(
    scripted: list[dict[str, object]], on: date, session: VisitSession, rng: random.Random
) -> None:
    """Arrival times through the session: exponential gaps, most people early, none late."""
    start = datetime.combine(on, session.start)
    span = (datetime.combine(on, session.end) - start - timedelta(minutes=30)).total_seconds()
    mean = span / (len(scripted) + 1)
    at = 0.0
    for arrival in scripted:
        at = min(span, at + rng.expovariate(1 / mean))
        arrival["at"] = (start + timedelta(seconds=round(at))).time().isoformat()
