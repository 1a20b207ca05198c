"""One of two processes checking people in on the same vault at the same moment.

Run as ``tests/support/concurrent_checkin.py HOME VISIT_ID WALK_IN_NAME ENTRY_ID...``
(:mod:`tests.support.programs`) with officer :data:`~tests.support.vault.SUP`. It unlocks
the vault, says ``ready`` and waits for a line on stdin, so that two of them start together
without any timing. Then it checks the entries in, in order, letting one priority walk-in
(``WALK_IN_NAME``, synthetic) in half-way. On stdout, one line each:

* ``arrived <entry_id|walkin> <applicant_id> <label>``: checked in;
* ``refused <entry_id> <code>``: refused (e.g. ``checkin.already_arrived``);
* ``done``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fieldkit.service import checkin
from fieldkit.service.errors import Refused
from fieldkit.service.session import OfficerSession
from fieldkit.vault.vault import Vault
from tests.support.vault import SUP, SUP_PW


def main(argv: list[str]) -> int:
    home, visit_id, walk_in_name, entry_ids = Path(argv[1]), argv[2], argv[3], argv[4:]
    vault = Vault.open(home)
    session = OfficerSession(vault.unlock(SUP, SUP_PW, allow_test_kdf=True))
    print("ready", flush=True)
    sys.stdin.readline()
    for number, entry_id in enumerate(entry_ids):
        if number == len(entry_ids) // 2:
            arrival = checkin.walk_in(
                session,
                visit_id,
                {"name": walk_in_name, "birth_date": "1950-01-01"},
                group="elderly",
                reason="Lansia tanpa booking.",
            )
            print(f"arrived walkin {arrival.applicant_id} {arrival.queue_label}", flush=True)
        try:
            arrival = checkin.check_in(session, visit_id, entry_id)
        except Refused as exc:
            print(f"refused {entry_id} {exc.code}", flush=True)
            continue
        print(f"arrived {entry_id} {arrival.applicant_id} {arrival.queue_label}", flush=True)
    print("done", flush=True)
    vault.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
