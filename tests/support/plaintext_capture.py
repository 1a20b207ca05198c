"""The capturing process of ``test_no_plaintext_on_disk.py``, and the scenario it follows.

Run as ``python tests/support/plaintext_capture.py capture HOME`` (see
:mod:`tests.support.programs`), it captures 1,000 synthetic applicants the way a counter does
(200 saves of one applicant, then batches), shows some, corrects a few, checks some of them
in at the opened visit (service.checkin; one walks in), records the counter's work on some of
them (billing code, NTPN, biometrics reference, interview notes, a referral with its reason;
service.counter), prints
``{"stage": "open", ...}`` with every file it opened for writing and every database it
connected to, waits for a line on stdin with the vault still open, then closes it and prints
``{"stage": "closed", ...}``. The test builds the same scenario to know what to look for.
"""

from __future__ import annotations

import json
import os
import random
import sys
from pathlib import Path

from fieldkit.domain.ids import new_ids
from fieldkit.domain.roster import ENTRY_FIELDS
from fieldkit.domain.synth import synthetic_applicants
from fieldkit.service import checkin, counter, visits
from fieldkit.service.session import OfficerSession
from fieldkit.vault.kinds import ROSTER
from fieldkit.vault.records import Change
from fieldkit.vault.session import UnlockedVault
from tests.support.vault import (
    APPLICANT,
    EAZY_VISIT,
    SUP,
    SUP_NAME,
    SUP_PW,
    add_applicants,
    new_vault,
    plan_visit,
    show_applicant,
)

OFFICER, OFFICER_NAME, PASSPHRASE = SUP, SUP_NAME, SUP_PW
COORDINATOR_NAME = EAZY_VISIT["coordinator_name"]
COORDINATOR_PHONE = EAZY_VISIT["coordinator_phone"]
SEED = 62_2026
COUNT = 1000
SINGLES = 200
BATCHES = (25, 40, 60, 75, 100, 100, 100, 150, 150)
VIEWS = 120
UPDATES = 20
# Then some of them arrive at the open visit: checked in from its roster, and one walk-in.
CHECK_INS = 30
# And the counter serves the first of those arrivals: payment, biometrics, notes, referral.
SERVED = 10

assert SINGLES + sum(BATCHES) == COUNT
assert SERVED < CHECK_INS


def national(e164: str) -> str:
    """+62812… → 0812…"""
    assert e164.startswith("+62"), e164
    return "0" + e164[3:]


def scenario() -> tuple[list[dict], list[int], list[tuple[int, str, str]]]:
    """The applicants, which ones are viewed, and the corrections ``(index, phone, notes)``."""
    people = [p.as_json() for p in synthetic_applicants(COUNT, SEED)]
    rng = random.Random(SEED)
    viewed = rng.sample(range(COUNT), VIEWS)
    corrections = []
    for index in rng.sample(range(COUNT), UPDATES):
        phone = f"+62857{rng.randrange(10**8):08d}"
        notes = (
            f"HP lama tidak aktif, pakai {national(phone)}. "
            f"Alamat: JL. MELATI NO. {100 + index}, KARAWANG"
        )
        corrections.append((index, phone, notes))
    return people, viewed, corrections


def counter_work() -> list[dict[str, str]]:
    """What the counter records for each of the first :data:`SERVED` arrivals: the SIMPONI
    billing code, the NTPN, the biometrics station's reference, interview notes with an
    address, and the reason it is referred to the supervisor."""
    rng = random.Random(SEED + 1)
    alnum = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
    return [
        {
            "billing_code": f"{rng.randrange(10**14, 10**15):015d}",
            "ntpn": "".join(rng.choice(alnum) for _ in range(16)),
            "biometrics_ref": f"BIO-KRW-{rng.randrange(10**7):07d}",
            "notes": f"Tinggal di JL. KENANGA NO. {200 + i}, CIKAMPEK; ibu ikut mendampingi",
            "reason": f"Nama ayah di KK berbeda ejaan dengan akta ({rng.randrange(10**5):05d})",
        }
        for i in range(SERVED)
    ]


