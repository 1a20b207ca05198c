"""HQ's signed reference data reaches a real vault: `fieldkit-hq serve` in a subprocess.

What HQ publishes with its own CLI (visits and rosters assigned to a device, fee schedules, the
watchlist, revoked officers and devices, a rotated encryption key) is pulled by a real vault
through ``SyncClient`` or the ``fieldkit`` command, verified with the pinned HQ signing key and
applied; documents that are forged, for another device or older are refused and change nothing.
The main path runs on SQLite and, marked ``postgres``, on PostgreSQL. All NIKs are synthetic.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import uuid
from datetime import date
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit import kdf
from fieldkit.cli.main import main
from fieldkit.domain.applications import ApplicationType
from fieldkit.domain.fees import default_fee_schedules, parse_fee_schedules, quote_fee
from fieldkit.domain.products import PassportKind, Product
from fieldkit.service import applicants, visits
from fieldkit.service.session import OfficerSession
from fieldkit.vault import syncstate
from fieldkit.vault.errors import DeviceRevoked, InvalidInput, OfficerRevoked, ReferenceUnavailable
from fieldkit.vault.kinds import VISIT
from fieldkit.vault.roster import ENTRY_FIELDS
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault
from sync.device.client import SyncClient
from sync.device.errors import UntrustedReference
from sync.device.reference import apply_reference, watchlist_hit
from sync.hq import keys, store
from sync.wire import envelope
from sync.wire.reference import WatchlistParams, watchlist_tag
from sync.wire.requests import REFERENCE_PATH, request_headers
from tests.support.hq import PASSPHRASE as HQ_PASSPHRASE
from tests.support.hq import HQHome, Server, init_hq, running_hq, start_server, stop_server
from tests.support.reference import EAZY_VISIT, entries_of, write_roster
from tests.support.vault import (
    OFF2,
    OFF2_NAME,
    OFF2_PW,
    OFF3,
    OFF3_NAME,
    OFF3_PW,
    PASSPHRASE,
    add_applicants,
    cli_env,
    enrolled_vault,
    no_wait_client,
    people,
    plan_office_visit,
    plan_visit,
)

pytestmark = pytest.mark.usefixtures("cheap_kdf")
FEES = Path(__file__).resolve().parents[2] / "fieldkit" / "domain" / "data" / "fees.json"
NEW_SCHEDULE = {
    "regulation": "PP 99/2026",
    "effective_from": "2026-06-01",
    "source": "synthetic schedule for tests",
    "note": "",
    "items": {
        "passport.ordinary.5": 410000,
        "passport.ordinary.10": 710000,
        "passport.electronic.5": 690000,
        "passport.electronic.10": 990000,
        "service.same_day": 1100000,
        "fine.lost": 1200000,
        "fine.damaged": 600000,
        "fine.force_majeure": 0,
    },
}


# -- HQ and devices -----------------------------------------------------------------------------


def fees_file(tmp: Path) -> Path:
    data = json.loads(FEES.read_text(encoding="utf-8"))
    data["schedules"].append(NEW_SCHEDULE)
    path = tmp / "fees.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def new_device(home: Path, server: Server) -> UnlockedVault:
    return enrolled_vault(home, server.url, server.enroll_code())


def client(server: Server, session: UnlockedVault) -> SyncClient:
    return no_wait_client(server.url, session)


def fetch(server: Server, session: UnlockedVault, **overrides: str) -> requests.Response:
    """``GET /v1/reference`` signed by the device's key, as the client sends it."""
    headers = request_headers(session.device_signing_key(), session.vault.device_id)
    headers.update(overrides)
    return requests.get(server.base + REFERENCE_PATH, headers=headers, timeout=30)


def vault_state(session: UnlockedVault) -> tuple:
    """Everything a refused document must leave as it was."""
    conn = session.conn
    meta = sorted(conn.execute("SELECT key, value FROM meta").fetchall())
    records = conn.execute("SELECT COUNT(*) FROM record_versions").fetchone()[0]
    audit = conn.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
    return meta, records, audit


