"""A counter day killed with SIGKILL at any moment: no lost arrival, no gap in the queue.

Each round copies a prepared vault (one open visit, a roster of 120 synthetic people) into a
fresh directory, starts ``tests/support/crash_counter.py`` on it (a real process checking
people in, letting walk-ins in, and recording the counter's work and decisions) and kills it
with a real SIGKILL at a seeded random moment. The parent reopens the vault and checks that
SQLite's structure and the audit chain are sound, nothing is half written
(:func:`tests.support.crash.check_structure`), every confirmed version is there, a check-in
is all there or not at all (the arrived entry, its applicant and the queue counter agree),
and queue numbers run without a gap in each series up to the counter.
"""

from __future__ import annotations

import random
import shutil
import signal
from pathlib import Path

import pytest

from fieldkit.kdf import TEST_KDF_ENV
from fieldkit.vault.kinds import APPLICANT, QUEUE, ROSTER
from fieldkit.vault.vault import Vault
from tests.support import crash
from tests.support.counter_day import open_visit_with_roster, roster_rows
from tests.support.vault import SUP, SUP_PW, people

ROUNDS = 24
SEED = 20261204
WRITE_ACTIONS = {
    "visit_created",
    "roster_imported",
    "visit_opened",
    "checked_in",
    "applicant_updated",
    "applicant_decided",
}


@pytest.fixture(scope="module")
def base_vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed vault with one open visit and its roster: one file, copied for every round."""
    home = tmp_path_factory.mktemp("base") / "laptop"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TEST_KDF_ENV, "1")
        session, _, _ = open_visit_with_roster(home, roster_rows(people(120, 41), booked=True))
        session.vault.close()
    return home / "vault.db"


def parse(stdout: bytes) -> tuple[dict[int, list[str]], list[tuple[str, str, int, int]], bool]:
    """``(attempts, saved (kind, id, version, attempt), done)`` from the writer's whole lines."""
    attempts: dict[int, list[str]] = {}
    saved: list[tuple[str, str, int, int]] = []
    done = False
    for words in crash.confirmed_lines(stdout):
        if words[0] == "attempt":
            attempts[int(words[1])] = words[2:]
        elif words[0] == "saved":
            saved.append((words[1], words[2], int(words[3]), int(words[4])))
        elif words[0] == "done":
            done = True
    return attempts, saved, done


def check_round(home: Path, saved: list[tuple[str, str, int, int]]) -> dict[str, int]:
    vault = Vault.open(home)
    try:
        assert vault.integrity_check() == "ok"
        assert vault.verify_audit().ok, vault.verify_audit()
        session = vault.unlock(SUP, SUP_PW, allow_test_kdf=True)
        crash.check_structure(session, WRITE_ACTIONS)
        for kind, rid, version, attempt in saved:
            assert session.read(kind, rid, version).version == version, (kind, rid, attempt)
        (visit_id,) = {r.visit_id for r in session.latest(ROSTER)}
        applicants = session.latest(APPLICANT, visit_id)
        arrived = [r for r in session.latest(ROSTER, visit_id) if r.state == "arrived"]
        # A check-in is whole: each arrived entry names its applicant, which names it back.
        by_id = {a.id: a for a in applicants}
        for entry in arrived:
            assert by_id[str(entry.data["applicant_id"])].data["roster_entry_id"] == entry.id
        booked = [a for a in applicants if a.data["roster_entry_id"] is not None]
        assert len(booked) == len(arrived)
        numbers: dict[str, list[int]] = {}
        for applicant in applicants:
            held = applicant.data["queue"]
            numbers.setdefault(str(held["series"]), []).append(int(held["number"]))
        last = session.read(QUEUE, visit_id).data["last"] if applicants else {}
        for series, taken in numbers.items():
            assert sorted(taken) == list(range(1, len(taken) + 1)), series
            assert last[series] == len(taken), (series, last)
        # A decision is only written after the payment and biometrics it follows.
        decided = [a for a in applicants if a.data["decision"] is not None]
        for applicant in decided:
            assert applicant.data["payment"]["paid"] is True, applicant.id
            assert applicant.data["biometrics_ref"], applicant.id
        return {"applicants": len(applicants), "decided": len(decided)}
    finally:
        vault.close()


def test_sigkill_during_a_counter_day_loses_no_arrival_and_leaves_no_gap(
    base_vault: Path, tmp_path: Path
) -> None:
    rng = random.Random(SEED)
    tally = {"rounds": 0, "with_arrivals": 0, "without": 0, "decided": 0}
    for n in range(ROUNDS):
        home = tmp_path / f"round{n:02d}"
        home.mkdir()
        shutil.copyfile(base_vault, home / "vault.db")
        errlog = tmp_path / f"round{n:02d}.err"
        stdout, mode, code = crash.run_and_kill(
            "crash_counter", [str(home), str(SEED + n)], rng, errlog
        )
        attempts, saved, done = parse(stdout)
        assert code == -signal.SIGKILL or (code == 0 and done), errlog.read_text()[-3000:]
        try:
            landed = check_round(home, saved)
        except AssertionError as exc:
            raise AssertionError(
                f"round {n} ({mode}): {len(saved)} confirmed, attempts {len(attempts)}: {exc}"
            ) from exc
        tally["rounds"] += 1
        tally["with_arrivals" if landed["applicants"] else "without"] += 1
        tally["decided"] += landed["decided"]
        shutil.rmtree(home)
    print(f"\ncounter crash safety: {tally}")
    assert tally["with_arrivals"] >= 1 and tally["without"] >= 1, tally
    assert tally["decided"] >= 1, tally  # some rounds died after a decision was confirmed
