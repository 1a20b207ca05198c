"""Parallel unlock attempts: the throttle holds across processes (issue 9, item 9).

The officer is locked out after many failures; the moment the wait is over, 16 guesses are
started at once, each in its own process (``multiprocessing``, real SQLite locking, the insecure
test KDF). Before the fix all 16 passed the throttle check before any failure was recorded;
now the attempt is counted before the key is derived, in one write transaction with the check.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from fieldkit import kdf
from fieldkit.vault.errors import UnlockThrottled, WrongPassphrase
from fieldkit.vault.vault import MAX_DELAY, Vault, throttle_delay
from tests.support.vault import SUP, SUP_PW, new_vault

pytestmark = pytest.mark.usefixtures("cheap_kdf")

GUESSES = 16
# Forked children inherit the test's environment and imports: no interpreter start per guess.
FORK = multiprocessing.get_context("fork")


def _guess(home: str, passphrase: str, start: object, results: object) -> None:
    """One attacker process: wait for the others, then try ``passphrase``."""
    vault = Vault.open(Path(home))
    start.wait()  # type: ignore[attr-defined]
    try:
        vault.unlock(SUP, passphrase, allow_test_kdf=True)
        outcome = "unlocked"
    except UnlockThrottled:
        outcome = "throttled"
    except WrongPassphrase:
        outcome = "tried"
    finally:
        vault.close()
    results.put(outcome)  # type: ignore[attr-defined]


def _crash_while_deriving(home: str) -> None:
    """A process killed while it derives the key (after it took the attempt)."""

    def killed(*_: object) -> bytes:
        os._exit(9)

    kdf.derive = killed  # type: ignore[assignment]
    Vault.open(Path(home)).unlock(SUP, SUP_PW, allow_test_kdf=True)


def _sql(home: Path, query: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(home / "vault.db")
    try:
        with conn:
            return conn.execute(query, params).fetchall()
    finally:
        conn.close()


def _actions(home: Path, after: int) -> list[tuple[str, dict[str, object]]]:
    rows = _sql(home, "SELECT action, detail FROM audit WHERE seq > ? ORDER BY seq", (after,))
    return [(str(a), json.loads(str(d))) for a, d in rows]


def _last_seq(home: Path) -> int:
    return int(_sql(home, "SELECT MAX(seq) FROM audit")[0][0])  # type: ignore[call-overload]


def _wait_is_over(home: Path) -> None:
    """Simulate waiting out the throttle: move ``locked_until`` into the past."""
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    _sql(home, "UPDATE unlock_failures SET locked_until = ?", (past,))


def test_sixteen_parallel_guesses_after_a_lockout_get_one_try(tmp_path: Path) -> None:
    home = tmp_path / "device"
    session = new_vault(home)
    session.lock()
    session.vault.close()
    # Locked out after 10 failures; the wait has just run out.
    at = datetime.now(UTC).isoformat()
    _sql(home, "INSERT INTO unlock_failures VALUES (?, 10, ?, ?)", (SUP, at, at))
    _wait_is_over(home)
    before = _last_seq(home)

    start = FORK.Barrier(GUESSES)
    results = FORK.Queue()
    guesses = [
        FORK.Process(target=_guess, args=(str(home), f"tebakan salah {n}", start, results))
        for n in range(GUESSES)
    ]
    for process in guesses:
        process.start()
    outcomes = sorted(results.get(timeout=120) for _ in guesses)
    for process in guesses:
        process.join(timeout=60)
        assert process.exitcode == 0

    # Exactly one guess was derived and tried; the 15 others were refused as throttled.
    assert outcomes == ["throttled"] * (GUESSES - 1) + ["tried"]
    audited = _actions(home, before)
    failed = [d for a, d in audited if a == "unlock_failed"]
    refused = [d for a, d in audited if a == "unlock_refused"]
    assert failed == [{"failures": 11, "delay_seconds": throttle_delay(11).total_seconds()}]
    assert len(refused) == GUESSES - 1 and all(d["wait_seconds"] > 0 for d in refused)
    [(failures, last, until)] = _sql(
        home, "SELECT failures, last_failure_at, locked_until FROM unlock_failures"
    )
    assert failures == 11
    until_at = datetime.fromisoformat(str(until))
    assert until_at - datetime.fromisoformat(str(last)) == throttle_delay(11)

    # The right passphrase is refused too while the wait runs, then opens once it is over.
    with pytest.raises(UnlockThrottled):
        Vault.open(home).unlock(SUP, SUP_PW, allow_test_kdf=True)
    _wait_is_over(home)
    again = Vault.open(home).unlock(SUP, SUP_PW, allow_test_kdf=True)
    assert _sql(home, "SELECT * FROM unlock_failures") == []
    again.lock()
    again.vault.close()


def test_a_crash_while_deriving_costs_one_counted_attempt_not_a_lockout(tmp_path: Path) -> None:
    home = tmp_path / "device"
    session = new_vault(home)
    session.lock()
    session.vault.close()

    crashed = FORK.Process(target=_crash_while_deriving, args=(str(home),))
    crashed.start()
    crashed.join(timeout=60)
    assert crashed.exitcode == 9, "the process died inside the key derivation"
    [(failures, locked_until)] = _sql(home, "SELECT failures, locked_until FROM unlock_failures")
    assert (failures, locked_until) == (1, None)  # one counted attempt, no wait

    # Even from deep in a lockout, a crashed attempt only sets a wait that runs out (≤ 15 min).
    at = datetime.now(UTC).isoformat()
    _sql(home, "UPDATE unlock_failures SET failures = 40, locked_until = ?", (at,))
    crashed = FORK.Process(target=_crash_while_deriving, args=(str(home),))
    crashed.start()
    crashed.join(timeout=60)
    assert crashed.exitcode == 9
    [(failures, last, until)] = _sql(
        home, "SELECT failures, last_failure_at, locked_until FROM unlock_failures"
    )
    assert failures == 41
    assert datetime.fromisoformat(str(until)) - datetime.fromisoformat(str(last)) == MAX_DELAY

    _wait_is_over(home)
    opened = Vault.open(home).unlock(SUP, SUP_PW, allow_test_kdf=True)
    assert _sql(home, "SELECT * FROM unlock_failures") == []
    opened.lock()
    opened.vault.close()
