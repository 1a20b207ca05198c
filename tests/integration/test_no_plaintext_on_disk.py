"""No plaintext personal data on disk: not in the vault file, its WAL, shm or temp files.

A real process captures 1,000 synthetic applicants the way a counter does (200 saves of one
applicant, then batches), shows some, corrects a few, checks 30 of them in at the opened visit
(one as a walk-in), records the counter's work on 10 of them (payment, biometrics, notes,
a referral), and pauses with the vault still open; the test reads the raw bytes of every file
under the vault home and looks for every applicant's NIK, KK, name, phone (E.164 and 08…
forms) and booking code, the corrections' phones and addresses, the counter's billing codes,
NTPNs, biometrics references, notes and referral reasons, the coordinator's name and phone,
the officer's name and the passphrase. It does so again after the vault is closed, and after a
capture killed with SIGKILL (with its WAL left behind). The process runs with TMPDIR,
SQLITE_TMPDIR and its working directory pointing at empty directories that must stay empty, and
reports every file it opened for writing and every database it connected to.
The capturing process is ``tests/support/plaintext_capture.py``.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
from collections import defaultdict
from pathlib import Path

from fieldkit.domain.identifiers import check_person_name
from fieldkit.domain.synth import synthetic_applicants
from fieldkit.kdf import TEST_KDF_ENV
from fieldkit.vault.vault import Vault
from tests.support.plaintext_capture import (
    CHECK_INS,
    COORDINATOR_NAME,
    COORDINATOR_PHONE,
    COUNT,
    OFFICER,
    OFFICER_NAME,
    PASSPHRASE,
    UPDATES,
    counter_work,
    national,
    scenario,
)
from tests.support.programs import program, program_env
from tests.support.vault import APPLICANT, new_vault, plan_visit

# Names shorter than this are searched in their JSON form only: a bare "EKO" is 3 bytes, which
# random ciphertext of a few MB contains by chance.
MIN_BARE = 7


# -- searching raw bytes ----------------------------------------------------------------------


class Needles:
    """Every byte string that must not appear on disk, with what it is.

    Fast and complete without scanning once per needle: every occurrence of a needle lies in a
    maximal run of bytes drawn from the needles' own alphabet at least as long as the shortest
    needle. Such runs are found by one regular expression, then only they are searched.
    """

    def __init__(self) -> None:
        self.labels: dict[bytes, str] = {}

    def add(self, text: str, label: str) -> None:
        self.labels.setdefault(text.encode("utf-8"), label)

    def add_person(self, person: dict, label: str) -> None:
        for name in {person["name"], check_person_name(person["name"]).value}:
            if len(name) >= MIN_BARE:
                self.add(name, f"{label} name")
            else:
                self.add(f'"name":"{name}"', f"{label} name (JSON)")
                self.add(f'"name": "{name}"', f"{label} name (JSON)")
        self.add(person["nik"], f"{label} NIK")
        self.add(person["kk"], f"{label} KK")
        self.add(person["phone"], f"{label} phone")
        self.add(national(person["phone"]), f"{label} phone (08…)")
        self.add(person["booking_code"], f"{label} booking code")

    def add_fixed(self) -> None:
        """The coordinator, the officer and the passphrase."""
        self.add(COORDINATOR_NAME, "coordinator name (input)")
        self.add(COORDINATOR_NAME.upper(), "coordinator name")
        self.add(COORDINATOR_PHONE, "coordinator phone (08…)")
        self.add("+62" + COORDINATOR_PHONE[1:], "coordinator phone")
        self.add(OFFICER_NAME, "officer name (input)")
        self.add(OFFICER_NAME.upper(), "officer name")
        self.add(PASSPHRASE, "passphrase")

    def compile(self) -> Needles:
        self.shortest = min(len(n) for n in self.labels)
        alphabet = sorted(set(b"".join(self.labels)))
        members = b"".join(re.escape(bytes([b])) for b in alphabet)
        self.runs = re.compile(b"[" + members + b"]{%d,}" % self.shortest)
        self.by_prefix: dict[bytes, list[bytes]] = defaultdict(list)
        for needle in self.labels:
            self.by_prefix[needle[: self.shortest]].append(needle)
        return self

    def find(self, data: bytes) -> list[tuple[int, bytes]]:
        hits = []
        k = self.shortest
        for match in self.runs.finditer(data):
            run, base = match.group(), match.start()
            for j in range(len(run) - k + 1):
                for needle in self.by_prefix.get(run[j : j + k], ()):
                    if run.startswith(needle, j):
                        hits.append((base + j, needle))
        return hits


def every_file(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file())


def search_tree(root: Path, needles: Needles) -> tuple[list[str], list[str]]:
    """Search every file under ``root``; return the files read and the hits, described."""
    files, hits = [], []
    for path in every_file(root):
        data = path.read_bytes()
        files.append(f"{path.relative_to(root)} ({len(data)} bytes)")
        hits.extend(
            f"{path.relative_to(root)} @ {offset}: {needles.labels[needle]} {needle!r}"
            for offset, needle in needles.find(data)
        )
    return files, hits


def assert_clean(root: Path, needles: Needles, when: str) -> list[str]:
    files, hits = search_tree(root, needles)
    assert files, f"{when}: no files under {root}"
    assert not hits, f"{when}: {len(hits)} plaintext hits in {files}; first ones:\n" + "\n".join(
        hits[:5]
    )
    return files


def assert_unused(directory: Path, needles: Needles, what: str) -> None:
    """A directory the process must not have used: empty, or at least free of needles."""
    leftovers = every_file(directory)
    if leftovers:
        _, hits = search_tree(directory, needles)
        assert not hits, f"{what} holds personal data:\n" + "\n".join(hits[:5])
    assert not list(directory.iterdir()), f"{what} was used: {list(directory.rglob('*'))[:5]}"


class FdWatch:
    """Poll /proc/<pid>/fd for files open under the watched directories (deleted ones too).

    SQLite unlinks its temp files as soon as it opens them, so an empty directory afterwards
    proves little; an open descriptor is caught while it lives. ``seen`` maps each watched
    directory's name to the targets seen there (the vault home is watched as a control).
    """

    def __init__(self, pid: int, dirs: dict[str, Path]) -> None:
        self.fd_dir = Path(f"/proc/{pid}/fd")
        self.prefixes = {name: str(d.resolve()) + os.sep for name, d in dirs.items()}
        self.seen: dict[str, set[str]] = {name: set() for name in dirs}
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                names = os.listdir(self.fd_dir)
            except OSError:
                return
            for fd in names:
                try:
                    target = os.readlink(self.fd_dir / fd)
                except OSError:
                    continue
                for name, prefix in self.prefixes.items():
                    if target.startswith(prefix):
                        self.seen[name].add(target)
            time.sleep(0.001)

    def __enter__(self) -> FdWatch:
        if self.fd_dir.parent.is_dir():
            self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        if self.thread.is_alive():
            self.thread.join(5)

    def check(self) -> None:
        if not self.thread.ident:
            return  # no /proc here
        assert self.seen["home"], "the watch never saw the vault open: it is not working"
        strays = self.seen["tmp"] | self.seen["cwd"]
        assert not strays, f"files opened under TMPDIR or the working directory: {strays}"


def isolated_env(tmpdir: Path) -> dict[str, str]:
    return {
        **program_env(),
        TEST_KDF_ENV: "1",
        "TMPDIR": str(tmpdir),
        "TEMP": str(tmpdir),
        "TMP": str(tmpdir),
        "SQLITE_TMPDIR": str(tmpdir),
        # No bytecode written anywhere, so every write the process reports is its own.
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def assert_only_home_touched(touched: list[list[str]], home: Path) -> None:
    inside = str(home.resolve())
    strays = [
        (event, path)
        for event, path in touched
        if not os.path.realpath(path).startswith(inside + os.sep)
        and os.path.realpath(path) != inside
    ]
    assert not strays, f"files written outside the vault home: {strays[:5]}"
    databases = {os.path.realpath(path) for event, path in touched if event == "sqlite3.connect"}
    assert databases == {str((home / "vault.db").resolve())}, databases


# -- the tests ----------------------------------------------------------------------------------


def test_the_search_finds_what_it_looks_for() -> None:
    people, _, _ = scenario()
    needles = Needles()
    needles.add_fixed()
    for i, person in enumerate(people):
        needles.add_person(person, f"applicant {i}")
    needles.compile()
    long = next(p for p in people if len(p["name"]) >= MIN_BARE)
    short = next(p for p in people if len(p["name"]) < MIN_BARE)
    plain = json.dumps([long, short], separators=(",", ":")).encode()
    noise = os.urandom(4096)
    found = {needle for _, needle in needles.find(noise + plain + noise)}
    expected = [long[k] for k in ("name", "nik", "kk", "phone", "booking_code")]
    expected += [short[k] for k in ("nik", "kk", "phone", "booking_code")]
    expected.append(f'"name":"{short["name"]}"')
    assert {e.encode() for e in expected} <= found
    assert needles.find(b"xx" + national(people[3]["phone"]).encode() + b"\x00")
    assert needles.find(b"\x00" + PASSPHRASE.encode() + b"\xff")
    assert needles.find(COORDINATOR_NAME.upper().encode())
    assert not needles.find(noise)


def test_capture_view_and_update_leave_no_plaintext_on_disk(tmp_path: Path) -> None:
    home, tmpdir, cwd = tmp_path / "home", tmp_path / "tmp", tmp_path / "cwd"
    tmpdir.mkdir()
    cwd.mkdir()
    people, _, corrections = scenario()
    needles = Needles()
    needles.add_fixed()
    for i, person in enumerate(people):
        needles.add_person(person, f"applicant {i}")
    for index, phone, notes in corrections:
        needles.add(phone, f"applicant {index} new phone")
        needles.add(national(phone), f"applicant {index} new phone (08…)")
        needles.add(notes.split("Alamat: ")[1], f"applicant {index} address")
    for i, work in enumerate(counter_work()):
        needles.add(work["billing_code"], f"arrival {i} billing code")
        needles.add(work["ntpn"], f"arrival {i} NTPN")
        needles.add(work["biometrics_ref"], f"arrival {i} biometrics reference")
        needles.add(work["notes"].split("; ")[0], f"arrival {i} notes (address)")
        needles.add(work["reason"], f"arrival {i} referral reason")
    needles.compile()

    errlog = tmp_path / "capture.err"
    with errlog.open("wb") as err:
        proc = subprocess.Popen(
            program("plaintext_capture", "capture", str(home)),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=err,
            env=isolated_env(tmpdir),
            cwd=cwd,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            with FdWatch(proc.pid, {"tmp": tmpdir, "cwd": cwd, "home": home}) as watch:
                line = proc.stdout.readline()
                assert line, f"capture failed:\n{errlog.read_text()[-3000:]}"
                opened = json.loads(line)
                assert opened["stage"] == "open"
                assert opened["applicants"] == COUNT
                assert opened["versions"] == 1 + COUNT + UPDATES
                assert opened["checked_in"] == CHECK_INS

                # The vault is open and unlocked in that process: db, WAL and shm are live.
                files = assert_clean(home, needles, "vault open")
                assert any(f.startswith("vault.db-wal ") for f in files), files
                assert_unused(tmpdir, needles, "TMPDIR")
                assert_unused(cwd, needles, "the working directory")

                proc.stdin.write(b"close\n")
                proc.stdin.flush()
                closed = json.loads(proc.stdout.readline())
                assert proc.wait(30) == 0, errlog.read_text()[-3000:]
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
    assert closed["stage"] == "closed"
    watch.check()
    assert_clean(home, needles, "vault closed")
    assert_unused(tmpdir, needles, "TMPDIR")
    assert_unused(cwd, needles, "the working directory")
    assert_only_home_touched(closed["touched"], home)

    # The scan looked for what is really stored: unlocked, the vault holds the counter's work.
    vault = Vault.open(home)
    session = vault.unlock(OFFICER, PASSPHRASE, allow_test_kdf=True)
    served = [r.data for r in session.latest(APPLICANT) if r.state == "referred"]
    session.lock()
    vault.close()
    stored = sorted(
        (
            d["payment"]["billing_code"],
            d["payment"]["ntpn"],
            d["biometrics_ref"],
            d["notes"],
            d["decision"]["reason"],
        )
        for d in served
    )
    assert stored == sorted(tuple(w.values()) for w in counter_work())


def test_a_capture_killed_mid_way_leaves_no_plaintext_on_disk(tmp_path, monkeypatch):
    home, tmpdir, cwd = tmp_path / "home", tmp_path / "tmp", tmp_path / "cwd"
    tmpdir.mkdir()
    cwd.mkdir()
    monkeypatch.setenv(TEST_KDF_ENV, "1")
    session = new_vault(home, officer_id=OFFICER, name=OFFICER_NAME, passphrase=PASSPHRASE)
    plan_visit(session)
    session.vault.close()

    seed, planned, kill_after = 7_2026, 1500, 400
    needles = Needles()
    needles.add_fixed()
    for i, person in enumerate(synthetic_applicants(planned, seed)):
        needles.add_person(person.as_json(), f"applicant {i}")
    needles.compile()

    saved = new = 0
    errlog = tmp_path / "writer.err"
    with errlog.open("wb") as err:
        proc = subprocess.Popen(
            program("crash_writer", str(home), str(seed), str(planned)),
            stdout=subprocess.PIPE,
            stderr=err,
            env=isolated_env(tmpdir),
            cwd=cwd,
        )
        assert proc.stdout is not None
        try:
            with FdWatch(proc.pid, {"tmp": tmpdir, "cwd": cwd, "home": home}) as watch:
                for line in proc.stdout:
                    if line.startswith(b"saved "):
                        saved += 1
                        new += line.split()[2] == b"1"
                    if saved >= kill_after:
                        break
                os.kill(proc.pid, signal.SIGKILL)
                code = proc.wait(30)
        finally:
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
    assert code == -signal.SIGKILL, f"writer exited {code}:\n{errlog.read_text()[-3000:]}"
    assert saved >= kill_after
    watch.check()

    # What the stolen laptop would hold: the file, the WAL the dead process left, its shm.
    wal = home / "vault.db-wal"
    assert wal.exists() and wal.stat().st_size > 0, "the killed writer left no WAL"
    assert_clean(home, needles, "after SIGKILL")
    assert_unused(tmpdir, needles, "TMPDIR")
    assert_unused(cwd, needles, "the working directory")

    # The next session recovers the WAL; the recovered and checkpointed file is clean too.
    vault = Vault.open(home)
    assert vault.integrity_check() == "ok"
    session = vault.unlock(OFFICER, PASSPHRASE, allow_test_kdf=True)
    assert len(session.latest(APPLICANT)) >= new
    session.lock()
    vault.close()
    assert_clean(home, needles, "after recovery and close")
