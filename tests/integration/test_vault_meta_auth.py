"""Redirecting a laptop to a rogue HQ, and every other edit of what the vault trusts.

Issue 9, item 1. The attacker holds the laptop's disk but no passphrase: they edit the vault
file with plain ``sqlite3`` while fieldkit is not running, then the officer does an ordinary
``fieldkit sync``. Two real HQs run as ``fieldkit-hq serve`` subprocesses on 127.0.0.1: A, where
the supervisor enrolled the laptop, and B, the attacker's, where the attacker enrolled the same
device (its ids and public key are in clear in the file). Everything else is real too: the
vault's crypto, the application layer (``fieldkit.service``) and the CLI.
"""

from __future__ import annotations

import base64
import json
import shutil
import sqlite3
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from fieldkit import kdf
from fieldkit.cli.main import main as fieldkit_cli
from fieldkit.service import purge as service_purge
from fieldkit.service import sync as service_sync
from fieldkit.service.errors import VaultSettingsAltered
from fieldkit.service.session import OfficerSession
from fieldkit.service.session import unlock as service_unlock
from fieldkit.settings import Settings
from fieldkit.vault import audit, db, keyring, metaauth, officers, syncstate
from fieldkit.vault.crypto import random_key, seal
from fieldkit.vault.errors import IntegrityError
from fieldkit.vault.purge import purge
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault
from tests.support.hq import Server, running_hq
from tests.support.vault import (
    OFF2,
    OFF2_NAME,
    OFF2_PW,
    OFF3,
    OFF3_NAME,
    OFF3_PW,
    SUP,
    SUP_PW,
    VaultHome,
    add_applicants,
    cli_env,
    new_vault,
    people,
    plan_visit,
)

pytestmark = pytest.mark.usefixtures("cheap_kdf")

PAST = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()


@pytest.fixture(scope="module")
def hq_a(hq_server: Server) -> Server:
    """The real HQ the laptop was enrolled with."""
    return hq_server


