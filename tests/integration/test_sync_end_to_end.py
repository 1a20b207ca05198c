"""Field device → real HQ, end to end: enroll, sync 1,000 applicants, crash mid-sync, USB.

HQ runs as `fieldkit-hq serve` in a subprocess on 127.0.0.1 with its SQLite store (and, marked
``postgres``, with PostgreSQL); the device is a real vault. What HQ holds is read from its
store directly and compared with what the vault captured.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
from click.testing import CliRunner

from fieldkit.cli.main import FieldkitGroup, main
from fieldkit.cli.sync import enroll as enroll_command
from fieldkit.cli.sync import sync as sync_command
from fieldkit.domain.synth import synthetic_applicants
from fieldkit.vault import service, syncstate
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault
from sync.device.client import SyncClient
from sync.hq import store

HQ_PASSPHRASE = "markas besar kanim jakarta"
PASSPHRASE = "kopi tubruk pagi hari"
BIN = Path(sys.executable).parent
HQ = str(BIN / "fieldkit-hq")
# `fieldkit` with the sync commands, whether or not the CLI's main module registers them yet
# (a copy: the real group is left as it is).
fieldkit_main = FieldkitGroup(
    name="fieldkit",
    commands={**main.commands, "enroll": enroll_command, "sync": sync_command},
    callback=main.callback,
    params=main.params,
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Hq:
    url: str
    env: dict[str, str]
    db_url: str

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [HQ, *args], env=self.env, capture_output=True, text=True, timeout=60, check=False
        )
        if check and done.returncode != 0:
            raise AssertionError(f"fieldkit-hq {args}: {done.returncode}\n{done.stderr}")
        return done

    def enroll_code(self) -> str:
        return json.loads(self.cli("device", "enroll-code", "--json").stdout)["code"]

    def records(self, device_id: str) -> list[tuple[str, str, int, dict]]:
        engine = store.create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                t = store.records
                rows = conn.execute(
                    sa.select(t.c.kind, t.c.id, t.c.version, t.c.data).where(
                        t.c.device_id == device_id
                    )
                ).all()
        finally:
            engine.dispose()
        return [(k, i, v, d if isinstance(d, dict) else json.loads(d)) for k, i, v, d in rows]

    def scalar(self, sql: str, **params: object) -> object:
        engine = store.create_engine(self.db_url)
        try:
            with engine.connect() as conn:
                return conn.execute(sa.text(sql), params).scalar()
        finally:
            engine.dispose()


@contextmanager
def running_hq(home: Path, db_url: str | None = None):
    env = {
        **os.environ,
        "FIELDKIT_HQ_HOME": str(home),
        "FIELDKIT_HQ_PASSPHRASE": HQ_PASSPHRASE,
        "FIELDKIT_INSECURE_TEST_KDF": "1",
    }
    env.pop("FIELDKIT_HQ_DB", None)
    if db_url:
        env["FIELDKIT_HQ_DB"] = db_url
    port = free_port()
    hq = Hq(f"http://127.0.0.1:{port}", env, store.database_url(home, db_url or ""))
    hq.cli("init", "--json")
    log = (home / "serve.log").open("wb")
    server = subprocess.Popen(
        [HQ, "serve", "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(hq.url + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise AssertionError((home / "serve.log").read_text())
            time.sleep(0.1)
        yield hq
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def hq(tmp_path_factory):
    with running_hq(tmp_path_factory.mktemp("hq")) as running:
        yield running


@pytest.fixture
def device_env(tmp_path, monkeypatch):
    env = {
        "FIELDKIT_HOME": str(tmp_path / "device"),
        "FIELDKIT_INSECURE_TEST_KDF": "1",
        "FIELDKIT_OFFICER": "sup1",
        "FIELDKIT_PASSPHRASE": PASSPHRASE,
        "FIELDKIT_LANG": "en",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def new_device(home: Path, hq: Hq, applicants: int, seed: int = 1) -> UnlockedVault:
    """A vault enrolled with ``hq`` holding one visit and ``applicants`` applicants."""
    session = Vault.create(home, officer_id="sup1", name="Rina Wati", passphrase=PASSPHRASE)
    SyncClient(hq.url, session).enroll(hq.enroll_code())
    visit_id = service.create_visit(
        session, kind="eazy", on="2026-12-01", session_name="pagi", site="SMAN 1 Karawang",
        coordinator_name="Budi Santoso", coordinator_phone="081234567890",
    )  # fmt: skip
    people = [p.as_json() for p in synthetic_applicants(applicants, seed)]
    service.add_applicants(session, visit_id, people)
    return session


def captured(session: UnlockedVault) -> dict[tuple[str, str, int], dict]:
    """Every record version in the vault's outbox, decrypted."""
    rows = session.conn.execute("SELECT kind, id, version FROM outbox ORDER BY seq").fetchall()
    return {(k, i, v): session.read(k, i, v).data for k, i, v in rows}