def hq_signing_key(hq: HQHome) -> Ed25519PrivateKey:
    return keys.unlock(hq.home, HQ_PASSPHRASE).signing_key


@pytest.fixture(scope="module")
def server(hq_server):
    return hq_server


# -- the main path ------------------------------------------------------------------------------


def _published_reference_is_verified_and_applied(server: Server, tmp: Path) -> None:
    session = new_device(tmp / "device", server)
    device_id = session.vault.device_id
    assigned = people(12, 401)
    visit_id = server.cli(
        "roster", "assign", "--device", device_id, "--visit-json",
        str(write_roster(tmp, entries_of(assigned), EAZY_VISIT)),
    ).stdout.strip()  # fmt: skip
    server.cli("fees", "publish", str(fees_file(tmp)))
    banned = people(5, 402)
    (tmp / "watchlist.txt").write_text(
        "# synthetic\n" + "".join(p["nik"] + "\n" for p in banned), encoding="utf-8"
    )
    server.cli("watchlist", "import", str(tmp / "watchlist.txt"))
    server.cli("officer", "revoke", "off9", "--reason", "left the service")

    report = client(server, session).sync(once=True, reference=True)
    assert report.exit_code == 0, report.as_json("en")
    outcome = report.reference
    assert outcome is not None and outcome.new and outcome.previous_version is None
    assert (outcome.visits_added, outcome.entries_added) == (1, 12)
    assert outcome.fees and outcome.watchlist == 5 and outcome.revoked_officers == 1

    # Rosters land as a visit and roster entries, in the shape the roster import stores.
    planned = session.read(VISIT, visit_id)
    assert planned.state == "planned" and planned.data["site"] == "SMAN 1 Karawang"
    entries = session.latest("roster", visit_id)
    assert len(entries) == 12 and {e.state for e in entries} == {"expected"}
    assert all(set(ENTRY_FIELDS) <= set(e.data) and e.data["source"] == "hq" for e in entries)
    assert sorted(e.data["nik"] for e in entries) == sorted(p["nik"] for p in assigned)
    assert applicants.find_by_nik(OfficerSession(session), assigned[0]["nik"]), (
        "blind-indexed like an import"
    )
    kept = applied_document(session)
    assert "rosters" not in kept and len(kept["rosters_sha256"]) == 64, "rosters live as records"

    # The watchlist: possible matches for its NIKs (16-bit tags: 5 of 65,536 values, so the
    # 12 others miss unless a 1-in-1,000 chance strikes; the seeds are fixed and they miss).
    assert all(watchlist_hit(session, p["nik"]).possible_match for p in banned)
    assert not any(watchlist_hit(session, p["nik"]).possible_match for p in assigned)
    with pytest.raises(InvalidInput):
        watchlist_hit(session, "12345")

    # Revoked officers are readable without the data key, and their slots are refused.
    closed = Vault.open(tmp / "device")
    assert syncstate.revoked_officers(closed) == {"off9"}
    with pytest.raises(OfficerRevoked) as refused:
        syncstate.refuse_revoked_officer(closed, "off9")
    assert "left the service" in refused.value.message.en
    syncstate.refuse_revoked_officer(closed, "sup1")
    closed.close()

    # Idempotent: the same version again changes nothing and writes no record.
    before = session.conn.execute("SELECT COUNT(*) FROM record_versions").fetchone()[0]
    again = client(server, session).pull_reference()
    assert not again.new and (again.visits_added, again.entries_added) == (0, 0)
    assert session.conn.execute("SELECT COUNT(*) FROM record_versions").fetchone()[0] == before

    # The roster goes back to HQ with the next batches, like anything the device holds.
    assert client(server, session).sync(once=True).exit_code == 0
    kinds = server.hq.rows(store.records, store.records.c.device_id == device_id)
    assert sum(1 for r in kinds if r["kind"] == "roster") == 12


def test_published_reference_is_verified_and_applied_sqlite(server, tmp_path):
    _published_reference_is_verified_and_applied(server, tmp_path)


