"""Purging acknowledged visits: crypto-shredding after HQ's receipt plus a retention period.

Real vault files, real cryptography, cheap Argon2id (``FIELDKIT_INSECURE_TEST_KDF=1``). HQ's
acknowledgements are set up the way the sync client stores them (``syncstate.insert_batch`` then
``syncstate.acknowledge`` with a receipt), without a running HQ: that is bookkeeping, not what
is under test. Where the batch envelopes themselves are under test, real batches are cut, sealed
to a real HQ key and delivered by the real sync client to the fake HQ
(``tests.support.fake_hq``: HQ's side of the protocol, on 127.0.0.1). Times are taken from the
stored ``acked_at`` and ``purge(now=…)`` moves the clock forward. Only synthetic people are
used.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from fieldkit import kdf
from fieldkit.cli.main import FieldkitGroup
from fieldkit.cli.purge import purge as purge_command
from fieldkit.cli.sync import sync as sync_command
from fieldkit.cli.vaultcmd import audit as audit_command
from fieldkit.cli.vaultcmd import status as status_command
from fieldkit.service import applicants, visits
from fieldkit.service.session import OfficerSession
from fieldkit.vault import db, officers, rotation, syncstate
from fieldkit.vault.crypto import AuthenticationFailed, derive_key, open_sealed, seal
from fieldkit.vault.errors import EnvelopeEmptied, IntegrityError
from fieldkit.vault.kinds import VISIT
from fieldkit.vault.purge import (
    ACKNOWLEDGED,
    ENVELOPES_EMPTIED_ACTION,
    HELD,
    PURGED,
    EmptiedEnvelopes,
    Purged,
    purge,
    retention_status,
)
from fieldkit.vault.records import Change, open_visit_key, record_aad
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import Vault
from sync.device import batches as sync_batches
from sync.device.batches import cut_batch
from sync.device.client import SyncClient
from sync.device.report import SyncReport
from sync.device.retry import RetryPolicy
from sync.wire import envelope
from tests.support.fake_hq import FakeHq
from tests.support.vault import (
    OFF2,
    OFF2_NAME,
    OFF2_PW,
    SUP,
    VaultHome,
    add_applicants,
    cli_env,
    plan_visit,
    reseal_settings,
)
from tests.support.vault import people as new_people

COORDINATORS = (("Budi Santoso", "081234567890"), ("Siti Rahmawati", "081398765432"))
WEEK = timedelta(days=7)


pytestmark = pytest.mark.usefixtures("cheap_kdf")


class Field(VaultHome):
    """One vault home with the sessions opened on it (closed at teardown)."""

    def __init__(self, home: Path) -> None:
        super().__init__(home)
        self.session = self.create()

    def visit(self, seed: int, count: int, on: date, coordinator: int = 0) -> Visit:
        name, phone = COORDINATORS[coordinator]
        visit_id = plan_visit(
            self.session, on=on.isoformat(), coordinator_name=name, coordinator_phone=phone
        )
        people = new_people(count, seed)
        ids = add_applicants(self.session, visit_id, people)
        return Visit(visit_id, ids, people, name, phone)

    def ack_everything(self, envelope: bytes = b"sealed to HQ") -> datetime:
        """Put every unbatched outbox entry into one batch and store HQ's receipt for it."""
        conn = self.session.conn
        first = syncstate.last_batched(conn)[0] + 1
        last = conn.execute("SELECT MAX(seq) FROM outbox").fetchone()[0]
        assert last is not None and last >= first, "nothing to acknowledge"
        with db.transaction(conn):
            seq = syncstate.next_batch_seq(conn)
            batch_id = str(uuid.uuid4())
            syncstate.insert_batch(
                conn,
                syncstate.NewBatch(
                    seq=seq,
                    batch_id=batch_id,
                    outbox=(first, last),
                    audit=None,
                    count=last - first + 1,
                    hq_kid="hq-test",
                    ct_sha256="0" * 64,
                    envelope=envelope,
                    created_at=datetime.now(UTC).isoformat(),
                ),
            )
        assert syncstate.acknowledge(self.session, seq, {"batch_id": batch_id, "seq": seq})
        acked = syncstate.batch(conn, seq)
        assert acked is not None and acked.acked_at is not None
        return datetime.fromisoformat(acked.acked_at)


class Visit:
    def __init__(self, visit_id: str, ids: list[str], people: list[dict], name: str, phone: str):
        self.id = visit_id
        self.applicant_ids = ids
        self.people = people
        self.coordinator = (name, phone)

    def secrets(self) -> list[bytes]:
        """The personal data of this visit as it would appear in clear (JSON and bare)."""
        found = []
        for person in self.people:
            for key in ("nik", "kk", "name", "phone", "booking_code"):
                value = str(person[key])
                found.append(value.encode())
                found.append(json.dumps({key: value})[1:-1].encode())
        found += [s.encode() for s in self.coordinator]
        return found


@pytest.fixture
def field(tmp_path: Path) -> Iterator[Field]:
    place = Field(tmp_path / "home")
    yield place
    place.close_all()


PAST = date.today() - timedelta(days=10)


def sealed_rows(field: Field, visit_id: str) -> list[tuple]:
    return field.sql(
        "SELECT kind, id, version, visit_id, state, officer_id, at, key_generation, sealed "
        "FROM record_versions WHERE visit_id = ? ORDER BY rowid",
        (visit_id,),
    )


def sealed_key(field: Field, visit_id: str) -> bytes | None:
    return field.sql("SELECT sealed_key FROM visit_keys WHERE visit_id = ?", (visit_id,))[0][0]


def update_notes(session: UnlockedVault, applicant_id: str, notes: str) -> None:
    current = session.read("applicant", applicant_id)
    session.write(
        [
            Change(
                "applicant",
                applicant_id,
                {**current.data, "notes": notes},
                "checked_in",
                current.visit_id,
                expected_version=current.version,
            )
        ],
        action="applicant_updated",
    )


# -- per-visit keys ------------------------------------------------------------------------------