def assert_hq_holds_exactly(hq: Hq, session: UnlockedVault) -> None:
    held = hq.records(session.vault.device_id)
    keys = [(k, i, v) for k, i, v, _ in held]
    assert len(keys) == len(set(keys)), "no record version twice"
    expected = captured(session)
    assert {(k, i, v): d for k, i, v, d in held} == expected
    device = session.vault.device_id
    assert (
        hq.scalar("SELECT count(*) FROM batches WHERE device_id = :d", d=device)
        == syncstate.summary(session.conn).batches
    )
    assert hq.scalar("SELECT count(*) FROM flags WHERE device_id = :d", d=device) == 0
    unverified = "SELECT count(*) FROM audit_entries WHERE device_id = :d AND NOT verified"
    assert hq.scalar(unverified, d=device) == 0, "HQ verified the audit chain"


def sync_fully(hq: Hq, session: UnlockedVault, **kwargs):
    report = SyncClient(hq.url, session, sleep=lambda _: None).sync(once=True, **kwargs)
    assert report.exit_code == 0, report.as_json("en")
    return report


# -- the main path ----------------------------------------------------------------------------


def _thousand_applicants_arrive_exactly_once(hq: Hq, home: Path) -> None:
    session = new_device(home, hq, 1000)
    seen = []
    report = SyncClient(hq.url, session).sync(lambda done, total: seen.append((done, total)))
    assert report.complete and report.exit_code == 0, report.as_json("en")
    assert report.cut == report.acked >= 3
    assert seen[-1][0] == seen[-1][1] == report.acked
    assert report.checkpoint is not None and report.checkpoint.next_seq == 1, "signed and read"
    refused = "SELECT count(*) FROM rejections WHERE device_id = :d"
    assert hq.scalar(refused, d=session.vault.device_id) == 0
    assert_hq_holds_exactly(hq, session)
    wire = report.bytes_sent / 1000
    assert wire <= 250, f"{wire:.0f} bytes on the wire per applicant (records and audit)"

    again = SyncClient(hq.url, session).sync()
    assert (again.cut, again.acked, again.bytes_sent) == (0, 0, 0), "a second sync sends nothing"
    assert again.complete
    assert_hq_holds_exactly(hq, session)


def test_a_thousand_applicants_arrive_exactly_once_sqlite(hq, tmp_path):
    _thousand_applicants_arrive_exactly_once(hq, tmp_path / "device")


@pytest.mark.postgres
def test_a_thousand_applicants_arrive_exactly_once_postgres(tmp_path, postgres_url):
    with running_hq(tmp_path / "hq", postgres_url) as hq:
        assert hq.db_url.startswith("postgresql")
        _thousand_applicants_arrive_exactly_once(hq, tmp_path / "device")


def test_the_command_line_enrolls_syncs_and_reports_exit_codes(hq, device_env, tmp_path):
    runner = CliRunner()

    def fieldkit(*args):
        return runner.invoke(fieldkit_main, list(args), env=device_env)

    assert fieldkit("init", "--officer", "sup1", "--name", "Rina Wati").exit_code == 0
    not_enrolled = fieldkit("sync", "--once")
    assert not_enrolled.exit_code == 1
    assert "not enrolled" in not_enrolled.output
    enrolled = fieldkit("enroll", "--hq", hq.url, "--code", hq.enroll_code(), "--json")
    assert enrolled.exit_code == 0, enrolled.output
    twice = fieldkit("enroll", "--hq", hq.url, "--code", "AAAA-AAAA-AAAA-AAAA")
    assert twice.exit_code == 1 and "already enrolled" in twice.output
    visit = fieldkit(
        "visit", "create", "--kind", "eazy", "--site", "SMAN 1 Karawang", "--date", "2026-12-01",
        "--session", "pagi", "--coordinator-name", "Budi Santoso",
        "--coordinator-phone", "081234567890",
    )  # fmt: skip
    people = "".join(json.dumps(p.as_json()) + "\n" for p in synthetic_applicants(20, 5))
    added = runner.invoke(
        fieldkit_main,
        ["applicant", "add", "--visit", visit.stdout.strip(), "--json", "-"],
        env=device_env,
        input=people,
    )
    assert added.exit_code == 0, added.output

    synced = fieldkit("sync", "--json")
    assert synced.exit_code == 0, synced.output
    report = json.loads(synced.stdout)
    assert report["complete"] and report["acked"] == 1 and report["items"] > 21
    status = json.loads(fieldkit("sync", "status", "--json").stdout)
    assert status["enrolled"] and status["unacked"] == 0 and status["records_waiting"] == 0

    device_id = json.loads(enrolled.stdout)["device_id"]
    hq.cli("device", "revoke", device_id, "--reason", "laptop reported stolen")
    revoked = fieldkit("sync", "--once")
    assert revoked.exit_code == 1
    assert "This device was revoked at HQ" in revoked.output
    assert "laptop reported stolen" in revoked.output or device_id in revoked.output
    in_indonesian = runner.invoke(
        fieldkit_main, ["sync", "--once"], env={**device_env, "FIELDKIT_LANG": "id"}
    )
    assert "Perangkat ini dicabut di HQ" in in_indonesian.output


