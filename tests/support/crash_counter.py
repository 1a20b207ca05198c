"""A day at the counter that a test kills with SIGKILL at a random moment.

Run as ``tests/support/crash_counter.py HOME SEED`` (:mod:`tests.support.programs`) against a
vault with one open visit and a roster (officer :data:`~tests.support.vault.SUP`). It checks
the roster in one entry at a time in a seeded order, lets a priority walk-in in every 5th
action, and every 3rd action records the counter's work on an applicant checked in earlier
(payment, biometrics, notes) and decides it, as ``fieldkit applicant update`` and
``decide`` do. On stdout, flushed at once, each only AFTER the call returned:

* ``ready`` once the vault is unlocked;
* ``attempt <n> <checkin|walkin|counter> [<id>]`` before each action;
* ``saved <kind> <id> <version> <n>`` for each record version the action confirmed.
"""

from __future__ import annotations

import random
import sys
from pathlib import Path

from fieldkit.domain.synth import synthetic_applicants
from fieldkit.service import checkin, counter
from fieldkit.service.session import OfficerSession
from fieldkit.vault.kinds import APPLICANT, ROSTER
from fieldkit.vault.vault import Vault
from tests.support.vault import SUP, SUP_PW, visit_ids


def main(argv: list[str]) -> int:
    home, seed = Path(argv[1]), int(argv[2])
    out = sys.stdout

    def say(text: str) -> None:
        out.write(text)
        out.flush()

    vault = Vault.open(home)
    session = OfficerSession(vault.unlock(SUP, SUP_PW, allow_test_kdf=True))
    unlocked = session.unlocked
    visit_id = visit_ids(unlocked)[0]
    rng = random.Random(seed)
    entries = [r.id for r in unlocked.latest(ROSTER, visit_id) if r.state == "expected"]
    rng.shuffle(entries)
    waiting: list[str] = []
    names = synthetic_applicants(1000, seed)
    say("ready\n")
    attempt = 0
    while entries:
        attempt += 1
        if attempt % 3 == 0 and waiting:
            applicant_id = waiting.pop(0)
            say(f"attempt {attempt} counter {applicant_id}\n")
            serve(session, applicant_id, attempt, say)
            continue
        if attempt % 5 == 0:
            say(f"attempt {attempt} walkin\n")
            arrival = checkin.walk_in(
                session,
                visit_id,
                {"name": next(names).name, "birth_date": "1950-01-01"},
                group="elderly",
                reason="Lansia tanpa booking.",
            )
        else:
            entry_id = entries.pop()
            say(f"attempt {attempt} checkin {entry_id}\n")
            arrival = checkin.check_in(session, visit_id, entry_id)
            say(f"saved {ROSTER} {entry_id} {unlocked.read(ROSTER, entry_id).version} {attempt}\n")
        say(f"saved {APPLICANT} {arrival.applicant_id} 1 {attempt}\n")
        waiting.append(arrival.applicant_id)
    say("done\n")
    vault.close()
    return 0


def serve(session: OfficerSession, applicant_id: str, attempt: int, say) -> None:  # type: ignore[no-untyped-def]
    """Payment, biometrics and notes, then the decision: two versions, each confirmed after
    its call returned."""
    changes = {
        "payment": {
            "billing_code": f"{820_000_000_000_000 + attempt:015d}",
            "amount": 350_000,
            "paid": True,
            "ntpn": f"NTPN{attempt:012d}",
        },
        "biometrics_ref": f"BIO-{attempt:06d}",
        "notes": f"dilayani (attempt {attempt})",
    }
    updated = counter.update_applicant(session, applicant_id, changes)
    say(f"saved {APPLICANT} {applicant_id} {updated.version} {attempt}\n")
    counter.decide(session, applicant_id, "referred", reason="Diperiksa supervisor (uji).")
    decided = session.unlocked.read(APPLICANT, applicant_id)
    say(f"saved {APPLICANT} {applicant_id} {decided.version} {attempt}\n")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