def test_each_visit_has_its_own_key_sealed_under_the_data_key(field: Field) -> None:
    a = field.visit(1, 3, PAST)
    b = field.visit(2, 2, PAST, coordinator=1)
    session = field.session
    rows = field.sql("SELECT visit_id, dek_generation, sealed_key, shredded_at FROM visit_keys")
    assert {r[0] for r in rows} == {a.id, b.id}
    assert all(r[1] == 1 and len(r[2]) == 1 + 12 + 32 + 16 and r[3] is None for r in rows)
    records_key = derive_key(session.deks[1], "records")
    for visit in (a, b):
        for kind, rid, version, *clear, _, sealed in sealed_rows(field, visit.id):
            aad = record_aad(kind, rid, version, *clear)
            with pytest.raises(AuthenticationFailed):
                open_sealed(records_key, sealed, aad)  # not under the data key's records key
            key = open_visit_key(
                session.deks[1], session.vault.vault_id, visit.id, 1, sealed_key(field, visit.id)
            )
            assert json.loads(open_sealed(derive_key(key, "records"), sealed, aad))
    # A sealed visit key is bound to its visit: moved to another visit it does not open.
    with pytest.raises(AuthenticationFailed):
        open_visit_key(session.deks[1], session.vault.vault_id, b.id, 1, sealed_key(field, a.id))
    # Everything reads back after a restart.
    again = field.unlock()
    assert [again.read("applicant", i).data["nik"] for i in a.applicant_ids] == [
        p["nik"] for p in a.people
    ]


def test_a_swapped_visit_key_is_an_integrity_error_naming_the_record(field: Field) -> None:
    a = field.visit(1, 1, PAST)
    b = field.visit(2, 1, PAST, coordinator=1)
    field.close_all()
    conn = sqlite3.connect(field.db)
    with conn:
        key_a, key_b = sealed_key(field, a.id), sealed_key(field, b.id)
        conn.execute("UPDATE visit_keys SET sealed_key = ? WHERE visit_id = ?", (key_b, a.id))
        conn.execute("UPDATE visit_keys SET sealed_key = ? WHERE visit_id = ?", (key_a, b.id))
    conn.close()
    session = field.unlock()
    with pytest.raises(IntegrityError) as caught:
        session.read("applicant", a.applicant_ids[0])
    assert (caught.value.kind, caught.value.record_id) == ("applicant", a.applicant_ids[0])


# -- retention and purge -------------------------------------------------------------------------


def test_nothing_is_purged_before_the_retention_period_is_over(field: Field) -> None:
    a = field.visit(1, 3, PAST)
    acked = field.ack_everything()
    for now in (acked, acked + WEEK - timedelta(seconds=1)):
        report = purge(field.session, now=now)
        assert report.purged == ()
        assert [v.visit_id for v in report.waiting] == [a.id]
    assert field.session.read("applicant", a.applicant_ids[0]).data["nik"] == a.people[0]["nik"]
    assert sealed_key(field, a.id) is not None
    assert "visit_purged" not in {r[0] for r in field.sql("SELECT action FROM audit")}
    # A shorter retention, as FIELDKIT_RETENTION_DAYS or --retention-days would give.
    assert (
        len(purge(field.session, now=acked + timedelta(days=2), retention=timedelta(days=1)).purged)
        == 1
    )


def test_after_retention_the_visit_is_crypto_shredded_and_nothing_of_it_is_left(
    field: Field,
) -> None:
    a = field.visit(1, 4, PAST)
    field.ack_everything()
    update_notes(field.session, a.applicant_ids[0], "KK asli sudah diperiksa")
    b = field.visit(2, 3, PAST, coordinator=1)  # captured later, not yet acknowledged
    acked = field.ack_everything()  # acknowledges a's update and b
    c = field.visit(3, 2, PAST)  # held: never acknowledged
    session = field.session

    a_ciphertexts = [row[-1] for row in sealed_rows(field, a.id)]
    a_key = sealed_key(field, a.id)
    assert a_key is not None and len(a_ciphertexts) == 1 + 4 + 1
    audit_before = field.sql("SELECT COUNT(*) FROM audit")[0][0]

    # b was acknowledged at the same time as a's last version: both are due after a week.
    report = purge(session, now=acked + WEEK)
    assert sorted(p.visit_id for p in report.purged) == sorted([a.id, b.id])
    assert [v.visit_id for v in report.held] == [c.id]
    assert report.wal_truncated is True
    by_visit = {p.visit_id: p for p in report.purged}
    assert by_visit[a.id].records == {"applicant": 4, "visit": 1}
    assert by_visit[a.id].versions == 6 and by_visit[a.id].crypto_shredded

    # Unreadable: a clear Purged error in both languages, not an integrity error.
    for kind, rid in [("visit", a.id)] + [("applicant", i) for i in a.applicant_ids]:
        with pytest.raises(Purged) as caught:
            session.read(kind, rid)
        assert not isinstance(caught.value, IntegrityError)
        assert "purged from this laptop after HQ acknowledged it" in caught.value.message.en
        assert "dihapus" in caught.value.message.id and "diterima HQ" in caught.value.message.id
    with pytest.raises(Purged):
        session.history("applicant", a.applicant_ids[0])
    with pytest.raises(Purged):
        session.read(VISIT, a.id)
    # The key row has no key; the ciphertexts are gone; the rows stay as metadata.
    key_row = field.sql(
        "SELECT dek_generation, sealed_key, shredded_at FROM visit_keys WHERE visit_id = ?",
        (a.id,),
    )
    assert key_row[0][1] is None and key_row[0][2] is not None
    assert all(row[-1] == b"" for row in sealed_rows(field, a.id))
    assert field.sql("SELECT COUNT(*) FROM record_versions")[0][0] == 6 + 4 + 3
    heads = field.sql(
        "SELECT state, nik_index, booking_index FROM records WHERE visit_id = ?", (a.id,)
    )
    assert heads == [("purged", None, None)] * 5
    # The blind index no longer finds them.
    for person in a.people:
        assert session.find("nik", str(person["nik"])) == []
        assert session.find("booking_code", str(person["booking_code"])) == []
    # Nothing of the visit in any file under the vault home: not its personal data, not its
    # ciphertexts, not its sealed key.
    files = field.files()
    assert {"vault.db"} <= set(files)
    assert files.get("vault.db-wal", b"") == b"", "the WAL was truncated"
    for name, content in files.items():
        for needle in [*a.secrets(), *a_ciphertexts, a_key]:
            assert needle not in content, (name, needle[:24])
    # The other visit's ciphertext is in the file (the search above does find ciphertexts).
    assert sealed_rows(field, c.id)[0][-1] in files["vault.db"]

    # The held visit is untouched: readable, findable, its key in place.
    assert [session.read("applicant", i).data["nik"] for i in c.applicant_ids] == [
        p["nik"] for p in c.people
    ]
    assert session.find("nik", str(c.people[0]["nik"])) == [("applicant", c.applicant_ids[0])]
    assert sealed_key(field, c.id) is not None
    assert [v.id for v in visits.list_visits(OfficerSession(session))] == [c.id]

    # Audited once per visit, counts only (and once for the two batch envelopes emptied).
    purges = field.sql(
        "SELECT officer_id, subject, detail FROM audit WHERE action = 'visit_purged' ORDER BY seq"
    )
    assert field.sql("SELECT COUNT(*) FROM audit")[0][0] == audit_before + 2 + 1
    assert report.envelopes_emptied.batches == 2
    assert {s for _, s, _ in purges} == {f"visit:{a.id}", f"visit:{b.id}"}
    detail = json.loads(next(d for _, s, d in purges if s == f"visit:{a.id}"))
    assert detail["records"] == {"applicant": 4, "visit": 1} and detail["versions"] == 6
    assert detail["retention_days"] == 7 and detail["crypto_shredded"] is True
    for _, _, text in purges:
        assert not any(s.decode() in text for s in [*a.secrets(), *b.secrets()])
    assert session.vault.verify_audit().ok
    assert session.vault.integrity_check() == "ok"

    # Status, without a passphrase.
    field.close_all()
    vault = Vault.open(field.home)
    field.opened.append(vault)
    status = retention_status(vault.conn, now=acked + WEEK)
    assert status.count(HELD) == (1, 3)
    assert status.count(ACKNOWLEDGED) == (0, 0)
    assert status.count(PURGED) == (2, 5 + 4)