def test_an_unreachable_hq_is_a_partial_sync_and_nothing_is_lost(hq, tmp_path):
    session = new_device(tmp_path / "device", hq, 30)
    dead = f"http://127.0.0.1:{free_port()}"
    waits: list[float] = []
    report = SyncClient(dead, session, sleep=waits.append).sync(once=True)
    assert report.exit_code == 4 and not report.complete
    assert report.network is not None and "could not be reached" in report.network.en
    assert len(waits) == 4, "5 tries in --once mode"
    sync_fully(hq, session)
    assert_hq_holds_exactly(hq, session)


# -- crashes ------------------------------------------------------------------------------------

# Runs a sync in a child process and stops it at a chosen point, printing a marker, so the
# test can SIGKILL it there: "acked" after the first receipt is stored; "sent" after HQ
# answered a batch but before the device stored the receipt.
CHILD = textwrap.dedent(
    """
    import sys, time, requests
    from fieldkit.vault.vault import Vault
    from sync.device.client import SyncClient

    stop_at = sys.argv[1]
    session = Vault.open().unlock("sup1", sys.argv[3])

    class StopAfterAnswer(requests.Session):
        def request(self, method, url, *args, **kwargs):
            response = super().request(method, url, *args, **kwargs)
            if stop_at == "sent" and url.endswith("/v1/batches"):
                print("sent", flush=True)
                time.sleep(60)
            return response

    def progress(done, total):
        if stop_at == "acked" and done >= 1:
            print("acked", flush=True)
            time.sleep(60)

    SyncClient(sys.argv[2], session, StopAfterAnswer()).sync(progress)
    print("finished", flush=True)
    """
)


def kill_sync_at(hq: Hq, home: Path, stop_at: str) -> None:
    env = {**os.environ, "FIELDKIT_HOME": str(home), "FIELDKIT_INSECURE_TEST_KDF": "1"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, stop_at, hq.url, PASSPHRASE],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == stop_at
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL


def test_a_device_killed_mid_sync_resumes_and_everything_arrives_exactly_once(hq, tmp_path):
    home = tmp_path / "device"
    session = new_device(home, hq, 1000)

    kill_sync_at(hq, home, "acked")
    acked = [b.seq for b in syncstate.batches(session.conn) if b.acked]
    assert acked == [1], "killed right after the first receipt was stored"

    kill_sync_at(hq, home, "sent")
    stored = syncstate.batches(session.conn)
    assert [b.seq for b in stored] == [1, 2]
    assert not stored[1].acked, "HQ has batch 2, the device never stored its receipt"
    assert (
        hq.scalar("SELECT count(*) FROM batches WHERE device_id = :d", d=session.vault.device_id)
        == 2
    )
    bytes_before = syncstate.envelope(session.conn, 2)

    report = sync_fully(hq, session)
    assert report.duplicates == 1, "batch 2 resent byte for byte; HQ answered its stored receipt"
    assert syncstate.envelope(session.conn, 2) == bytes_before
    assert report.acked == len(syncstate.batches(session.conn)) - 1, "batch 1 was not resent"
    assert_hq_holds_exactly(hq, session)


# -- USB ----------------------------------------------------------------------------------------


def test_batches_travel_on_a_usb_stick_and_receipts_come_back(hq, device_env, tmp_path):
    home = Path(device_env["FIELDKIT_HOME"])
    session = new_device(home, hq, 600, seed=9)
    stick = tmp_path / "usb"
    runner = CliRunner()

    exported = runner.invoke(fieldkit_main, ["sync", "export", str(stick), "--json"])
    assert exported.exit_code == 0, exported.output
    files = json.loads(exported.stdout)["files"]
    assert len(files) >= 2
    names = sorted(p.name for p in stick.glob("*.fkb"))
    assert names == sorted(f"{f['seq']}-{f['batch_id']}.fkb" for f in files)
    assert not list(stick.glob("*.partial"))

    imported = hq.cli("import", str(stick))
    assert "ACCEPTED" in imported.stdout
    assert len(list(stick.glob("*.receipt.json"))) == len(files)

    applied = runner.invoke(fieldkit_main, ["sync", "import-receipts", str(stick), "--json"])
    assert applied.exit_code == 0, applied.output
    outcome = json.loads(applied.stdout)
    assert sorted(outcome["acked"]) == [f["seq"] for f in files]
    assert outcome["unacked"] == 0 and outcome["rejected"] == []

    online = sync_fully(hq, session)
    assert online.acked == 0 and online.cut == 0, "nothing is sent twice"
    assert_hq_holds_exactly(hq, session)

    forged = stick / "forged.receipt.json"
    receipt = json.loads(next(stick.glob("*-*-*.receipt.json")).read_text())
    body = "receipt" if "receipt" in receipt else "document"  # the wire shape, or sign_document's
    receipt[body]["count"] = 1
    forged.write_text(json.dumps(receipt))
    refused = runner.invoke(fieldkit_main, ["sync", "import-receipts", str(stick)])
    assert refused.exit_code == 3
    assert "forged.receipt.json" in refused.output
