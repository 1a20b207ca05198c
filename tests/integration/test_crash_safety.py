"""A capture killed with SIGKILL at any moment leaves a sound vault that lost nothing it confirmed.

Each round copies a prepared vault file into a fresh directory, starts
``tests/support/crash_writer.py`` on it (a real process saving synthetic applicants one action
at a time) and kills it with a real SIGKILL after a delay drawn from a seeded ``random.Random``:
some before the first save, most during the capture loop. The parent then reopens the vault as
the next session would and checks that SQLite's structure is sound, every save the writer
confirmed is there and decrypts to what it wrote, the unconfirmed save is all there or not there
at all, nothing is half written (versions, heads, outbox, audit, blind index agree) and the
outbox and the audit chain are whole.
"""

from __future__ import annotations

import random
import shutil
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from fieldkit.kdf import TEST_KDF_ENV
from fieldkit.vault import outbox
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault
from tests.support import crash
from tests.support.crash_writer import OFFICER, PASSPHRASE, digest
from tests.support.vault import APPLICANT, new_vault, plan_visit

ROUNDS = 60
SEED = 20261201
CREATE_ACTIONS = {"applicant_created", "applicant_updated", "visit_created"}


@pytest.fixture(scope="module")
def base_vault(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A closed vault with one planned visit: one file, copied for every round."""
    home = tmp_path_factory.mktemp("base")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(TEST_KDF_ENV, "1")
        session = new_vault(home, officer_id=OFFICER, passphrase=PASSPHRASE)
        plan_visit(session)
        session.vault.close()
    assert sorted(p.name for p in home.iterdir()) == ["vault.db"], "closing checkpoints the WAL"
    return home / "vault.db"


@dataclass
class Outcome:
    """What the writer said before it died."""

    # attempt number -> ("add", size) or ("update", id, from_version)
    attempts: dict[int, tuple] = field(default_factory=dict)
    # (id, version, sha256, attempt) in the order printed
    saved: list[tuple[str, int, str, int]] = field(default_factory=list)
    done: bool = False

    @property
    def last_attempt(self) -> int | None:
        return max(self.attempts) if self.attempts else None

    def confirmed(self, attempt: int) -> int:
        return sum(1 for *_, n in self.saved if n == attempt)

    @property
    def unfinished(self) -> int | None:
        """The attempt that started but whose save was not confirmed, if any."""
        last = self.last_attempt
        if last is None:
            return None
        kind, *rest = self.attempts[last]
        expected = rest[0] if kind == "add" else 1
        return last if self.confirmed(last) < expected else None


def parse(stdout: bytes) -> Outcome:
    outcome = Outcome()
    # A line cut short by the kill has no newline; it was not a confirmation.
    for line in stdout.decode().splitlines(keepends=True):
        if not line.endswith("\n"):
            continue
        parts = line.split()
        if parts[0] == "attempt":
            n, kind = int(parts[1]), parts[2]
            detail = (int(parts[3]),) if kind == "add" else (parts[3], int(parts[4]))
            outcome.attempts[n] = (kind, *detail)
        elif parts[0] == "saved":
            outcome.saved.append((parts[1], int(parts[2]), parts[3], int(parts[4])))
        elif parts[0] == "done":
            outcome.done = True
    return outcome


def run_and_kill(home: Path, seed: int, rng: random.Random, errlog: Path) -> tuple[Outcome, str]:
    """Start the writer on ``home`` and SIGKILL it at a random moment; return what it printed."""
    stdout, mode, code = crash.run_and_kill("crash_writer", [str(home), str(seed)], rng, errlog)
    outcome = parse(stdout)
    assert code == -signal.SIGKILL or (code == 0 and outcome.done), (
        f"writer exited {code} before the kill:\n{errlog.read_text()[-3000:]}"
    )
    return outcome, mode


def check_structure(session: UnlockedVault) -> None:
    """Nothing half written (:func:`tests.support.crash.check_structure`), the index whole."""
    crash.check_structure(session, CREATE_ACTIONS)
    conn = session.conn
    heads = {(k, i): v for k, i, v in conn.execute("SELECT kind, id, version FROM records")}
    # Every applicant can be found by NIK and booking code, and the index names no ghosts.
    applicants = {i for k, i in heads if k == APPLICANT}
    for name in ("nik", "booking_code"):
        indexed = [
            row[0]
            for row in conn.execute(
                "SELECT id FROM blind_index WHERE kind = ? AND field = ?",
                (APPLICANT, name),
            )
        ]
        assert sorted(indexed) == sorted(applicants), name


def check_round(home: Path, outcome: Outcome) -> dict[str, bool]:
    """Reopen after the kill and check everything; return how the kill landed."""
    vault = Vault.open(home)
    try:
        assert vault.integrity_check() == "ok"
        assert vault.verify_audit().ok, vault.verify_audit()
        session = vault.unlock(OFFICER, PASSPHRASE, allow_test_kdf=True)
        check_structure(session)

        # Every confirmed save is there and decrypts to what the writer wrote.
        for rid, version, sha, attempt in outcome.saved:
            record = session.read(APPLICANT, rid, version)
            assert record.version == version
            assert digest(record.data) == sha, (rid, version, attempt)

        confirmed: dict[str, int] = {}
        for rid, version, _, _ in outcome.saved:
            confirmed[rid] = max(version, confirmed.get(rid, 0))
        heads = dict(
            session.conn.execute("SELECT id, version FROM records WHERE kind = ?", ("applicant",))
        )
        unconfirmed_ids = set(heads) - set(confirmed)

        # The one unconfirmed action is all there or not there at all.
        unfinished = outcome.unfinished
        committed_unconfirmed = False
        if unfinished is not None and outcome.attempts[unfinished][0] == "add":
            size = outcome.attempts[unfinished][1] - outcome.confirmed(unfinished)
            assert len(unconfirmed_ids) in (0, size), (len(unconfirmed_ids), size)
            committed_unconfirmed = bool(unconfirmed_ids)
        else:
            assert not unconfirmed_ids, sorted(unconfirmed_ids)[:5]
        updated = None
        if unfinished is not None and outcome.attempts[unfinished][0] == "update":
            _, updated, from_version = outcome.attempts[unfinished]
            assert confirmed[updated] == from_version
            assert heads[updated] in (from_version, from_version + 1)
            committed_unconfirmed = heads[updated] == from_version + 1
        for rid, version in confirmed.items():
            if rid != updated:
                assert heads[rid] == version, (rid, heads[rid], version)

        assert outbox.gaps(session.conn) == []
        assert vault.verify_audit().ok
        assert vault.integrity_check() == "ok"
    finally:
        vault.close()
    return {
        "saves": bool(outcome.saved),
        "unfinished": unfinished is not None,
        "committed_unconfirmed": committed_unconfirmed,
    }


def test_sigkill_at_random_moments_leaves_a_sound_vault(base_vault: Path, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    started = time.monotonic()
    tally = {
        "rounds": 0,
        "before_first_save": 0,
        "before_first_attempt": 0,
        "with_saves": 0,
        "mid_save": 0,
        "mid_save_after_saves": 0,
        "between_saves": 0,
        "committed_but_unconfirmed": 0,
        "versions_confirmed": 0,
    }
    modes: dict[str, int] = {}
    for n in range(ROUNDS):
        home = tmp_path / f"round{n:02d}"
        home.mkdir()
        shutil.copyfile(base_vault, home / "vault.db")
        outcome, mode = run_and_kill(home, SEED + n, rng, tmp_path / f"round{n:02d}.err")
        modes[mode] = modes.get(mode, 0) + 1
        try:
            landed = check_round(home, outcome)
        except AssertionError as exc:
            raise AssertionError(
                f"round {n} ({mode}): {len(outcome.saved)} confirmed versions, "
                f"last attempt {outcome.last_attempt}, unfinished {outcome.unfinished}: {exc}"
            ) from exc
        tally["rounds"] += 1
        tally["versions_confirmed"] += len(outcome.saved)
        tally["with_saves"] += landed["saves"]
        tally["before_first_save"] += not landed["saves"]
        tally["before_first_attempt"] += outcome.last_attempt is None
        tally["mid_save"] += landed["unfinished"]
        tally["mid_save_after_saves"] += landed["unfinished"] and landed["saves"]
        tally["between_saves"] += landed["saves"] and not landed["unfinished"]
        tally["committed_but_unconfirmed"] += landed["committed_unconfirmed"]
        shutil.rmtree(home)
    elapsed = time.monotonic() - started
    print(f"\ncrash safety: {tally}, kill modes {modes}, {elapsed:.1f} s")

    assert tally["rounds"] >= 50
    assert tally["before_first_save"] >= 1, tally
    assert tally["with_saves"] >= 1, tally
    assert tally["mid_save_after_saves"] >= 1, tally
