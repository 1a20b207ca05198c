"""The application layer on real vault files: threads, cancellation, the rules it owns.

Real SQLite files, real cryptography (cheap Argon2id under the explicit test setting).
"""

import csv
import sqlite3
import threading
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from fieldkit import kdf
from fieldkit.domain.synth import synthetic_applicants
from fieldkit.service import applicants, roster, session, sync, visits
from fieldkit.service.errors import InsecureSlot, VaultError
from fieldkit.service.progress import Cancel, Cancelled
from fieldkit.service.purge import purge
from fieldkit.service.status import laptop_status
from fieldkit.settings import Settings
from fieldkit.vault import audit, outbox, syncstate
from fieldkit.vault.vault import Vault
from tests.support.hq import free_port

SUPERVISOR = "sup1"
PASSPHRASE = "kopi tubruk pagi hari"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "vault", insecure_test_kdf=True)


@pytest.fixture
def desk(settings: Settings):
    opened = session.create_vault(settings, SUPERVISOR, "Rina Wati", PASSPHRASE)
    yield opened
    opened.unlocked.vault.close()


def plan_visit(desk) -> str:
    return visits.create_visit(
        desk,
        kind="eazy",
        on=date(2026, 12, 1),
        session_name="pagi",
        site="SMAN 1 Karawang",
        coordinator_name="Budi Santoso",
        coordinator_phone="0812-3456-7890",
    )


def people(count: int, seed: int) -> list[dict[str, object]]:
    return [a.as_json() for a in synthetic_applicants(count, seed)]


# -- the threading rule -----------------------------------------------------------------------


def test_one_session_from_a_worker_thread_and_the_main_thread_at_once(desk):
    """Saves and reads interleave on the same unlocked session; nothing is lost."""
    visit_id = plan_visit(desk)
    rounds = 40
    saved: dict[str, list[str]] = {"main": [], "worker": []}
    failures: list[BaseException] = []
    start = threading.Barrier(2)

    def work(name: str, seed: int) -> None:
        try:
            start.wait()
            for i in range(rounds):
                ids = applicants.add_applicants(desk, visit_id, people(1, seed * 1000 + i))
                saved[name].extend(ids)
                # Read back what this thread and the other one saved so far.
                shown = applicants.show_applicant(desk, ids[0])
                assert shown.id == ids[0]
                visits.list_visits(desk)
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=work, args=("worker", 2))
    worker.start()
    work("main", 1)
    worker.join()
    assert failures == []
    every = saved["main"] + saved["worker"]
    assert len(set(every)) == 2 * rounds
    for applicant_id in every:
        assert applicants.show_applicant(desk, applicant_id).id == applicant_id
    conn = desk.unlocked.conn
    assert outbox.gaps(conn) == []
    assert outbox.depth(conn) == 1 + 2 * rounds  # the visit and every applicant
    assert audit.verify(conn, desk.vault_id).ok


def test_a_vault_connection_is_never_shared_between_threads(desk):
    seen: list[sqlite3.Connection] = []
    thread = threading.Thread(target=lambda: seen.append(desk.unlocked.conn))
    thread.start()
    thread.join()
    assert seen[0] is not desk.unlocked.conn
    # The finished thread's connection is closed the next time a new thread asks for one.
    other = threading.Thread(target=lambda: desk.unlocked.conn.execute("SELECT 1"))
    other.start()
    other.join()
    with pytest.raises(sqlite3.ProgrammingError):
        seen[0].execute("SELECT 1")


# -- long work: progress and cancel -----------------------------------------------------------


def write_roster(path: Path, count: int) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["Nama", "Tanggal Lahir", "NIK", "Jenis Permohonan"])
        for person in people(count, 11):
            writer.writerow(
                [person["name"], person["birth_date"], person["nik"], person["application_type"]]
            )
    return path


def test_a_roster_import_reports_progress(desk, tmp_path):
    visit_id = plan_visit(desk)
    calls: list[tuple[int, int]] = []
    result = roster.import_roster(
        desk,
        visit_id,
        write_roster(tmp_path / "r.csv", 300),
        progress=lambda d, t: calls.append((d, t)),
    )
    assert result.imported == 300
    assert calls[0] == (0, 300) and calls[-1] == (300, 300)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_a_cancelled_roster_import_stores_nothing(desk, tmp_path):
    visit_id = plan_visit(desk)
    cancel = Cancel()
    seen: list[int] = []

    def progress(done: int, total: int) -> None:
        seen.append(done)
        if done >= total // 2:
            cancel.cancel()  # the officer presses Esc half-way

    depth = outbox.depth(desk.unlocked.conn)
    with pytest.raises(Cancelled):
        roster.import_roster(
            desk, visit_id, write_roster(tmp_path / "r.csv", 300), progress=progress, cancel=cancel
        )
    assert seen, "the import ran until it was cancelled"
    assert outbox.depth(desk.unlocked.conn) == depth
    assert roster.roster_entries(desk, visit_id) == []


