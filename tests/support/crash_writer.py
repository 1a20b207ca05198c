"""A capture loop that a test kills with SIGKILL at a random moment.

Run as ``tests/support/crash_writer.py HOME SEED [COUNT]`` (:mod:`tests.support.programs`)
against an existing vault (officer :data:`OFFICER` with :data:`PASSPHRASE`, at least one
visit). It saves synthetic applicants the way the counter does: one applicant per action, every
7th action a batch of 3, every 11th an update of an applicant saved earlier (read, change, write
with ``expected_version``). On stdout, flushed at once:

* ``ready`` once the vault is unlocked;
* ``attempt <n> add <size>`` or ``attempt <n> update <id> <from_version>`` before each save;
* ``saved <applicant_id> <version> <sha256> <n>`` for every record version, written in one
  ``write()`` per save call and only AFTER the call has returned;
* ``done`` if it runs out of applicants (the tests never let it).

``sha256`` is :func:`digest` of the data the writer meant to store, so the parent can check what
it reads back without knowing the data.
"""

from __future__ import annotations

import hashlib
import random
import sys
from itertools import islice
from pathlib import Path

from fieldkit.domain.applicant import FIELDS
from fieldkit.domain.synth import synthetic_applicants
from fieldkit.vault.crypto import canonical
from fieldkit.vault.records import Change
from fieldkit.vault.vault import Vault
from tests.support.vault import APPLICANT, PASSPHRASE, add_applicants, visit_ids
from tests.support.vault import SUP as OFFICER

__all__ = ["OFFICER", "PASSPHRASE", "digest", "main"]
# What the writer knows it stored: the captured fields and the notes an update changes.
HASHED = (*FIELDS, "notes", "documents_seen")


def digest(data: dict) -> str:
    """SHA-256 of the canonical JSON of the hashed fields of an applicant's data."""
    return hashlib.sha256(canonical({k: data.get(k) for k in HASHED})).hexdigest()


def main(argv: list[str]) -> int:
    home, seed = Path(argv[1]), int(argv[2])
    count = int(argv[3]) if len(argv) > 3 else 100_000
    out = sys.stdout

    def say(text: str) -> None:
        out.write(text)
        out.flush()

    vault = Vault.open(home)
    session = vault.unlock(OFFICER, PASSPHRASE, allow_test_kdf=True)
    visit_id = visit_ids(session)[0]
    people = synthetic_applicants(count, seed)
    rng = random.Random(seed)
    saved: list[str] = []
    say("ready\n")
    attempt = 0
    while True:
        attempt += 1
        if attempt % 11 == 0 and saved:
            rid = rng.choice(saved)
            current = session.read(APPLICANT, rid)
            data = {
                **current.data,
                "notes": f"dokumen diperiksa (attempt {attempt})",
                "documents_seen": ["ktp", "kk"],
            }
            say(f"attempt {attempt} update {rid} {current.version}\n")
            written = session.write(
                [
                    Change(
                        APPLICANT,
                        rid,
                        data,
                        "checked",
                        visit_id,
                        expected_version=current.version,
                    )
                ],
                action="applicant_updated",
            )
            say("".join(f"saved {i} {v} {digest(data)} {attempt}\n" for _, i, v in written))
            continue
        batch = [p.as_json() for p in islice(people, 3 if attempt % 7 == 0 else 1)]
        if not batch:
            say("done\n")
            break
        say(f"attempt {attempt} add {len(batch)}\n")
        ids = add_applicants(session, visit_id, batch)
        expected = [{**raw, "notes": "", "documents_seen": []} for raw in batch]
        say(
            "".join(
                f"saved {i} 1 {digest(d)} {attempt}\n" for i, d in zip(ids, expected, strict=True)
            )
        )
        saved.extend(ids)
    vault.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