@pytest.mark.postgres
def test_published_reference_is_verified_and_applied_postgres(tmp_path, postgres_url):
    with running_hq(tmp_path / "hq", postgres_url, workers=2) as running:
        _published_reference_is_verified_and_applied(running, tmp_path)


# -- refusals -----------------------------------------------------------------------------------


def test_a_document_signed_by_another_key_or_tampered_or_for_another_device_changes_nothing(
    server, tmp_path
):
    session = new_device(tmp_path / "device", server)
    payload = fetch(server, session).json()
    assert set(payload) == {"document", "sig"}
    before = vault_state(session)

    forged = envelope.sign_document(payload["document"], Ed25519PrivateKey.generate())
    tampered = {"document": {**payload["document"], "version": 10**6}, "sig": payload["sig"]}
    other = {**payload["document"], "device_id": str(uuid.uuid4())}
    for_other_device = envelope.sign_document(other, hq_signing_key(server.hq))
    older_sig_kid = {**payload["document"], "hq_signing_kid": "0" * 16}
    wrong_kid = envelope.sign_document(older_sig_kid, hq_signing_key(server.hq))
    for bad, why in (
        (forged, "signature does not verify"),
        (tampered, "signature does not verify"),
        (for_other_device, "for another device"),
        (wrong_kid, "malformed"),
    ):
        with pytest.raises(UntrustedReference) as refused:
            apply_reference(session, bad)
        assert why in refused.value.message.en
        assert refused.value.exit_code == 3
        assert vault_state(session) == before, "nothing changed"

    # The same through the client: a network that forges HQ's answer is reported, not applied.
    class Forging(requests.Session):
        def request(self, method, url, *args, **kwargs):
            response = super().request(method, url, *args, **kwargs)
            if url.endswith(REFERENCE_PATH):
                response._content = json.dumps(forged).encode()
            return response

    report = SyncClient(server.base, session, Forging()).sync(once=True, reference=True)
    assert report.exit_code == 3 and report.reference is None
    assert "signature does not verify" in report.untrusted.en
    assert syncstate.reference_state(session.vault) is None


def test_a_rolled_back_version_is_refused_and_nothing_changes(server, tmp_path):
    session = new_device(tmp_path / "device", server)
    old = fetch(server, session).json()
    server.cli("officer", "revoke", "rollback1", "--device", session.vault.device_id)
    applied = client(server, session).pull_reference()
    assert applied.version > old["document"]["version"]
    before = vault_state(session)
    with pytest.raises(UntrustedReference) as refused:
        apply_reference(session, old)
    assert "older than version" in refused.value.message.en
    assert vault_state(session) == before
    assert "rollback1" in syncstate.revoked_officers(session.vault)

    # The held version with other contents (a replay of another answer) is refused too.
    current = fetch(server, session).json()["document"]
    assert current["version"] == applied.version
    same = {**current, "revoked_officers": []}
    with pytest.raises(UntrustedReference):
        apply_reference(session, envelope.sign_document(same, hq_signing_key(server.hq)))
    assert vault_state(session) == before


def applied_document(session: UnlockedVault) -> dict:
    document = syncstate.reference_document(session)
    assert document is not None
    return document


# -- the watchlist never lies in clear on disk --------------------------------------------------