def test_a_visit_with_one_unacknowledged_version_is_not_purged(field: Field) -> None:
    a = field.visit(1, 3, PAST)
    acked = field.ack_everything()
    update_notes(field.session, a.applicant_ids[1], "nomor HP diperbaiki")  # not acknowledged
    report = purge(field.session, now=acked + 4 * WEEK)
    assert report.purged == ()
    assert [(v.visit_id, v.unacked_versions) for v in report.held] == [(a.id, 1)]
    # Cut into a batch but without HQ's receipt: still held.
    conn = field.session.conn
    last = conn.execute("SELECT MAX(seq) FROM outbox").fetchone()[0]
    with db.transaction(conn):
        syncstate.insert_batch(
            conn,
            syncstate.NewBatch(
                seq=syncstate.next_batch_seq(conn),
                batch_id=str(uuid.uuid4()),
                outbox=(last, last),
                audit=None,
                count=1,
                hq_kid="hq-test",
                ct_sha256="0" * 64,
                envelope=b"sealed to HQ",
                created_at=datetime.now(UTC).isoformat(),
            ),
        )
    assert purge(field.session, now=acked + 4 * WEEK).purged == ()
    assert (
        field.session.read("applicant", a.applicant_ids[1]).data["notes"] == "nomor HP diperbaiki"
    )
    status = retention_status(conn, now=acked + 4 * WEEK)
    assert status.count(HELD) == (1, 4)


def test_purge_is_idempotent_and_a_dry_run_changes_nothing(field: Field) -> None:
    a = field.visit(1, 2, PAST)
    acked = field.ack_everything()
    later = acked + WEEK + timedelta(hours=1)
    before = field.sql("SELECT * FROM record_versions ORDER BY rowid")
    audit_before = field.sql("SELECT COUNT(*) FROM audit")[0][0]
    dry = purge(field.session, now=later, dry_run=True)
    assert [p.visit_id for p in dry.purged] == [a.id] and dry.wal_truncated is None
    assert field.sql("SELECT * FROM record_versions ORDER BY rowid") == before
    assert field.sql("SELECT COUNT(*) FROM audit")[0][0] == audit_before

    first = purge(field.session, now=later)
    assert [p.visit_id for p in first.purged] == [a.id]
    after_first = (
        field.sql("SELECT * FROM record_versions ORDER BY rowid"),
        field.sql("SELECT * FROM visit_keys"),
        field.sql("SELECT * FROM records ORDER BY kind, id"),
        field.sql("SELECT COUNT(*) FROM audit"),
    )
    second = purge(field.session, now=later + WEEK)
    assert second.purged == () and second.already_purged == 1
    assert (
        field.sql("SELECT * FROM record_versions ORDER BY rowid"),
        field.sql("SELECT * FROM visit_keys"),
        field.sql("SELECT * FROM records ORDER BY kind, id"),
        field.sql("SELECT COUNT(*) FROM audit"),
    ) == after_first


def test_a_visit_whose_day_has_not_come_is_kept(field: Field) -> None:
    ahead = field.visit(1, 2, date.today() + timedelta(days=60))
    acked = field.ack_everything()
    report = purge(field.session, now=acked + WEEK)
    assert report.purged == () and report.upcoming == (ahead.id,)
    assert field.session.read("visit", ahead.id).id == ahead.id
    # Once its day has passed (and the retention too), it goes.
    report = purge(field.session, now=datetime.now(UTC) + timedelta(days=62))
    assert [p.visit_id for p in report.purged] == [ahead.id]


def test_a_session_open_during_another_processs_purge_reports_purged(field: Field) -> None:
    a = field.visit(1, 2, PAST)
    acked = field.ack_everything()
    reader = field.unlock()  # say, the field app, left open
    assert reader.read("applicant", a.applicant_ids[0]).id == a.applicant_ids[0]
    assert (a.id, 1) in reader.visit_keys
    purge(field.session, now=acked + WEEK)  # say, `fieldkit purge` in a terminal
    with pytest.raises(Purged):
        reader.read("applicant", a.applicant_ids[0])
    with pytest.raises(Purged):
        reader.history("applicant", a.applicant_ids[1])


