"""Two processes checking the same roster in on one vault at the same moment.

The field app and a CLI command, or two officers' windows, may each read the visit's queue
counters and hand out "the next" number. Two real processes (``tests/support/
concurrent_checkin.py``) unlock the same vault file, wait for one line on stdin so that they
start together, and check the same entries in, in the same order, each letting one priority
walk-in in half-way. Whatever the scheduler does, every entry must end up checked in exactly
once (the slower process told ``checkin.already_arrived``, never a conflict it did not retry),
and every number of each series handed out once, with no gap.
"""

from __future__ import annotations

import subprocess
from collections import Counter

import pytest

from fieldkit.vault.kinds import APPLICANT, QUEUE, ROSTER
from tests.support.counter_day import open_visit_with_roster, roster_rows
from tests.support.programs import program, program_env
from tests.support.vault import people, reopen

pytestmark = pytest.mark.usefixtures("cheap_kdf")

COUNT = 16
WALK_INS = ("IBU SITI AMINAH", "BAPAK WAYAN SUDANA")  # synthetic, one per process


def run_both(home, visit_id, entry_ids):
    """Start both processes, release them together; ``[(returncode, stdout lines), ...]``."""
    children = [
        subprocess.Popen(
            program("concurrent_checkin", str(home), visit_id, name, *entry_ids),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=program_env(),
        )
        for name in WALK_INS
    ]
    for child in children:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready", child.stderr
    for child in children:
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = []
    for child in children:
        out, err = child.communicate(timeout=120)
        assert child.returncode == 0, err
        results.append(out.splitlines())
    return results


def test_two_processes_check_everyone_in_once_with_gapless_numbers(tmp_path):
    home = tmp_path / "laptop"
    session, visit_id, entry_ids = open_visit_with_roster(
        home, roster_rows(people(COUNT, 606), booked=True)
    )
    session.vault.close()

    outputs = run_both(home, visit_id, entry_ids)

    arrived: Counter[str] = Counter()
    refusals: list[str] = []
    labels: list[str] = []
    for lines in outputs:
        assert lines[-1] == "done"
        for line in lines[:-1]:
            words = line.split()
            if words[0] == "arrived":
                arrived[words[1]] += 1
                labels.append(words[3])
            else:
                assert words[0] == "refused"
                refusals.append(words[2])
    # Every entry checked in by exactly one of the two; the other was told it already had.
    assert {entry: arrived[entry] for entry in entry_ids} == dict.fromkeys(entry_ids, 1)
    assert arrived["walkin"] == 2
    assert refusals == ["checkin.already_arrived"] * COUNT
    assert len(set(labels)) == len(labels) == COUNT + 2

    vault = reopen(home)
    assert all(vault.read(ROSTER, entry_id).state == "arrived" for entry_id in entry_ids)
    applicants = list(vault.latest(APPLICANT, visit_id))
    assert len(applicants) == COUNT + 2
    by_series: dict[str, list[int]] = {}
    for applicant in applicants:
        queue = applicant.data["queue"]
        by_series.setdefault(queue["series"], []).append(queue["number"])
    counters = vault.read(QUEUE, visit_id).data
    for series, numbers in by_series.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), series
        assert counters["last"][series] == len(numbers)
    assert counters["walk_ins"] == 2
    # Each entry points at the one applicant made for it, and that applicant back at it.
    linked = {str(a.data["roster_entry_id"]): a.id for a in applicants if a.data["roster_entry_id"]}
    assert linked == {
        entry_id: vault.read(ROSTER, entry_id).data["applicant_id"] for entry_id in entry_ids
    }
    vault.vault.close()