def serve(desk: OfficerSession, applicant_id: str, work: dict[str, str]) -> None:
    """The counter's work on one arrival, as ``fieldkit applicant update`` and ``decide``."""
    payment = {
        "billing_code": work["billing_code"],
        "amount": 350_000,
        "paid": True,
        "ntpn": work["ntpn"],
    }
    changes = {"payment": payment, "biometrics_ref": work["biometrics_ref"], "notes": work["notes"]}
    counter.update_applicant(desk, applicant_id, changes)
    counter.decide(desk, applicant_id, "referred", reason=work["reason"])


def check_in_some(session: UnlockedVault, visit_id: str, people: list[dict]) -> int:
    """Open the visit, put ``people`` on its roster (as HQ assigns it) and check them in at the
    counter; the last one walks in instead; the counter then serves the first
    :data:`SERVED` arrivals (:func:`serve`). Returns how many arrived."""
    desk = OfficerSession(session)
    visits.open_visit(desk, visit_id)
    booked, walker = people[:-1], people[-1]
    entries = [
        Change(
            ROSTER,
            entry_id,
            {
                **{f: p.get(f) for f in ENTRY_FIELDS},
                "application_type": "new",
                "booking_date": EAZY_VISIT["on"],
                "session": EAZY_VISIT["session_name"],
                "source": "booking",
                "row": row,
                "warnings": [],
            },
            "expected",
            visit_id,
        )
        for row, (entry_id, p) in enumerate(zip(new_ids(len(booked)), booked, strict=True), 2)
    ]
    session.write(entries, action="roster_assigned")
    arrivals = [checkin.check_in(desk, visit_id, entry.id) for entry in entries]
    for arrival, work in zip(arrivals, counter_work(), strict=False):
        serve(desk, arrival.applicant_id, work)
    person = {k: walker[k] for k in ("name", "birth_date", "nik", "sex", "phone")}
    checkin.walk_in(desk, visit_id, person, group="disability", reason="kursi roda")
    return len(people)


def _write_flags() -> int:
    return os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def capture_main(home: Path) -> int:
    """The capturing process: capture, pause with the vault open, close on request."""
    touched: list[tuple[str, str]] = []

    def hook(event: str, args: tuple) -> None:
        writes = event == "open" and isinstance(args[0], str | bytes) and args[2] & _write_flags()
        if writes or event in (
            "sqlite3.connect",
            "tempfile.mkstemp",
            "tempfile.mkdtemp",
            "os.mkdir",
        ):
            touched.append((event, os.fsdecode(args[0])))

    people, viewed, corrections = scenario()
    sys.addaudithook(hook)
    session = new_vault(home, officer_id=OFFICER, name=OFFICER_NAME, passphrase=PASSPHRASE)
    visit_id = plan_visit(session)
    ids: list[str] = []
    for person in people[:SINGLES]:
        ids += add_applicants(session, visit_id, [person])
    start = SINGLES
    for size in BATCHES:
        ids += add_applicants(session, visit_id, people[start : start + size])
        start += size
    for index in viewed:
        shown = show_applicant(session, ids[index])
        assert shown.fields["nik"] == people[index]["nik"]
    for index, phone, notes in corrections:
        current = session.read(APPLICANT, ids[index])
        data = {**current.data, "phone": phone, "notes": notes}
        session.write(
            [
                Change(
                    APPLICANT,
                    ids[index],
                    data,
                    current.state,
                    visit_id,
                    expected_version=current.version,
                )
            ],
            action="applicant_updated",
        )
    versions = session.conn.execute("SELECT COUNT(*) FROM record_versions").fetchone()[0]
    checked_in = check_in_some(session, visit_id, people[:CHECK_INS])
    report = {
        "stage": "open",
        "applicants": len(set(ids)),
        "versions": versions,
        "checked_in": checked_in,
    }
    print(json.dumps({**report, "touched": touched}), flush=True)
    sys.stdin.readline()
    session.lock()
    session.vault.close()
    print(json.dumps({"stage": "closed", "touched": touched}), flush=True)
    return 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "capture":
        sys.exit(capture_main(Path(sys.argv[2])))
    sys.exit(f"usage: {sys.argv[0]} capture HOME")