def test_an_emptied_ciphertext_of_a_live_visit_is_an_integrity_error(field: Field) -> None:
    a = field.visit(1, 2, PAST)
    field.session.conn.execute(
        "UPDATE record_versions SET sealed = X'' WHERE id = ?", (a.applicant_ids[0],)
    )
    with pytest.raises(IntegrityError) as caught:
        field.session.read("applicant", a.applicant_ids[0])
    assert not isinstance(caught.value, Purged) and caught.value.reason == "ciphertext missing"


def test_a_visit_whose_record_fails_its_integrity_check_is_kept_and_named(field: Field) -> None:
    a = field.visit(1, 2, PAST)
    b = field.visit(2, 2, PAST, coordinator=1)
    acked = field.ack_everything()
    conn = field.session.conn
    sealed = conn.execute("SELECT sealed FROM record_versions WHERE id = ?", (a.id,)).fetchone()[0]
    damaged = sealed[:20] + bytes([sealed[20] ^ 1]) + sealed[21:]
    conn.execute("UPDATE record_versions SET sealed = ? WHERE id = ?", (damaged, a.id))
    report = purge(field.session, now=acked + WEEK)
    assert [p.visit_id for p in report.purged] == [b.id]
    assert report.blocked == ((a.id, f"visit {a.id} v1: does not authenticate"),)
    assert sealed_key(field, a.id) is not None
    assert field.session.read("applicant", a.applicant_ids[0]).id == a.applicant_ids[0]


def test_nothing_can_be_written_into_a_purged_visit(field: Field) -> None:
    a = field.visit(1, 2, PAST)
    acked = field.ack_everything()
    purge(field.session, now=acked + WEEK)
    more = new_people(1, 77)
    with pytest.raises(Purged):
        applicants.add_applicants(OfficerSession(field.session), a.id, more)
    with pytest.raises(Purged):
        field.session.write(
            [Change("applicant", "new-one", more[0], "captured", a.id)], action="applicant_created"
        )
    # Another session that still holds the visit key in memory is refused too: the key row is
    # read inside the writing transaction.
    stale = field.unlock()
    stale.visit_keys[(a.id, 1)] = b"\x00" * 32
    with pytest.raises(Purged):
        stale.write(
            [Change("applicant", "new-two", more[0], "captured", a.id)], action="applicant_created"
        )
    assert field.sql("SELECT COUNT(*) FROM records WHERE visit_id = ?", (a.id,))[0][0] == 3


def test_crypto_shredding_a_copy_from_before_the_purge_against_the_vault_after_it(
    field: Field, tmp_path: Path
) -> None:
    a = field.visit(1, 3, PAST)
    b = field.visit(2, 2, PAST, coordinator=1)
    acked = field.ack_everything()
    session = field.session
    session.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    copy = tmp_path / "copy-before-purge.db"
    shutil.copyfile(field.db, copy)
    # Only a is purged: b has a correction HQ has not acknowledged yet.
    update_notes(session, b.applicant_ids[0], "dikoreksi")
    assert [p.visit_id for p in purge(session, now=acked + WEEK).purged] == [a.id]

    old = sqlite3.connect(copy)
    try:
        old_rows = old.execute(
            "SELECT kind, id, version, visit_id, state, officer_id, at, sealed "
            "FROM record_versions WHERE visit_id = ?",
            (a.id,),
        ).fetchall()
        old_sealed_key = old.execute(
            "SELECT sealed_key FROM visit_keys WHERE visit_id = ?", (a.id,)
        ).fetchone()[0]
    finally:
        old.close()
    assert len(old_rows) == 4 and old_sealed_key is not None

    # Every key the vault holds now, after the purge: the data key's records key and every live
    # visit key. None of them opens the copied ciphertexts of the purged visit.
    vault_id = session.vault.vault_id
    live_keys = [derive_key(session.deks[1], "records")]
    for visit_id, generation, sealed in field.sql(
        "SELECT visit_id, dek_generation, sealed_key FROM visit_keys WHERE sealed_key IS NOT NULL"
    ):
        raw = open_visit_key(session.deks[generation], vault_id, visit_id, generation, sealed)
        live_keys.append(derive_key(raw, "records"))
    assert len(live_keys) == 2  # the data key's records key and b's key
    for kind, rid, version, *clear, sealed in old_rows:
        for key in live_keys:
            with pytest.raises(AuthenticationFailed):
                open_sealed(key, sealed, record_aad(kind, rid, version, *clear))
    assert sealed_key(field, a.id) is None

    # The limit, said plainly (docs/threat-model.md): the copy still holds a's sealed key, and
    # the data key of that time (what the passphrase opens) unseals it. A copy taken before a
    # purge is not shredded by it.
    from_copy = derive_key(
        open_visit_key(session.deks[1], vault_id, a.id, 1, old_sealed_key), "records"
    )
    kind, rid, version, *clear, sealed = old_rows[0]
    assert json.loads(open_sealed(from_copy, sealed, record_aad(kind, rid, version, *clear)))


# -- key rotation with visit keys ----------------------------------------------------------------


def test_removing_an_officer_gives_every_live_visit_a_new_key(field: Field) -> None:
    a = field.visit(1, 2, PAST)
    b = field.visit(2, 3, PAST, coordinator=1)
    session = field.session
    officers.add_officer(
        session, OFF2, OFF2_NAME, "officer", OFF2_PW, params=kdf.INSECURE_TEST_PARAMS
    )
    acked = field.ack_everything()
    assert len(purge(session, now=acked + WEEK).purged) == 2  # a and b
    c = field.visit(3, 2, PAST)  # live
    old_dek = session.deks[1]
    old_c_key = derive_key(
        open_visit_key(old_dek, session.vault.vault_id, c.id, 1, sealed_key(field, c.id)),
        "records",
    )
    rotation.start_rotation(session, removed=OFF2)  # the power goes out here
    assert field.sql("SELECT visit_id, dek_generation FROM visit_keys_previous") == [(c.id, 1)]
    assert field.sql("SELECT dek_generation FROM visit_keys WHERE visit_id = ?", (c.id,)) == [(2,)]
    field.close_all()

    finisher = field.unlock()
    assert field.sql("SELECT COUNT(*) FROM visit_keys_previous") == [(0,)]
    assert [finisher.read("applicant", i).data["nik"] for i in c.applicant_ids] == [
        p["nik"] for p in c.people
    ]
    # The removed officer's copies of the old data key and the old visit key open nothing.
    for kind, rid, version, *clear, generation, sealed in sealed_rows(field, c.id):
        assert generation == 2
        aad = record_aad(kind, rid, version, *clear)
        for key in (old_c_key, derive_key(old_dek, "records")):
            with pytest.raises(AuthenticationFailed):
                open_sealed(key, sealed, aad)
    # The purged visits stay purged, with no key.
    for visit in (a, b):
        assert sealed_key(field, visit.id) is None
        with pytest.raises(Purged):
            finisher.read("visit", visit.id)
    assert finisher.vault.verify_audit().ok