def test_cancel_callbacks_run_once_cancelled():
    cancel = Cancel()
    ran: list[str] = []
    cancel.on_cancel(lambda: ran.append("before"))
    cancel.cancel()
    cancel.on_cancel(lambda: ran.append("after"))
    assert ran == ["before", "after"]
    assert cancel.cancelled


def test_purge_reports_progress_and_stops_when_cancelled(desk):
    plan_visit(desk)
    calls: list[tuple[int, int]] = []
    report = purge(desk, retention_days=7, progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (0, 0) and report.purged == ()
    cancel = Cancel()
    cancel.cancel()
    with pytest.raises(Cancelled):
        purge(desk, retention_days=7, cancel=cancel)


# -- rules the layer owns ---------------------------------------------------------------------


def test_a_slot_made_under_the_test_kdf_is_refused_without_the_test_setting(desk, settings):
    desk.lock()
    strict = replace(settings, insecure_test_kdf=False)
    asked: list[bool] = []

    def passphrase() -> str:
        asked.append(True)
        return PASSPHRASE

    with pytest.raises(InsecureSlot):
        session.unlock(strict, SUPERVISOR, passphrase)
    vault = Vault.open(settings.home)
    try:
        last = vault.conn.execute(
            "SELECT action, detail FROM audit ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    finally:
        vault.close()
    assert last[0] == "unlock_refused" and "insecure test KDF" in last[1]
    again = session.unlock(settings, SUPERVISOR, passphrase)
    try:
        assert again.warnings == (kdf.INSECURE_WARNING,), "warned at every unlock"
    finally:
        again.lock()


def test_fee_schedules_are_read_once_per_reference_version(desk, monkeypatch):
    visit_id = plan_visit(desk)
    reads: list[int] = []
    real = syncstate.published_fee_schedules

    def counting(unlocked):
        reads.append(1)
        return real(unlocked)

    monkeypatch.setattr(syncstate, "published_fee_schedules", counting)
    for seed in range(5):
        applicants.add_applicants(desk, visit_id, people(1, seed))
    assert len(reads) == 1
    # New reference data (another version) is read at the next save.
    conn = desk.unlocked.conn
    with conn:
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('reference', ?)",
            ('{"applied_at":"-","generation":1,"issued_at":"-","version":2}',),
        )
    applicants.add_applicants(desk, visit_id, people(1, 99))
    assert len(reads) == 2


def test_a_withdrawn_or_revoked_state_refuses_new_work(desk):
    visit_id = plan_visit(desk)
    conn = desk.unlocked.conn
    with conn:
        syncstate.record_device_revocation(conn, "2026-12-01T00:00:00+00:00", "hilang", 3)
    with pytest.raises(VaultError) as refused:
        applicants.add_applicants(desk, visit_id, people(1, 1))
    assert "dicabut" in refused.value.text("id")
    with pytest.raises(VaultError):
        plan_visit(desk)


def test_a_sync_waiting_for_an_unreachable_hq_stops_when_cancelled(desk, settings, fake_hq):
    """A sync that would retry for ever (not ``once``) ends at once when the officer cancels."""
    sync.enroll(desk, fake_hq.url, fake_hq.enroll_code(), allow_http=True)
    applicants.add_applicants(desk, plan_visit(desk), people(3, 7))
    cancel = Cancel()
    timer = threading.Timer(0.5, cancel.cancel)
    timer.start()
    started = time.monotonic()
    try:
        report = sync.sync(desk, hq_url=f"http://127.0.0.1:{free_port()}", cancel=cancel)
    finally:
        timer.cancel()
    assert time.monotonic() - started < 30, "the backoff wait was cut short"
    assert report.network is not None and report.network.en == "Sync was stopped."
    assert not report.complete and report.exit_code == 4
    # Nothing is lost: the sealed batch waits for the next sync, which delivers it.
    again = sync.sync(desk, once=True)
    assert again.complete and again.acked >= 1
    status = laptop_status(settings, retention_days=7)
    assert status.outbox.waiting == 0, "everything HQ acknowledged is not 'waiting'"
    assert status.outbox.acknowledged == status.outbox.total > 0