def test_no_watchlist_nik_or_digest_is_in_clear_in_any_vault_file(server, tmp_path):
    home = tmp_path / "device"
    session = new_device(home, server)
    with pytest.raises(ReferenceUnavailable):
        watchlist_hit(session, people(1, 1)[0]["nik"])
    banned = people(40, 403)  # each costs HQ one slow hash at import
    (tmp_path / "watch.txt").write_text("\n".join(p["nik"] for p in banned), encoding="utf-8")
    server.cli("watchlist", "import", str(tmp_path / "watch.txt"))
    client(server, session).pull_reference()
    document = applied_document(session)
    watch = document["watchlist"]
    salt = base64.b64decode(watch["salt"])
    params = WatchlistParams(watch["memory_kib"], watch["iterations"], watch["lanes"], 16)
    assert watch["bits"] == 16 and watch["entries"] == 40
    # Spot checks only: each costs one slow hash (the publication itself was made at HQ).
    assert {watchlist_tag(p["nik"], salt, params) for p in banned[:3]} <= set(watch["tags"])
    assert watchlist_hit(session, banned[17]["nik"]).possible_match
    spaced = " ".join(banned[3]["nik"][i : i + 4] for i in range(0, 16, 4))
    assert watchlist_hit(session, spaced).possible_match
    assert not watchlist_hit(session, people(1, 404)[0]["nik"]).possible_match

    def assert_clean() -> None:
        files = [p for p in home.rglob("*") if p.is_file()]
        assert any(p.name == "vault.db" for p in files)
        for path in files:
            raw = path.read_bytes()
            for person in banned:
                assert person["nik"].encode() not in raw, f"a NIK in clear in {path.name}"
            assert salt not in raw and watch["salt"].encode() not in raw

    assert_clean()  # open, WAL in use
    session.vault.close()
    assert_clean()  # closed

    # The watchlist check from the command line: a hit says "refer to supervisor", nothing else.
    env = cli_env(home)
    runner = CliRunner()
    hit = runner.invoke(main, ["--lang", "en", "check", "watchlist", banned[0]["nik"]], env=env)
    assert hit.exit_code == 0, hit.output
    assert hit.stdout.startswith("Possible watchlist match: refer to supervisor.")
    assert "not a certainty (about 0.1% of applicants" in hit.stdout, hit.stdout
    rujuk = runner.invoke(main, ["--lang", "id", "check", "watchlist", banned[1]["nik"]], env=env)
    assert rujuk.stdout.startswith("Kemungkinan cocok dengan daftar cekal: rujuk ke supervisor.")
    possible = runner.invoke(
        main, ["--lang", "en", "check", "watchlist", banned[2]["nik"], "--json"], env=env
    )
    answer = json.loads(possible.stdout)
    assert (answer["hit"], answer["match"]) == (True, "possible")
    assert answer["false_positive_rate"] == len(watch["tags"]) / 2**16
    miss = runner.invoke(
        main, ["--lang", "en", "check", "watchlist", people(1, 405)[0]["nik"], "--json"], env=env
    )
    assert miss.exit_code == 0 and json.loads(miss.stdout)["hit"] is False
    assert json.loads(miss.stdout)["match"] == "none"
    bad = runner.invoke(main, ["--lang", "en", "check", "watchlist", "not-a-nik"], env=env)
    assert bad.exit_code == 2
    assert_clean()
    checks = sqlite3.connect(home / "vault.db").execute(
        "SELECT detail FROM audit WHERE action = 'watchlist_checked'"
    )
    assert [json.loads(d)["hit"] for (d,) in checks] == [True, True, True, False]


# -- HQ's keys rotate -----------------------------------------------------------------------------


def test_a_rotated_hq_key_reaches_the_device_and_later_batches_are_sealed_to_it(tmp_path):
    hq = init_hq(tmp_path / "hq", None)
    running = start_server(hq, workers=1)
    try:
        session = new_device(tmp_path / "device", running)
        old_kid = syncstate.enrollment(session.vault).hq_kid
        visit_id = plan_visit(session)
        add_applicants(session, visit_id, people(30, 406))
        first = client(running, session).sync(once=True, reference=True)
        assert first.exit_code == 0 and first.reference.hq_kid is None
        add_applicants(session, visit_id, people(10, 407))
    finally:
        stop_server(running)

    rotated = keys.rotate_encryption_key(hq.home, HQ_PASSPHRASE)
    assert rotated.current_kid != old_kid
    running = start_server(hq, workers=1)
    try:
        report = client(running, session).sync(once=True, reference=True)
        assert report.exit_code == 0, report.as_json("en")
        assert report.reference.hq_kid == rotated.current_kid
        assert syncstate.enrollment(session.vault).hq_kid == rotated.current_kid
        # This sync's batch was cut before the news: sealed to the old key, which HQ still
        # accepts. The batches cut from now on are sealed to the new key.
        assert report.acked == 1, report.as_json("en")
        assert syncstate.batches(session.conn)[-1].hq_kid == old_kid
        add_applicants(session, visit_id, people(10, 408))
        later = client(running, session).sync(once=True, reference=True)
        assert later.exit_code == 0 and later.acked == 1, later.as_json("en")
        assert later.reference is not None and not later.reference.new
        stored = syncstate.batches(session.conn)
        assert stored[-1].hq_kid == rotated.current_kid and all(b.acked for b in stored)
        held = hq.rows(store.batches, store.batches.c.device_id == session.vault.device_id)
        assert {b["hq_kid"] for b in held} == {old_kid, rotated.current_kid}
        assert len(held) == len(stored)
    finally:
        stop_server(running)