# -- vaults written before migration 0003 --------------------------------------------------------


def _legacy(field: Field, visit: Visit) -> None:
    """Rewrite a visit the way a vault before visit keys held it: under the data key."""
    session = field.session
    records_key = derive_key(session.deks[1], "records")
    with db.transaction(session.conn):
        for kind, rid, version, *clear, generation, sealed in sealed_rows(field, visit.id):
            aad = record_aad(kind, rid, version, *clear)
            plain = open_sealed(session.records_key_for(visit.id, generation), sealed, aad)
            session.conn.execute(
                "UPDATE record_versions SET sealed = ? WHERE kind = ? AND id = ? AND version = ?",
                (seal(records_key, plain, aad), kind, rid, version),
            )
        session.conn.execute("DELETE FROM visit_keys WHERE visit_id = ?", (visit.id,))
    session.forget_visit(visit.id)


def test_visits_written_before_visit_keys_get_one_at_the_next_unlock(field: Field) -> None:
    a = field.visit(1, 3, PAST)
    _legacy(field, a)
    assert field.session.read("applicant", a.applicant_ids[0]).data["nik"] == a.people[0]["nik"]
    # A write to it before the next unlock stays under the data key: no mixed visit.
    update_notes(field.session, a.applicant_ids[2], "sebelum kunci kunjungan")
    assert field.sql("SELECT COUNT(*) FROM visit_keys") == [(0,)]
    field.close_all()

    session = field.unlock()
    assert sealed_key(field, a.id) is not None
    records_key = derive_key(session.deks[1], "records")
    for kind, rid, version, *clear, _, sealed in sealed_rows(field, a.id):
        with pytest.raises(AuthenticationFailed):
            open_sealed(records_key, sealed, record_aad(kind, rid, version, *clear))
    assert [session.read("applicant", i).data["nik"] for i in a.applicant_ids] == [
        p["nik"] for p in a.people
    ]
    assert session.history("applicant", a.applicant_ids[2])[-1].data["notes"] == (
        "sebelum kunci kunjungan"
    )
    adopted = field.sql("SELECT subject, detail FROM audit WHERE action = 'visit_key_adopted'")
    assert adopted == [
        (f"visit:{a.id}", json.dumps({"generation": 1, "versions": 5}, separators=(",", ":")))
    ]
    assert session.vault.verify_audit().ok


def test_a_legacy_visit_that_was_never_given_a_key_is_purged_by_deleting_its_ciphertexts(
    field: Field,
) -> None:
    a = field.visit(1, 2, PAST)
    _legacy(field, a)
    acked = field.ack_everything()
    report = purge(field.session, now=acked + WEEK)
    assert [(p.visit_id, p.crypto_shredded) for p in report.purged] == [(a.id, False)]
    assert all(row[-1] == b"" for row in sealed_rows(field, a.id))
    with pytest.raises(Purged):
        field.session.read("applicant", a.applicant_ids[0])
    assert field.sql(
        "SELECT sealed_key IS NULL, shredded_at IS NOT NULL FROM visit_keys WHERE visit_id = ?",
        (a.id,),
    ) == [(1, 1)]


# -- configuration and the command line ----------------------------------------------------------


@pytest.fixture
def cli() -> click.Group:
    """The commands under fieldkit's error-reporting group (main.py registers them)."""
    group = FieldkitGroup(name="fieldkit")
    group.add_command(purge_command)
    group.add_command(status_command)
    group.add_command(audit_command)
    group.add_command(sync_command)
    return group


def test_purge_and_status_on_the_command_line(field: Field, cli: click.Group) -> None:
    a = field.visit(1, 3, PAST)
    field.ack_everything()
    b = field.visit(2, 2, PAST, coordinator=1)
    field.close_all()
    env = cli_env(field.home, FIELDKIT_LANG="en")
    runner = CliRunner()

    status = runner.invoke(cli, ["status", "--json"], env={**env, "FIELDKIT_PASSPHRASE": ""})
    assert status.exit_code == 0, status.output
    retention = json.loads(status.stdout)["retention"]
    assert retention["retention_days"] == 7
    assert retention["held"] == {"visits": 1, "records": 3}
    assert retention["acknowledged"] == {"visits": 1, "records": 4}
    assert retention["purged"] == {"visits": 0, "records": 0}
    assert retention["due"] == {"visits": 0, "records": 0} and retention["next_due_at"]

    waiting = runner.invoke(cli, ["purge", "--json"], env=env)
    assert waiting.exit_code == 0, waiting.output
    assert json.loads(waiting.stdout)["purged"] == []

    dry = runner.invoke(cli, ["purge", "--retention-days", "0", "--dry-run", "--json"], env=env)
    assert dry.exit_code == 0, dry.output
    assert [p["visit_id"] for p in json.loads(dry.stdout)["purged"]] == [a.id]
    assert field.sql("SELECT COUNT(*) FROM visit_keys WHERE shredded_at IS NOT NULL") == [(0,)]

    done = runner.invoke(cli, ["purge"], env={**env, "FIELDKIT_RETENTION_DAYS": "0"})
    assert done.exit_code == 0, done.output
    assert f"Purged: visit {a.id}" in done.output
    assert "1 visits purged" in done.output

    status = runner.invoke(cli, ["status"], env={**env, "FIELDKIT_PASSPHRASE": ""})
    assert status.exit_code == 0, status.output
    assert "Held, not yet acknowledged by HQ: 1 visits, 3 records" in status.output
    assert "Purged (crypto-shredded): 1 visits, 4 records" in status.output
    counts = json.loads(runner.invoke(cli, ["status", "--json"], env=env).stdout)
    states = {(c["visit_id"], c["kind"], c["state"]): c["count"] for c in counts["counts"]}
    assert states[(a.id, "applicant", "purged")] == 3
    assert states[(b.id, "applicant", "captured")] == 2

    bad = runner.invoke(cli, ["purge", "--retention-days", "-1"], env=env)
    assert bad.exit_code == 2
    indonesian = runner.invoke(cli, ["status"], env={**env, "FIELDKIT_LANG": "id"})
    assert "Sudah dihapus (crypto-shredded): 1 kunjungan, 4 data" in indonesian.output


