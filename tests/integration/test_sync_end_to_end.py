"""Field device → real HQ, end to end: enroll, sync 1,000 applicants, crash mid-sync, USB.

HQ runs as `fieldkit-hq serve` in a subprocess on 127.0.0.1 with its SQLite store (and, marked
``postgres``, with PostgreSQL); the device is a real vault. What HQ holds is read from its
store directly and compared with what the vault captured.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from fieldkit.cli.main import FieldkitGroup, main
from fieldkit.cli.sync import enroll as enroll_command
from fieldkit.cli.sync import sync as sync_command
from fieldkit.domain.synth import synthetic_applicants
from fieldkit.vault import syncstate
from fieldkit.vault.session import UnlockedVault
from sync.device.client import SyncClient
from tests.support.checks import assert_hq_holds_exactly
from tests.support.hq import Server, free_port, running_hq
from tests.support.programs import program, program_env
from tests.support.vault import PASSPHRASE, cli_env, enrolled_vault, no_wait_client

# `fieldkit` with the sync commands, whether or not the CLI's main module registers them yet
# (a copy: the real group is left as it is).
fieldkit_main = FieldkitGroup(
    name="fieldkit",
    commands={**main.commands, "enroll": enroll_command, "sync": sync_command},
    callback=main.callback,
    params=main.params,
)


@pytest.fixture(scope="module")
def server(hq_server):
    return hq_server


@pytest.fixture
def device_env(tmp_path, monkeypatch):
    env = cli_env(tmp_path / "device", FIELDKIT_LANG="en")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


def new_device(home: Path, server: Server, applicants: int, seed: int = 1) -> UnlockedVault:
    """A vault enrolled with ``server`` holding one visit and ``applicants`` applicants."""
    return enrolled_vault(home, server.url, server.enroll_code(), applicants, seed)


def sync_fully(server: Server, session: UnlockedVault, **kwargs):
    report = no_wait_client(server.url, session).sync(once=True, **kwargs)
    assert report.exit_code == 0, report.as_json("en")
    return report


# -- the main path ----------------------------------------------------------------------------


def _thousand_applicants_arrive_exactly_once(server: Server, home: Path) -> None:
    session = new_device(home, server, 1000)
    seen = []
    report = SyncClient(server.url, session).sync(lambda done, total: seen.append((done, total)))
    assert report.complete and report.exit_code == 0, report.as_json("en")
    assert report.cut == report.acked >= 3
    assert seen[-1][0] == seen[-1][1] == report.acked
    assert report.checkpoint is not None and report.checkpoint.next_seq == 1, "signed and read"
    refused = "SELECT count(*) FROM rejections WHERE device_id = :d"
    assert server.hq.scalar(refused, d=session.vault.device_id) == 0
    assert_hq_holds_exactly(server, session)
    wire = report.bytes_sent / 1000
    assert wire <= 250, f"{wire:.0f} bytes on the wire per applicant (records and audit)"

    again = SyncClient(server.url, session).sync()
    assert (again.cut, again.acked, again.bytes_sent) == (0, 0, 0), "a second sync sends nothing"
    assert again.complete
    assert_hq_holds_exactly(server, session)


def test_a_thousand_applicants_arrive_exactly_once_sqlite(server, tmp_path):
    _thousand_applicants_arrive_exactly_once(server, tmp_path / "device")


@pytest.mark.postgres
def test_a_thousand_applicants_arrive_exactly_once_postgres(tmp_path, postgres_url):
    with running_hq(tmp_path / "hq", postgres_url) as server:
        assert server.store_url().startswith("postgresql")
        _thousand_applicants_arrive_exactly_once(server, tmp_path / "device")


def test_the_command_line_enrolls_syncs_and_reports_exit_codes(server, device_env, tmp_path):
    runner = CliRunner()

    def fieldkit(*args):
        return runner.invoke(fieldkit_main, list(args), env=device_env)

    assert fieldkit("init", "--officer", "sup1", "--name", "Rina Wati").exit_code == 0
    not_enrolled = fieldkit("sync", "--once")
    assert not_enrolled.exit_code == 1
    assert "not enrolled" in not_enrolled.output
    enrolled = fieldkit("enroll", "--hq", server.url, "--code", server.enroll_code(), "--json")
    assert enrolled.exit_code == 0, enrolled.output
    twice = fieldkit("enroll", "--hq", server.url, "--code", "AAAA-AAAA-AAAA-AAAA")
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
    server.cli("device", "revoke", device_id, "--reason", "laptop reported stolen")
    revoked = fieldkit("sync", "--once")
    assert revoked.exit_code == 1
    assert "This device was revoked at HQ" in revoked.output
    assert "laptop reported stolen" in revoked.output or device_id in revoked.output
    in_indonesian = runner.invoke(
        fieldkit_main, ["sync", "--once"], env={**device_env, "FIELDKIT_LANG": "id"}
    )
    assert "Perangkat ini dicabut di HQ" in in_indonesian.output


def test_an_unreachable_hq_is_a_partial_sync_and_nothing_is_lost(server, tmp_path):
    session = new_device(tmp_path / "device", server, 30)
    dead = f"http://127.0.0.1:{free_port()}"
    waits: list[float] = []
    report = SyncClient(dead, session, sleep=waits.append).sync(once=True)
    assert report.exit_code == 4 and not report.complete
    assert report.network is not None and "could not be reached" in report.network.en
    assert len(waits) == 4, "5 tries in --once mode"
    sync_fully(server, session)
    assert_hq_holds_exactly(server, session)


# -- crashes ------------------------------------------------------------------------------------


def kill_sync_at(server: Server, home: Path, stop_at: str) -> None:
    env = program_env({**os.environ, "FIELDKIT_HOME": str(home), "FIELDKIT_INSECURE_TEST_KDF": "1"})
    child = subprocess.Popen(
        program("killable_sync", stop_at, server.url, PASSPHRASE),
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


def test_a_device_killed_mid_sync_resumes_and_everything_arrives_exactly_once(server, tmp_path):
    home = tmp_path / "device"
    session = new_device(home, server, 1000)

    kill_sync_at(server, home, "acked")
    acked = [b.seq for b in syncstate.batches(session.conn) if b.acked]
    assert acked == [1], "killed right after the first receipt was stored"

    kill_sync_at(server, home, "sent")
    stored = syncstate.batches(session.conn)
    assert [b.seq for b in stored] == [1, 2]
    assert not stored[1].acked, "HQ has batch 2, the device never stored its receipt"
    assert (
        server.hq.scalar(
            "SELECT count(*) FROM batches WHERE device_id = :d", d=session.vault.device_id
        )
        == 2
    )
    bytes_before = syncstate.envelope(session.conn, 2)

    report = sync_fully(server, session)
    assert report.duplicates == 1, "batch 2 resent byte for byte; HQ answered its stored receipt"
    assert syncstate.envelope(session.conn, 2) == bytes_before
    assert report.acked == len(syncstate.batches(session.conn)) - 1, "batch 1 was not resent"
    assert_hq_holds_exactly(server, session)


# -- USB ----------------------------------------------------------------------------------------


def test_batches_travel_on_a_usb_stick_and_receipts_come_back(server, device_env, tmp_path):
    home = Path(device_env["FIELDKIT_HOME"])
    session = new_device(home, server, 600, seed=9)
    stick = tmp_path / "usb"
    runner = CliRunner()

    exported = runner.invoke(fieldkit_main, ["sync", "export", str(stick), "--json"])
    assert exported.exit_code == 0, exported.output
    files = json.loads(exported.stdout)["files"]
    assert len(files) >= 2
    names = sorted(p.name for p in stick.glob("*.fkb"))
    assert names == sorted(f"{f['seq']}-{f['batch_id']}.fkb" for f in files)
    assert not list(stick.glob("*.partial"))

    imported = server.cli("import", str(stick))
    assert "ACCEPTED" in imported.stdout
    assert len(list(stick.glob("*.receipt.json"))) == len(files)

    applied = runner.invoke(fieldkit_main, ["sync", "import-receipts", str(stick), "--json"])
    assert applied.exit_code == 0, applied.output
    outcome = json.loads(applied.stdout)
    assert sorted(outcome["acked"]) == [f["seq"] for f in files]
    assert outcome["unacked"] == 0 and outcome["rejected"] == []

    online = sync_fully(server, session)
    assert online.acked == 0 and online.cut == 0, "nothing is sent twice"
    assert_hq_holds_exactly(server, session)

    forged = stick / "forged.receipt.json"
    receipt = json.loads(next(stick.glob("*-*-*.receipt.json")).read_text())
    body = "receipt" if "receipt" in receipt else "document"  # the wire shape, or sign_document's
    receipt[body]["count"] = 1
    forged.write_text(json.dumps(receipt))
    refused = runner.invoke(fieldkit_main, ["sync", "import-receipts", str(stick)])
    assert refused.exit_code == 3
    assert "forged.receipt.json" in refused.output