# -- a revoked device stops ---------------------------------------------------------------------


def test_a_revoked_device_stops_after_its_next_sync_with_hqs_reason(server, tmp_path):
    home = tmp_path / "device"
    session = new_device(home, server)
    visit_id = plan_office_visit(session)
    add_applicants(session, visit_id, people(3, 409))
    device_id = session.vault.device_id
    session.vault.close()
    env = cli_env(home)
    runner = CliRunner()

    def fieldkit(*args: str, lang: str = "en"):
        return runner.invoke(main, ["--lang", lang, *args], env=env)

    synced = fieldkit("sync", "--once", "--hq", server.base, "--json")
    assert synced.exit_code == 0, synced.output
    assert json.loads(synced.stdout)["reference"]["new"] is True

    server.cli("device", "revoke", device_id, "--reason", "laptop reported stolen")
    revoked = fieldkit("sync", "--once", "--hq", server.base)
    assert revoked.exit_code == 1
    assert "This device was revoked at HQ: laptop reported stolen" in revoked.output

    for args in (
        ("sync", "--once", "--hq", server.base),
        ("sync", "reference", "--hq", server.base),
        ("sync", "export", str(tmp_path / "usb")),
    ):
        again = fieldkit(*args)
        assert again.exit_code == 1, (args, again.output)
        assert "This device was revoked at HQ: laptop reported stolen" in again.output
        assert "can no longer sync or capture" in again.output
    status = json.loads(fieldkit("sync", "status", "--json").stdout)
    assert status["revoked"]["reason"] == "laptop reported stolen"
    assert status["reference_version"] >= 1
    in_indonesian = fieldkit("sync", "--once", "--hq", server.base, lang="id")
    assert "Perangkat ini dicabut di HQ: laptop reported stolen" in in_indonesian.output
    capture = runner.invoke(
        main,
        ["--lang", "en", "applicant", "add", "--visit", visit_id, "--json", "-"],
        env=env,
        input=json.dumps(people(1, 410)[0]),
    )
    assert capture.exit_code == 1 and "revoked at HQ" in capture.output
    session = Vault.open(home).unlock("sup1", PASSPHRASE, allow_test_kdf=True)
    with pytest.raises(DeviceRevoked):
        visits.create_visit(
            OfficerSession(session),
            kind="office",
            on="2026-12-02",
            session_name="pagi",
            site="Kanim Karawang",
        )
    assert syncstate.reference_document(session) is None, "the watchlist is dropped"


# -- fees published at HQ -----------------------------------------------------------------------