# -- the sealed batches the laptop cut for HQ -----------------------------------------------------


def sync_with(hq: FakeHq, session: UnlockedVault) -> None:
    """One ``sync(once=True)`` of ``session`` to ``hq``, which must succeed."""
    report = SyncClient(hq.url, session).sync(once=True)
    assert report.exit_code == 0, report


def ciphertext_slices(sealed: bytes) -> list[bytes]:
    """Three 32-byte slices of an envelope's HPKE ciphertext (start, middle, end)."""
    ciphertext = envelope.parse_envelope(sealed).ciphertext
    middle = len(ciphertext) // 2
    return [ciphertext[:32], ciphertext[middle : middle + 32], ciphertext[-32:]]


def batch_rows_without_envelope(field: Field) -> list[tuple]:
    return field.sql(
        "SELECT seq, batch_id, outbox_first, outbox_last, audit_first, audit_last, item_count, "
        "hq_kid, ct_sha256, created_at, receipt, acked_at, attempts, last_error "
        "FROM sync_batches ORDER BY seq"
    )


def envelopes(field: Field) -> dict[int, bytes]:
    return dict(field.sql("SELECT seq, envelope FROM sync_batches"))


def test_purge_empties_the_envelopes_hq_acknowledged_and_they_leave_the_vault_files(
    field: Field, cli: click.Group, tmp_path: Path, fake_hq: FakeHq
) -> None:
    session, conn = field.session, field.session.conn
    hq = fake_hq
    pinned = SyncClient(hq.url, session).enroll(hq.enroll_code())
    a = field.visit(1, 3, PAST)
    sync_with(hq, session)
    acked_batches = [b for b in syncstate.batches(conn) if b.acked]
    acked_seqs = [b.seq for b in acked_batches]
    assert acked_seqs and len(acked_seqs) == len(syncstate.batches(conn))
    acked = max(datetime.fromisoformat(b.acked_at or "") for b in acked_batches)
    sealed_a = {seq: syncstate.envelope(conn, seq) for seq in acked_seqs}
    # What is at stake: with HQ's private key, the envelope the laptop keeps opens to a's
    # personal data.
    opened = [
        item
        for sealed in sealed_a.values()
        for item in envelope.open_batch(envelope.parse_envelope(sealed), hq.private)
    ]
    niks = {item["data"].get("nik") for item in opened if item["t"] == "r"}  # type: ignore[union-attr]
    assert {p["nik"] for p in a.people} <= niks

    # A later visit, cut into a batch HQ has not acknowledged yet (HQ out of reach).
    field.visit(2, 2, PAST, coordinator=1)
    unacked = cut_batch(session, pinned)
    assert unacked is not None and not unacked.acked
    sealed_b = syncstate.envelope(conn, unacked.seq)

    slices_a = [s for sealed in sealed_a.values() for s in ciphertext_slices(sealed)]
    slices_b = ciphertext_slices(sealed_b)
    everything = b"".join(field.files().values())
    for needle in [*slices_a, *slices_b]:
        assert needle in everything, "the envelope is in the vault's files (db or WAL)"
    record = batch_rows_without_envelope(field)

    # One second before the retention period is over: kept.
    early = purge(session, now=acked + WEEK - timedelta(seconds=1))
    assert early.envelopes_emptied == EmptiedEnvelopes()
    assert early.envelopes_waiting == len(acked_seqs) and early.envelopes.unacked == 1
    assert envelopes(field) == {**sealed_a, unacked.seq: sealed_b}

    report = purge(session, now=acked + WEEK)
    emptied = report.envelopes_emptied
    assert (emptied.batches, emptied.seq_first, emptied.seq_last) == (
        len(acked_seqs),
        acked_seqs[0],
        acked_seqs[-1],
    )
    assert emptied.bytes == sum(len(e) for e in sealed_a.values())
    assert report.envelopes_waiting == 0 and report.wal_truncated is True
    # Only the envelopes changed: the delivery record (seq, batch id, ciphertext hash, receipt,
    # acknowledgement, counts) stays; the unacknowledged batch is untouched.
    assert batch_rows_without_envelope(field) == record
    assert envelopes(field) == {**dict.fromkeys(acked_seqs, b""), unacked.seq: sealed_b}
    with pytest.raises(EnvelopeEmptied) as refused:
        syncstate.envelope(conn, acked_seqs[0])
    assert "not sent again" in refused.value.message.en

    # Gone from every file of the vault (secure_delete zeroed the freed pages, the WAL was
    # truncated); the unacknowledged envelope is still there, so the search does find them.
    files = field.files()
    assert files.get("vault.db-wal", b"") == b""
    for name, content in files.items():
        for needle in slices_a:
            assert needle not in content, (name, needle.hex())
    assert all(needle in files["vault.db"] for needle in slices_b)

    # Audited once, with the count and the seq range; the chain still verifies.
    entries = field.sql(
        "SELECT officer_id, subject, detail FROM audit WHERE action = ?",
        (ENVELOPES_EMPTIED_ACTION,),
    )
    assert [(o, s) for o, s, _ in entries] == [(SUP, f"device:{session.vault.device_id}")]
    assert json.loads(entries[0][2]) == {
        "batches": len(acked_seqs),
        "seq_first": acked_seqs[0],
        "seq_last": acked_seqs[-1],
        "bytes": emptied.bytes,
        "retention_days": 7,
    }
    assert session.vault.verify_audit().ok
    assert session.vault.integrity_check() == "ok"

    # However long it waits, an unacknowledged batch is never emptied.
    much_later = purge(session, now=acked + 100 * WEEK)
    assert much_later.envelopes_emptied.batches == 0 and much_later.envelopes.unacked == 1
    assert syncstate.envelope(conn, unacked.seq) == sealed_b

    # Nothing that reads envelopes later is handed an emptied one: the USB export writes the
    # unacknowledged batches only (and cuts one for the audit entries first) ...
    usb = tmp_path / "usb"
    env = cli_env(field.home, FIELDKIT_LANG="en")
    export = CliRunner().invoke(cli, ["sync", "export", str(usb), "--json"], env=env)
    assert export.exit_code == 0, export.output
    written = {int(p.name.split("-")[0]): p.read_bytes() for p in usb.iterdir()}
    assert unacked.seq in written and not set(written) & set(acked_seqs)
    assert all(data and data == syncstate.envelope(conn, seq) for seq, data in written.items())
    # ... and a sync sends exactly what HQ lacks, never an acknowledged (emptied) batch.
    sync_with(hq, session)
    sent = [envelope.parse_envelope(data).header.seq for data in hq.posted]
    assert sent[: len(acked_seqs)] == acked_seqs, "the first sync"
    assert sorted(sent[len(acked_seqs) :]) == sorted(written)
    assert syncstate.summary(conn).unacked == 0

    # No trickle: the entry a purge writes for emptied envelopes never starts a batch by
    # itself (else that batch, emptied by the next purge, would start another, for ever).
    later = datetime.now(UTC) + 2 * WEEK
    gone = purge(session, now=later)  # visit b goes: its visit_purged entry is news for HQ
    assert len(gone.purged) == 1
    assert sync_batches.waiting(session).due()
    sync_with(hq, session)
    last = purge(session, now=later + 2 * WEEK)
    assert last.envelopes_emptied.batches >= 1
    assert not sync_batches.waiting(session).due()
    posted = len(hq.posted)
    sync_with(hq, session)
    assert len(hq.posted) == posted, "nothing to send"
    assert syncstate.summary(conn).unacked == 0