@pytest.fixture(scope="module")
def hq_b(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The attacker's HQ: a real fieldkit-hq with its own keys."""
    with running_hq(tmp_path_factory.mktemp("hq-b"), workers=1) as server:
        yield server


def settings_for(home: Path) -> Settings:
    return Settings(home=home, insecure_test_kdf=True)


def edit(db_path: Path, change: Callable[[sqlite3.Connection], None]) -> None:
    """The attacker's edit: plain sqlite3 on the file, no passphrase, no fieldkit."""
    conn = sqlite3.connect(db_path)
    try:
        with conn:
            change(conn)
    finally:
        conn.close()


def set_meta(**values: object) -> Callable[[sqlite3.Connection], None]:
    def change(conn: sqlite3.Connection) -> None:
        for key, value in values.items():
            if value is None:
                conn.execute("DELETE FROM meta WHERE key = ?", (key,))
            else:
                conn.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    return change


def meta_of(db_path: Path) -> dict[str, object]:
    conn = sqlite3.connect(db_path)
    try:
        return dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()


def enroll_at_rogue_hq(db_path: Path, rogue: Server) -> dict[str, str]:
    """Enroll the laptop's device at ``rogue`` from what the file shows in clear."""
    meta = meta_of(db_path)
    body = {
        "code": rogue.enroll_code(),
        "device_id": str(meta["device_id"]),
        "vault_id": str(meta["vault_id"]),
        "device_public_key": base64.b64encode(
            bytes.fromhex(str(meta["device_public_key"]))
        ).decode(),
    }
    answer = requests.post(f"{rogue.url}/v1/enroll", json=body, timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def redirect_to(rogue: Server, answer: dict[str, str]) -> Callable[[sqlite3.Connection], None]:
    """Swap the enrollment rows for the rogue HQ's, as the issue's exploit does."""
    return set_meta(
        hq_url=rogue.url,
        hq_kid=answer["hq_kid"],
        hq_encryption_public_key=base64.b64decode(answer["hq_encryption_public_key"]).hex(),
        hq_signing_public_key=base64.b64decode(answer["hq_signing_public_key"]).hex(),
    )


def hq_holds(server: Server, device_id: str) -> tuple[int, int]:
    """Batches and records ``server`` holds from ``device_id``."""
    batches = server.hq.scalar("SELECT count(*) FROM batches WHERE device_id = :d", d=device_id)
    records = server.hq.scalar("SELECT count(*) FROM records WHERE device_id = :d", d=device_id)
    return int(batches), int(records)  # type: ignore[call-overload]


def batch_rows(db_path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(
            "SELECT seq, hq_kid, acked_at, receipt FROM sync_batches ORDER BY seq"
        ).fetchall()
    finally:
        conn.close()


def audit_actions(db_path: Path) -> list[tuple[str, dict[str, object]]]:
    conn = sqlite3.connect(db_path)
    try:
        rows = conn.execute("SELECT action, detail FROM audit ORDER BY seq").fetchall()
    finally:
        conn.close()
    return [(a, json.loads(d)) for a, d in rows]


# -- a laptop enrolled at A, synced once, with more captured since (built once, copied) -------


@pytest.fixture(scope="module")
def synced_home(hq_a: Server, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A vault enrolled at A, synced (receipts, reference data, a revoked officer), then more
    captured; closed. Tests copy it: the same device, as the attacker would find it."""
    home = tmp_path_factory.mktemp("synced") / "device"
    session = new_vault(
        home,
        officers_=[(OFF2, OFF2_NAME, "officer", OFF2_PW), (OFF3, OFF3_NAME, "officer", OFF3_PW)],
    )
    desk = OfficerSession(session)
    service_sync.enroll(desk, hq_a.url, hq_a.enroll_code(), allow_http=True)
    add_applicants(session, plan_visit(session, on=PAST), people(3, 91))
    hq_a.cli("officer", "revoke", OFF3, "--device", session.vault.device_id, "--reason", "uji")
    report = service_sync.sync(desk, once=True)
    assert report.exit_code == 0 and report.acked >= 1, report.as_json("en")
    assert syncstate.revoked_officers(session.vault) == {OFF3}
    assert syncstate.reference_state(session.vault) is not None
    add_applicants(session, plan_visit(session), people(4, 92))  # not yet sent
    desk.lock()
    return home


@pytest.fixture(scope="module")
def at_b(synced_home: Path, hq_b: Server) -> dict[str, str]:
    """The attacker enrolls the laptop's device at B (once: every copy is the same device)."""
    return enroll_at_rogue_hq(db_of(synced_home), hq_b)


@pytest.fixture
def laptop(synced_home: Path, tmp_path: Path) -> Path:
    """A copy of the synced laptop's vault home for one test."""
    home = tmp_path / "device"
    shutil.copytree(synced_home, home)
    return home


def db_of(home: Path) -> Path:
    return home / "vault.db"


# -- the exploit ------------------------------------------------------------------------


def test_a_laptop_redirected_to_a_rogue_hq_refuses_to_sync_and_nothing_reaches_it(
    laptop: Path, hq_a: Server, hq_b: Server, at_b: dict[str, str]
) -> None:
    vault_db = db_of(laptop)
    device_id = str(meta_of(vault_db)["device_id"])
    answer = at_b
    assert answer["device_id"] == device_id  # B accepted the same device
    batches_before = batch_rows(vault_db)
    at_a = hq_holds(hq_a, device_id)
    edit(vault_db, redirect_to(hq_b, answer))

    # The officer's ordinary sync on the command line.
    result = CliRunner().invoke(
        fieldkit_cli, ["sync", "--once"], env=cli_env(laptop, FIELDKIT_LANG="en")
    )
    assert result.exit_code == 3, result.output
    assert "altered outside fieldkit" in result.output
    assert "Nothing was sent" in result.output
    json_result = CliRunner().invoke(
        fieldkit_cli, ["sync", "--once", "--json"], env=cli_env(laptop, FIELDKIT_LANG="id")
    )
    assert json_result.exit_code == 3
    error = json.loads(json_result.stdout)["error"]
    assert error["kind"] == "vault-settings-altered" and "di luar fieldkit" in error["message"]

    # The application layer refuses the same way.
    with pytest.raises(VaultSettingsAltered):
        service_unlock(settings_for(laptop), SUP, lambda: SUP_PW)

    assert hq_holds(hq_b, device_id) == (0, 0), "nothing reached the rogue HQ"
    assert hq_holds(hq_a, device_id) == at_a
    assert batch_rows(vault_db) == batches_before, "no batch cut or sealed to B, none acked"
    refused = [d for a, d in audit_actions(vault_db) if a == "unlock_refused"]
    assert refused and refused[-1]["reason"] == "settings altered outside fieldkit"


def test_a_session_left_open_refuses_to_sync_after_the_file_is_edited(
    laptop: Path, hq_b: Server, at_b: dict[str, str]
) -> None:
    """The field app keeps the vault unlocked all day: the edit comes while it is open."""
    vault_db = db_of(laptop)
    desk = service_unlock(settings_for(laptop), SUP, lambda: SUP_PW)
    try:
        device_id = desk.device_id
        answer = at_b
        batches_before = batch_rows(vault_db)
        edit(vault_db, redirect_to(hq_b, answer))
        with pytest.raises(VaultSettingsAltered):
            service_sync.sync(desk, once=True)
        with pytest.raises(VaultSettingsAltered):
            service_sync.export_batches(desk, laptop / "usb")
        with pytest.raises(VaultSettingsAltered):
            service_purge.purge(desk, retention_days=0)
        assert hq_holds(hq_b, device_id) == (0, 0)
        assert batch_rows(vault_db) == batches_before
    finally:
        desk.lock()


def test_the_untouched_copy_still_syncs_to_its_own_hq(laptop: Path, hq_a: Server) -> None:
    desk = service_unlock(settings_for(laptop), SUP, lambda: SUP_PW)
    try:
        report = service_sync.sync(desk, once=True)
        assert report.exit_code == 0 and report.acked >= 1, report.as_json("en")
        # Every legitimate write re-sealed: the vault verifies after the receipts and reference.
        desk.unlocked.verify_settings()
    finally:
        desk.lock()
    again = service_unlock(settings_for(laptop), SUP, lambda: SUP_PW)
    again.lock()


# -- one forged row of each class ---------------------------------------------------------------


def _x25519_public() -> str:
    return X25519PrivateKey.generate().public_key().public_bytes_raw().hex()


def _acked_earlier(conn: sqlite3.Connection) -> None:
    long_ago = (datetime.now(UTC) - timedelta(days=400)).isoformat()
    conn.execute("UPDATE sync_batches SET acked_at = ? WHERE acked_at IS NOT NULL", (long_ago,))


def _reference_older(conn: sqlite3.Connection) -> None:
    [(raw,)] = conn.execute("SELECT value FROM meta WHERE key = 'reference'").fetchall()
    state = json.loads(raw)
    state["version"] = 0
    conn.execute("UPDATE meta SET value = ? WHERE key = 'reference'", (json.dumps(state),))


def _unacked_marked_acked(conn: sqlite3.Connection) -> None:
    """A batch HQ never acknowledged, given the receipt of one it did."""
    [(receipt, acked_at)] = conn.execute(
        "SELECT receipt, acked_at FROM sync_batches WHERE acked_at IS NOT NULL LIMIT 1"
    ).fetchall()
    conn.execute(
        "INSERT INTO sync_batches (seq, batch_id, outbox_first, outbox_last, item_count, hq_kid, "
        "ct_sha256, envelope, created_at, receipt, acked_at) "
        "SELECT MAX(seq) + 1, ?, MAX(outbox_last) + 1, (SELECT MAX(seq) FROM outbox), 4, hq_kid, "
        "ct_sha256, X'00', created_at, ?, ? FROM sync_batches",
        (str(uuid.uuid4()), receipt, acked_at),
    )


FORGED = {
    "hq_url": set_meta(hq_url="http://127.0.0.1:9"),
    "hq encryption key and kid": set_meta(
        hq_kid="rogue-kid", hq_encryption_public_key=_x25519_public()
    ),
    "hq signing key": set_meta(
        hq_signing_public_key=Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
    ),
    "device id": set_meta(device_id=str(uuid.uuid4())),
    "device public key": set_meta(device_public_key=_x25519_public()),
    "officer revocation removed": set_meta(revoked_officers="[]"),
    "officer revocation row deleted": set_meta(revoked_officers=None),
    "reference version lowered": _reference_older,
    "reference data deleted": set_meta(reference=None, reference_sealed=None),
    "retention clock moved back": _acked_earlier,
    "unacknowledged batch marked acknowledged": _unacked_marked_acked,
    "a new row added": set_meta(hq_tls_ca="/tmp/rogue.pem"),
}


@pytest.mark.parametrize("case", list(FORGED), ids=list(FORGED))
def test_a_forged_row_is_refused_at_unlock(laptop: Path, case: str) -> None:
    vault_db = db_of(laptop)
    edit(vault_db, FORGED[case])
    officer, passphrase = (OFF3, OFF3_PW) if "revocation" in case else (SUP, SUP_PW)
    with pytest.raises(VaultSettingsAltered) as refused:
        service_unlock(settings_for(laptop), officer, lambda: passphrase)
    assert refused.value.exit_code == 3
    assert "di luar fieldkit" in refused.value.message.id
    assert "outside fieldkit" in refused.value.message.en


def test_a_revoked_officer_stays_refused_while_the_revocation_is_intact(laptop: Path) -> None:
    from fieldkit.service.errors import OfficerRevoked

    with pytest.raises(OfficerRevoked):
        service_unlock(settings_for(laptop), OFF3, lambda: OFF3_PW)


# -- the attacker's further moves -------------------------------------------------------------


def test_deleting_the_mac_row_is_refused(laptop: Path) -> None:
    edit(db_of(laptop), set_meta(meta_mac=None))
    with pytest.raises(VaultSettingsAltered, match="missing"):
        service_unlock(settings_for(laptop), SUP, lambda: SUP_PW)


def test_downgrading_the_format_marker_does_not_buy_trust_on_first_use(laptop: Path) -> None:
    edit(db_of(laptop), set_meta(meta_mac=None, format="1", hq_url="http://127.0.0.1:9"))
    for officer, passphrase in ((SUP, SUP_PW), (OFF2, OFF2_PW)):
        with pytest.raises(VaultSettingsAltered):
            service_unlock(settings_for(laptop), officer, lambda p=passphrase: p)
    assert "meta_mac" not in meta_of(db_of(laptop)), "nothing re-sealed the forged rows"


def test_replaying_an_older_valid_settings_set_is_refused(hq_a: Server, tmp_path: Path) -> None:
    """Copy back meta and sync_batches (MAC included) from before a sync: all valid once."""
    home = tmp_path / "device"
    session = new_vault(home)
    desk = OfficerSession(session)
    service_sync.enroll(desk, hq_a.url, hq_a.enroll_code(), allow_http=True)
    add_applicants(session, plan_visit(session, on=PAST), people(2, 93))
    vault_db = db_of(home)
    old_meta = meta_of(vault_db)
    assert service_sync.sync(desk, once=True).exit_code == 0  # receipts + reference applied
    desk.lock()

    def put_back(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM meta")
        conn.executemany("INSERT INTO meta VALUES (?, ?)", old_meta.items())
        conn.execute("DELETE FROM sync_batches")

    edit(vault_db, put_back)
    with pytest.raises(VaultSettingsAltered, match="older settings were put back"):
        service_unlock(settings_for(home), SUP, lambda: SUP_PW)


def test_a_data_key_of_the_attackers_own_in_a_slot_is_refused(
    laptop: Path, hq_b: Server, at_b: dict[str, str]
) -> None:
    """Wrap a new DEK to the supervisor's public slot key, re-seal a device key and the MAC
    under it: everything verifies under the attacker's key, except the device key the slot
    pinned under the passphrase."""
    vault_db = db_of(laptop)
    answer = at_b
    rogue_dek = random_key()
    rogue_device = Ed25519PrivateKey.generate()

    def substitute(conn: sqlite3.Connection) -> None:
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
        vault_id, device_id = str(meta["vault_id"]), str(meta["device_id"])
        generation = int(meta["dek_generation"])
        for officer_id, public in conn.execute("SELECT officer_id, public_key FROM key_slots"):
            conn.execute(
                "UPDATE key_slots SET wrapped_dek = ? WHERE officer_id = ?",
                (keyring.wrap_dek(vault_id, officer_id, public, rogue_dek, generation), officer_id),
            )
        redirect_to(hq_b, answer)(conn)
        set_meta(
            device_public_key=rogue_device.public_key().public_bytes_raw().hex(),
            device_private_sealed=keyring.seal_device_key(rogue_dek, device_id, rogue_device).hex(),
        )(conn)
        metaauth.seal(conn, rogue_dek, generation)  # the attacker knows the code

    edit(vault_db, substitute)
    # The forged MAC is valid under the forged key: only the slot's pin stops it.
    conn = sqlite3.connect(vault_db, isolation_level=None)
    try:
        generation = int(dict(conn.execute("SELECT key, value FROM meta"))["dek_generation"])
        metaauth.verify(conn, {generation: rogue_dek})
    finally:
        conn.close()
    with pytest.raises(VaultSettingsAltered, match="not this vault's"):
        service_unlock(settings_for(laptop), SUP, lambda: SUP_PW)
    assert hq_holds(hq_b, answer["device_id"]) == (0, 0)


# -- purge trusts acknowledgements: forged ones are refused before anything is destroyed ------


def _acked_vault(home: Path) -> tuple[UnlockedVault, str, str, str]:
    """Visits V and W acknowledged by HQ (one batch), then a late applicant L captured at V.

    V is held until L reaches HQ; W is due once its retention is over.
    """
    session = new_vault(home)
    v, w = plan_visit(session, on=PAST), plan_visit(session, on=PAST)
    add_applicants(session, v, people(2, 94))
    add_applicants(session, w, people(2, 95))
    conn = session.conn
    last = conn.execute("SELECT MAX(seq) FROM outbox").fetchone()[0]
    with db.transaction(conn):
        syncstate.insert_batch(
            conn,
            syncstate.NewBatch(
                seq=1,
                batch_id=str(uuid.uuid4()),
                outbox=(1, last),
                audit=None,
                count=last,
                hq_kid="hq-test",
                ct_sha256="0" * 64,
                envelope=b"sealed to HQ",
                created_at=datetime.now(UTC).isoformat(),
            ),
        )
    assert syncstate.acknowledge(session, 1, {"batch_id": "x", "seq": 1})
    [late] = add_applicants(session, v, people(1, 96))
    return session, v, w, late


def _keys(home: Path) -> dict[str, bytes | None]:
    conn = sqlite3.connect(db_of(home))
    try:
        return dict(conn.execute("SELECT visit_id, sealed_key FROM visit_keys").fetchall())
    finally:
        conn.close()


def _swap_outbox(conn: sqlite3.Connection, late: str, w: str) -> None:
    """Swap the late applicant's outbox number with an acknowledged version of W."""
    [(late_seq,)] = conn.execute(
        "SELECT seq FROM outbox WHERE kind = 'applicant' AND id = ?", (late,)
    ).fetchall()
    [(w_seq, *_)] = conn.execute(
        "SELECT o.seq FROM outbox o JOIN record_versions rv ON rv.kind = o.kind AND rv.id = o.id "
        "AND rv.version = o.version WHERE rv.visit_id = ? ORDER BY o.seq LIMIT 1",
        (w,),
    ).fetchall()
    conn.execute("UPDATE outbox SET seq = -1 WHERE seq = ?", (late_seq,))
    conn.execute("UPDATE outbox SET seq = ? WHERE seq = ?", (late_seq, w_seq))
    conn.execute("UPDATE outbox SET seq = ? WHERE seq = -1", (w_seq,))


ACK_FORGERIES = {
    # The receipt time moved back: the retention period looks over.
    "acked_at moved back": (lambda c, late, w: _acked_earlier(c), "unlock"),
    # The late version takes an acknowledged outbox number: V looks acknowledged.
    "outbox renumbered": (_swap_outbox, "purge-altered"),
    # The late version's clear visit_id names W: V looks acknowledged.
    "visit relabelled": (
        lambda c, late, w: c.execute(
            "UPDATE record_versions SET visit_id = ? WHERE kind = 'applicant' AND id = ?",
            (w, late),
        ),
        "purge-integrity",
    ),
}


@pytest.mark.parametrize("attack", list(ACK_FORGERIES), ids=list(ACK_FORGERIES))
def test_purge_refuses_forged_acknowledgements_and_destroys_nothing(
    tmp_path: Path, attack: str
) -> None:
    home = tmp_path / "device"
    session, v, w, late = _acked_vault(home)
    assert [p.visit_id for p in purge(session, retention=timedelta(0), dry_run=True).purged] == [
        w
    ], "before the edit only W is due; V waits for its late applicant"
    session.lock()
    session.vault.close()
    keys_before = _keys(home)
    change, refused_at = ACK_FORGERIES[attack]
    edit(db_of(home), lambda conn: change(conn, late, w))

    if refused_at == "unlock":
        with pytest.raises(VaultSettingsAltered):
            Vault.open(home).unlock(SUP, SUP_PW, allow_test_kdf=True)
    else:
        again = Vault.open(home).unlock(SUP, SUP_PW, allow_test_kdf=True)
        expected = VaultSettingsAltered if refused_at == "purge-altered" else IntegrityError
        try:
            with pytest.raises(expected):
                purge(again, now=datetime.now(UTC) + timedelta(days=30), retention=timedelta(0))
        finally:
            again.lock()
            again.vault.close()
    assert _keys(home) == keys_before, "no visit key was destroyed"
    assert keys_before[v] is not None


# -- a vault from before this version: trusted once, at its first unlock, then never again ----


def _as_before_authenticated_settings(home: Path, passwords: dict[str, str]) -> None:
    """Rewrite a vault into exactly what an older fieldkit left: format 1, no MAC, format-1
    slots, ``vault_created`` recording format 1 (the audit chain recomputed)."""
    conn = sqlite3.connect(db_of(home), isolation_level=None)
    try:
        conn.execute("BEGIN")
        meta = dict(conn.execute("SELECT key, value FROM meta"))
        vault_id = str(meta["vault_id"])
        for slot in keyring.all_slots(conn):
            kek = kdf.derive(passwords[slot.officer_id], slot.salt, slot.params)
            opened = keyring.open_slot(vault_id, slot, passwords[slot.officer_id])
            aad = keyring._slot_aad(  # the format-1 associated data
                vault_id, slot.officer_id, slot.role, slot.params, slot.public_key
            )
            conn.execute(
                "UPDATE key_slots SET wrapped_private_key = ? WHERE officer_id = ?",
                (seal(kek, opened.private_raw, aad), slot.officer_id),
            )
        conn.execute("DELETE FROM meta WHERE key IN ('meta_mac', 'acknowledged')")
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'format'")
        conn.execute("UPDATE audit SET detail = '{\"format\":1}' WHERE action = 'vault_created'")
        prev = audit.genesis_hash(vault_id)
        rows = conn.execute(
            "SELECT seq, at, officer_id, action, subject, detail FROM audit ORDER BY seq"
        ).fetchall()
        for seq, at, officer_id, action, subject, detail in rows:
            digest = audit.entry_hash(prev, seq, at, officer_id, action, subject, detail)
            conn.execute(
                "UPDATE audit SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq)
            )
            prev = digest
        conn.execute("COMMIT")
    finally:
        conn.close()


def test_an_older_vault_is_sealed_at_its_first_unlock_and_cannot_be_sent_back(
    tmp_path: Path,
) -> None:
    lab = VaultHome(tmp_path / "device")
    session = lab.create()
    officers.add_officer(
        session, OFF2, OFF2_NAME, "officer", OFF2_PW, params=kdf.INSECURE_TEST_PARAMS
    )
    add_applicants(session, plan_visit(session), people(2, 96))
    lab.close_all()
    _as_before_authenticated_settings(lab.home, {SUP: SUP_PW, OFF2: OFF2_PW})
    assert "meta_mac" not in meta_of(lab.db) and meta_of(lab.db)["format"] == "1"

    # An edit made before that first unlock is not detected (trust on first use, documented).
    edit(lab.db, set_meta(hq_url="http://edited-before-upgrade.invalid"))
    upgraded = lab.unlock(SUP, SUP_PW)
    assert lab.open().verify_audit().ok
    meta = meta_of(lab.db)
    assert meta["format"] == "2" and "meta_mac" in meta
    sealed = [d for a, d in audit_actions(lab.db) if a == metaauth.SEALED_ACTION]
    assert sealed == [{"format": 2, "from_format": 1, "acked_batches": 0}]
    assert [d for a, d in audit_actions(lab.db) if a == "key_slot_upgraded"] == [
        {"format": 2, "from_format": 1}
    ]
    upgraded.verify_settings()
    lab.close_all()

    # From now on edits are refused, and sending the vault back to "before" does not work,
    # not even for the officer whose slot is still format 1 (never unlocked since).
    edit(lab.db, set_meta(meta_mac=None, format="1", hq_url="http://rogue.invalid"))
    for officer, passphrase in ((OFF2, OFF2_PW), (SUP, SUP_PW)):
        with pytest.raises(VaultSettingsAltered):
            lab.unlock(officer, passphrase)
    lab.close_all()


def test_every_meta_row_a_working_vault_writes_is_named(laptop: Path) -> None:
    desk = service_unlock(settings_for(laptop), SUP, lambda: SUP_PW)
    try:
        officers.remove_officer(desk.unlocked, OFF2)  # rotation: new data key, re-sealed
        desk.unlocked.verify_settings()
    finally:
        desk.lock()
    keys = set(meta_of(db_of(laptop)))
    assert keys <= metaauth.AUTHENTICATED_KEYS | metaauth.CLEAR_KEYS, keys
    assert {"hq_url", "hq_kid", "reference", "revoked_officers", "acknowledged"} <= keys
    service_unlock(settings_for(laptop), SUP, lambda: SUP_PW).lock()