def test_a_fee_schedule_published_at_hq_is_used_for_new_captures(server, tmp_path):
    session = new_device(tmp_path / "device", server)
    visit_id = plan_office_visit(session)
    person = next(
        p for p in people(50, 411) if p["application_type"] == "new" and p["product"] == "ordinary"
    )
    on = date(2026, 12, 1)
    before = add_applicants(session, visit_id, [person], on=on)
    assert session.read("applicant", before[0]).data["fee"]["regulation"] == "PP 45/2024"

    server.cli("fees", "publish", str(fees_file(tmp_path)))
    env = cli_env(tmp_path / "device")
    pulled = CliRunner().invoke(
        main, ["--lang", "en", "sync", "reference", "--hq", server.base, "--json"], env=env
    )
    assert pulled.exit_code == 0, pulled.output
    assert json.loads(pulled.stdout)["fees"] is True
    session.vault.reload_meta()
    schedules = syncstate.published_fee_schedules(session)
    assert schedules is not None and schedules[-1].regulation == "PP 99/2026"
    after = add_applicants(session, visit_id, [person], on=on)
    fee = session.read("applicant", after[0]).data["fee"]
    assert fee["regulation"] == "PP 99/2026"
    product = Product(PassportKind(person["product"]), person["validity_years"])
    expected = quote_fee(
        app_type=ApplicationType.NEW, product=product, on=on, schedules=schedules
    ).value
    assert fee["total"] == expected.total == NEW_SCHEDULE["items"][product.item]
    assert schedules != default_fee_schedules()

    # HQ refuses fee data the device's own rules refuse; nothing is published.
    broken = json.loads(fees_file(tmp_path).read_text())
    del broken["schedules"][-1]["items"]["fine.lost"]
    (tmp_path / "broken.json").write_text(json.dumps(broken))
    refused = server.cli("fees", "publish", str(tmp_path / "broken.json"), check=False)
    assert refused.returncode == 2 and "fee.data.missing_item" in refused.stderr
    assert parse_fee_schedules(broken).ok is False


def test_an_hq_clock_far_from_the_laptops_is_refused_with_a_clear_message(server, tmp_path):
    session = new_device(tmp_path / "device", server)
    sync_client = client(server, session)
    sync_client.http = replace_headers_clock(sync_client)
    report = sync_client.sync(once=True, reference=True)
    assert report.exit_code == 1
    assert report.refused[-1].problem.slug == "clock-skew"
    assert "clock is too far from HQ's" in report.refused[-1].message.en


def replace_headers_clock(sync_client: SyncClient):
    """The client's HTTP layer, with every Fieldkit-Time moved a day back (re-signed)."""
    http = sync_client.http
    key = sync_client.session.device_signing_key()
    device_id = sync_client.vault_device_id
    original = http.request

    def request(method, path, **kwargs):
        if path == REFERENCE_PATH:
            kwargs["headers"] = request_headers(
                key, device_id, at="2026-01-01T00:00:00.000000+00:00"
            )
        return original(method, path, **kwargs)

    http.request = request
    return http


# -- the vault's data key rotates -----------------------------------------------------------------


def test_after_a_data_key_rotation_the_reference_is_still_readable(server, tmp_path):
    from fieldkit.vault import officers

    session = new_device(tmp_path / "device", server)
    banned = people(3, 412)
    (tmp_path / "w.txt").write_text("\n".join(p["nik"] for p in banned), encoding="utf-8")
    server.cli("watchlist", "import", str(tmp_path / "w.txt"))
    client(server, session).pull_reference()
    assert watchlist_hit(session, banned[0]["nik"]).possible_match
    held = applied_document(session)

    officers.add_officer(
        session, OFF2, OFF2_NAME, "officer", OFF2_PW, params=kdf.INSECURE_TEST_PARAMS
    )
    before = session.generation
    officers.remove_officer(session, OFF2)  # rotates the data key and re-seals the reference
    generation = session.generation
    assert generation == before + 1
    assert applied_document(session) == held
    assert syncstate.reference_state(session.vault).generation == generation
    assert watchlist_hit(session, banned[0]["nik"]).possible_match

    # A second rotation keeps it too, and pulling the same version again is accepted.
    officers.add_officer(
        session, OFF3, OFF3_NAME, "officer", OFF3_PW, params=kdf.INSECURE_TEST_PARAMS
    )
    officers.remove_officer(session, OFF3)
    assert applied_document(session) == held
    again = client(server, session).pull_reference()
    assert not again.new and watchlist_hit(session, banned[0]["nik"]).possible_match