def test_emptying_envelopes_is_idempotent_and_a_dry_run_writes_nothing(field: Field) -> None:
    field.visit(1, 2, PAST)
    first_ack = field.ack_everything(os.urandom(3000))
    field.visit(2, 2, PAST, coordinator=1)
    acked = field.ack_everything(os.urandom(5000))
    assert acked > first_ack

    def snapshot() -> tuple[list[tuple], ...]:
        return (
            field.sql("SELECT * FROM sync_batches ORDER BY seq"),
            field.sql("SELECT * FROM audit ORDER BY seq"),
            field.sql("SELECT * FROM visit_keys ORDER BY visit_id"),
            field.sql("SELECT * FROM record_versions ORDER BY rowid"),
        )

    before = snapshot()
    dry = purge(field.session, now=acked + WEEK, dry_run=True)
    assert dry.envelopes_emptied == EmptiedEnvelopes(2, 1, 2, 8000)
    assert dry.wal_truncated is None
    assert dry.as_json()["envelopes"] == {
        "emptied": {"batches": 2, "seq_first": 1, "seq_last": 2, "bytes": 8000},
        "waiting": 0,
        "unacked": 0,
        "already_emptied": 0,
    }
    assert snapshot() == before

    # The first batch's retention is over, the second's not yet.
    part = purge(field.session, now=first_ack + WEEK)
    assert part.envelopes_emptied == EmptiedEnvelopes(1, 1, 1, 3000)
    assert part.envelopes_waiting == 1
    assert [len(e) for e in envelopes(field).values()] == [0, 5000]

    rest = purge(field.session, now=acked + WEEK)
    assert rest.envelopes_emptied == EmptiedEnvelopes(1, 2, 2, 5000)
    assert rest.envelopes.emptied == 1
    after = snapshot()
    again = purge(field.session, now=acked + 2 * WEEK)
    assert again.envelopes_emptied == EmptiedEnvelopes()
    assert (again.envelopes.held, again.envelopes.emptied) == (0, 2)
    assert snapshot() == after
    assert len(field.sql("SELECT 1 FROM audit WHERE action = ?", (ENVELOPES_EMPTIED_ACTION,))) == 2
    assert field.session.vault.verify_audit().ok


def test_acknowledgement_times_are_compared_as_times_not_as_text(field: Field) -> None:
    # Two batches whose acknowledgement times are written with different UTC offsets: as text,
    # "2026-01-10T06:30…+07:00" sorts after "2026-01-09T23:45…+00:00", as times it is earlier.
    field.visit(1, 1, PAST)
    field.ack_everything(os.urandom(100))
    field.visit(2, 1, PAST, coordinator=1)
    field.ack_everything(os.urandom(100))
    conn = field.session.conn
    conn.execute("UPDATE sync_batches SET acked_at = '2026-01-10T06:30:00+07:00' WHERE seq = 1")
    conn.execute("UPDATE sync_batches SET acked_at = '2026-01-09T23:45:00.000000Z' WHERE seq = 2")
    reseal_settings(field.session)  # as if HQ's receipts had come at those times
    now = datetime(2026, 1, 16, 23, 40, tzinfo=UTC)  # 7 days after 23:30 UTC, before 23:45
    status = retention_status(conn, now=now)
    assert (status.envelopes.held, status.envelopes.due) == (2, 1)
    assert status.envelopes.next_due_at == "2026-01-16T23:45:00.000000+00:00"
    report = purge(field.session, now=now)
    assert report.envelopes_emptied == EmptiedEnvelopes(1, 1, 1, 100)
    assert [len(e) for _, e in sorted(envelopes(field).items())] == [0, 100]


