"""The capturing process of ``test_no_plaintext_on_disk.py``, and the scenario it follows.

Run as ``python tests/support/plaintext_capture.py capture HOME`` (see
:mod:`tests.support.programs`), it captures 1,000 synthetic applicants the way a counter does
(200 saves of one applicant, then batches), shows some, corrects a few, prints
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

from fieldkit.domain.synth import synthetic_applicants
from fieldkit.vault.records import Change
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

assert SINGLES + sum(BATCHES) == COUNT


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
    report = {"stage": "open", "applicants": len(set(ids)), "versions": versions}
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