def test_emptied_envelopes_on_the_command_line(field: Field, cli: click.Group) -> None:
    field.visit(1, 2, PAST)
    field.ack_everything(os.urandom(2000))
    field.visit(2, 1, PAST, coordinator=1)
    field.ack_everything(os.urandom(1000))
    conn = field.session.conn
    with db.transaction(conn):  # a third batch, cut but not acknowledged
        syncstate.insert_batch(
            conn,
            syncstate.NewBatch(
                seq=3,
                batch_id=str(uuid.uuid4()),
                outbox=None,
                audit=(1, 2),
                count=2,
                hq_kid="hq-test",
                ct_sha256="0" * 64,
                envelope=os.urandom(700),
                created_at=datetime.now(UTC).isoformat(),
            ),
        )
    field.close_all()
    env = cli_env(field.home, FIELDKIT_LANG="en")
    runner = CliRunner()
    no_passphrase = {**env, "FIELDKIT_PASSPHRASE": ""}

    status = runner.invoke(cli, ["status", "--json"], env=no_passphrase)
    assert status.exit_code == 0, status.output
    held = json.loads(status.stdout)["retention"]["envelopes"]
    assert held["held"] == 2 and held["held_bytes"] == 3000 and held["due"] == 0
    assert (held["emptied"], held["unacked"]) == (0, 1) and held["next_due_at"]
    status = runner.invoke(cli, ["status"], env=no_passphrase)
    assert (
        "Sealed batches for HQ: 2 acknowledged still held (0 past retention), 0 emptied; "
        "1 not yet acknowledged" in status.output
    )

    waiting = runner.invoke(cli, ["purge"], env=env)
    assert waiting.exit_code == 0, waiting.output
    assert "Emptied:" not in waiting.output
    assert (
        "Sealed batches for HQ: 0 emptied; 2 waiting out the 7-day retention; 1 not yet "
        "acknowledged by HQ (kept, to be sent); 0 emptied before." in waiting.output
    )

    dry = runner.invoke(cli, ["purge", "--retention-days", "0", "--dry-run"], env=env)
    assert dry.exit_code == 0, dry.output
    assert "Would empty: 2 sealed batches HQ acknowledged (seq 1-2, 3000 bytes)" in dry.output
    assert "Sealed batches for HQ: 2 would be emptied; 0 waiting" in dry.output
    dry = runner.invoke(
        cli, ["purge", "--retention-days", "0", "--dry-run"], env={**env, "FIELDKIT_LANG": "id"}
    )
    assert (
        "Akan dikosongkan: 2 batch tersegel yang sudah diterima HQ (seq 1-2, 3000 byte)"
        in dry.output
    )
    assert [len(e) for _, e in sorted(envelopes(field).items())] == [2000, 1000, 700]

    done = runner.invoke(cli, ["purge", "--json"], env={**env, "FIELDKIT_RETENTION_DAYS": "0"})
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["envelopes"] == {
        "emptied": {"batches": 2, "seq_first": 1, "seq_last": 2, "bytes": 3000},
        "waiting": 0,
        "unacked": 1,
        "already_emptied": 0,
    }
    assert [len(e) for _, e in sorted(envelopes(field).items())] == [0, 0, 700]

    again = runner.invoke(cli, ["purge", "--retention-days", "0"], env=env)
    assert "Emptied:" not in again.output
    assert "1 not yet acknowledged by HQ (kept, to be sent); 2 emptied before." in again.output

    # One more acknowledged batch, emptied in a human-readable run, in both languages.
    field.session = field.unlock()
    field.visit(3, 1, PAST)
    field.ack_everything(os.urandom(400))
    field.close_all()
    done = runner.invoke(cli, ["purge", "--retention-days", "0"], env=env)
    assert done.exit_code == 0, done.output
    assert "Emptied: 1 sealed batches HQ acknowledged (seq 4, 400 bytes)" in done.output
    assert "Sealed batches for HQ: 1 emptied; 0 waiting" in done.output
    field.session = field.unlock()
    field.visit(4, 1, PAST)
    field.ack_everything(os.urandom(300))
    field.close_all()
    done = runner.invoke(
        cli, ["purge", "--retention-days", "0"], env={**env, "FIELDKIT_LANG": "id"}
    )
    assert done.exit_code == 0, done.output
    assert "Dikosongkan: 1 batch tersegel yang sudah diterima HQ (seq 5, 300 byte)" in (done.output)
    assert [len(e) for _, e in sorted(envelopes(field).items())] == [0, 0, 700, 0, 0]
    indonesian = runner.invoke(
        cli, ["purge", "--retention-days", "0"], env={**env, "FIELDKIT_LANG": "id"}
    )
    assert (
        "Batch tersegel untuk HQ: 0 dikosongkan; 0 menunggu masa simpan 0 hari; 1 belum "
        "diterima HQ (tetap disimpan untuk dikirim); 4 sudah dikosongkan sebelumnya."
        in indonesian.output
    )
    status = runner.invoke(cli, ["status"], env={**no_passphrase, "FIELDKIT_LANG": "id"})
    assert (
        "Batch tersegel untuk HQ: 0 sudah diterima HQ masih disimpan (0 sudah lewat masa "
        "simpan), 4 sudah dikosongkan; 1 belum diterima HQ" in status.output
    )

    verify = runner.invoke(cli, ["audit", "verify", "--json"], env=no_passphrase)
    assert verify.exit_code == 0, verify.output
    assert json.loads(verify.stdout)["ok"] is True
    assert field.sql(
        "SELECT COUNT(*) FROM audit WHERE action = ?", (ENVELOPES_EMPTIED_ACTION,)
    ) == [(3,)]


def test_a_batch_acknowledged_and_emptied_by_another_process_mid_sync_is_skipped(
    field: Field, fake_hq: FakeHq
) -> None:
    session = field.session
    hq = fake_hq
    pinned = SyncClient(hq.url, session).enroll(hq.enroll_code())
    field.visit(1, 2, PAST)
    listed = cut_batch(session, pinned)  # what a running sync has listed to send
    assert listed is not None and not listed.acked
    # Meanwhile another process applies HQ's receipt (USB) and purges with no retention.
    assert syncstate.acknowledge(session, listed.seq, {"batch_id": listed.batch_id})
    emptied = purge(session, now=datetime.now(UTC) + WEEK, retention=timedelta(0))
    assert emptied.envelopes_emptied.batches == 1
    client = SyncClient(hq.url, session)
    report = SyncReport()
    sent = client._send_one(listed, pinned, RetryPolicy(), report)
    assert sent is False and report.refused == [] and hq.posted == []
