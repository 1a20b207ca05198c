"""The vault against a thief, a tamperer and a crash: real SQLite files, real cryptography.

Every attack edits the SQLite file with the ``sqlite3`` module directly while the vault is
closed (the laptop is off), then reopens it with :meth:`Vault.open` and unlocks it, the way
fieldkit would the next morning. Only synthetic people are used.

Cheap Argon2id parameters (``FIELDKIT_INSECURE_TEST_KDF=1``) everywhere except the one test
that checks calibration itself.
"""

from __future__ import annotations

import itertools
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest

from fieldkit import kdf
from fieldkit.service import applicants
from fieldkit.service.session import OfficerSession
from fieldkit.vault import audit, keyring, officers, outbox, records, rotation
from fieldkit.vault.crypto import (
    AuthenticationFailed,
    blind_index,
    canonical,
    derive_key,
    open_sealed,
)
from fieldkit.vault.errors import (
    IntegrityError,
    InvalidInput,
    NotAllowed,
    UnknownOfficer,
    UnlockThrottled,
    VaultLocked,
    VaultTooNew,
    WeakPassphrase,
    WrongPassphrase,
)
from fieldkit.vault.records import Change, VersionConflict, record_aad
from fieldkit.vault.session import UnlockedVault
from fieldkit.vault.vault import FREE_FAILURES, MAX_DELAY, Vault, throttle_delay
from tests.support.vault import (
    OFF2,
    OFF2_NAME,
    OFF2_PW,
    OFF3,
    OFF3_NAME,
    OFF3_PW,
    SUP,
    SUP_NAME,
    SUP_PW,
    WRONG_PW,
    VaultHome,
    add_applicants,
    applicant_history,
    plan_visit,
    show_applicant,
)
from tests.support.vault import people as synthetic_people

SEED = 20261201


# -- the laboratory: one vault home, helpers to open, tamper and inspect it --------------------


class Lab(VaultHome):
    """One vault home on disk, and every Vault opened on it (closed at teardown)."""

    def edit(self, change: Callable[[sqlite3.Connection], None]) -> None:
        """Tamper with the closed file directly, as someone holding the laptop's disk could."""
        self.close_all()
        conn = sqlite3.connect(self.db)
        try:
            with conn:
                change(conn)
        finally:
            conn.close()

    def audit_rows(self) -> list[tuple[int, str | None, str, str | None, dict[str, object]]]:
        rows = self.sql("SELECT seq, officer_id, action, subject, detail FROM audit ORDER BY seq")
        return [(s, o, a, subj, json.loads(d)) for s, o, a, subj, d in rows]  # type: ignore[arg-type]

    def count(self, table: str) -> int:
        return int(self.sql(f"SELECT COUNT(*) FROM {table}")[0][0])  # type: ignore[call-overload]


pytestmark = pytest.mark.usefixtures("cheap_kdf")


@pytest.fixture
def lab(tmp_path: Path) -> Iterator[Lab]:
    laboratory = Lab(tmp_path / "home")
    yield laboratory
    laboratory.close_all()


@pytest.fixture
def spy(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    """Count data keys unwrapped from slots and record versions decrypted."""
    seen = {"dek_unwrapped": 0, "records_decrypted": 0}
    real_suite = keyring.SLOT_SUITE
    real_decrypt = records._decrypt

    class SuiteSpy:
        def encrypt(self, *args: object, **kwargs: object) -> bytes:
            return real_suite.encrypt(*args, **kwargs)  # type: ignore[arg-type]

        def decrypt(self, *args: object, **kwargs: object) -> bytes:
            dek = real_suite.decrypt(*args, **kwargs)  # type: ignore[arg-type]
            seen["dek_unwrapped"] += 1
            return dek

    def decrypt_spy(*args: object, **kwargs: object) -> records.Record:
        record = real_decrypt(*args, **kwargs)  # type: ignore[arg-type]
        seen["records_decrypted"] += 1
        return record

    monkeypatch.setattr(keyring, "SLOT_SUITE", SuiteSpy())
    monkeypatch.setattr(records, "_decrypt", decrypt_spy)
    return seen


def people(count: int, seed: int = SEED) -> list[dict[str, object]]:
    return synthetic_people(count, seed)


def vault_with_applicants(lab: Lab, count: int = 3) -> tuple[UnlockedVault, str, list[str]]:
    session = lab.create()
    visit_id = plan_visit(session)
    ids = add_applicants(session, visit_id, people(count))
    return session, visit_id, ids


def update_applicant(session: UnlockedVault, applicant_id: str, notes: str) -> int:
    current = session.read("applicant", applicant_id)
    data = {**current.data, "notes": notes}
    written = session.write(
        [
            Change(
                "applicant",
                applicant_id,
                data,
                "checked_in",
                current.visit_id,
                expected_version=current.version,
            )
        ],
        action="applicant_updated",
    )
    return written[0][2]


def flip_byte(blob: bytes, at: int) -> bytes:
    tampered = bytearray(blob)
    tampered[at] ^= 0x01
    return bytes(tampered)


def sealed_of(conn: sqlite3.Connection, record_id: str, version: int = 1) -> bytes:
    return conn.execute(
        "SELECT sealed FROM record_versions WHERE kind = 'applicant' AND id = ? AND version = ?",
        (record_id, version),
    ).fetchone()[0]


def set_sealed(conn: sqlite3.Connection, record_id: str, version: int, sealed: bytes) -> None:
    conn.execute(
        "UPDATE record_versions SET sealed = ? WHERE kind = 'applicant' AND id = ? AND version = ?",
        (sealed, record_id, version),
    )


def both_languages(error: Exception) -> tuple[str, str]:
    message = error.message  # type: ignore[attr-defined]
    assert message.id.strip(), "the Indonesian message is empty"
    assert message.en.strip(), "the English message is empty"
    assert message.id != message.en
    return message.id, message.en


# -- 1. wrong passphrase, throttling, unknown officer ------------------------------------------


def test_throttle_delay_is_free_for_five_failures_then_doubles_up_to_a_cap():
    assert [throttle_delay(n) for n in range(FREE_FAILURES)] == [timedelta(0)] * FREE_FAILURES
    assert throttle_delay(5) == timedelta(seconds=1)
    assert throttle_delay(6) == timedelta(seconds=2)
    assert throttle_delay(7) == timedelta(seconds=4)
    delays = [throttle_delay(n) for n in range(5, 16)]
    assert all(a < b for a, b in itertools.pairwise(delays))
    assert throttle_delay(40) == MAX_DELAY == timedelta(minutes=15)


def test_wrong_passphrase_decrypts_nothing_is_counted_and_audited(
    lab: Lab, spy: dict[str, int]
) -> None:
    vault_with_applicants(lab, 1)
    spy.update(dek_unwrapped=0, records_decrypted=0)
    vault = lab.open()
    audit_before = lab.count("audit")

    with pytest.raises(WrongPassphrase) as caught:
        vault.unlock(SUP, WRONG_PW, allow_test_kdf=True)

    indonesian, english = both_languages(caught.value)
    assert SUP in indonesian and SUP in english
    assert "Nothing was decrypted" in english
    assert spy == {"dek_unwrapped": 0, "records_decrypted": 0}
    assert lab.sql("SELECT officer_id, failures, locked_until FROM unlock_failures") == [
        (SUP, 1, None)
    ]
    new_entries = lab.audit_rows()[audit_before:]
    assert [(o, a, d) for _, o, a, _, d in new_entries] == [
        (SUP, "unlock_failed", {"failures": 1, "delay_seconds": 0.0})
    ]
    assert vault.verify_audit().ok


def _past(lab: Lab) -> None:
    """Simulate waiting out the throttle: move locked_until into the past."""
    past = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    lab.edit(lambda c: c.execute("UPDATE unlock_failures SET locked_until = ?", (past,)))


def _failure_row(lab: Lab) -> tuple[int, datetime, datetime | None]:
    [(failures, last, until)] = lab.sql(
        "SELECT failures, last_failure_at, locked_until FROM unlock_failures WHERE officer_id = ?",
        (SUP,),
    )
    return (
        int(failures),  # type: ignore[call-overload]
        datetime.fromisoformat(str(last)),
        datetime.fromisoformat(str(until)) if until else None,
    )


def test_five_failures_throttle_the_next_attempts_with_growing_delays_until_a_good_unlock(
    lab: Lab,
) -> None:
    vault_with_applicants(lab, 1)
    vault = lab.open()
    for attempt in range(1, FREE_FAILURES + 1):
        with pytest.raises(WrongPassphrase):
            vault.unlock(SUP, WRONG_PW, allow_test_kdf=True)
        failures, _, until = _failure_row(lab)
        assert failures == attempt
        assert (until is None) == (attempt < FREE_FAILURES)

    failures, last, first_until = _failure_row(lab)
    assert first_until is not None and first_until - last == timedelta(seconds=1)

    # Throttled: even the right passphrase is refused, without being tried or counted.
    with pytest.raises(UnlockThrottled) as caught:
        vault.unlock(SUP, SUP_PW, allow_test_kdf=True)
    assert 0 < caught.value.wait_seconds <= 1
    both_languages(caught.value)
    assert _failure_row(lab)[0] == FREE_FAILURES
    assert lab.audit_rows()[-1][2] == "unlock_refused"

    previous_until = first_until
    for failures_now, delay in ((6, 2), (7, 4)):
        _past(lab)
        vault = lab.open()
        with pytest.raises(WrongPassphrase):
            vault.unlock(SUP, WRONG_PW, allow_test_kdf=True)
        failures, last, until = _failure_row(lab)
        assert failures == failures_now
        assert until is not None and until - last == timedelta(seconds=delay)
        assert until > previous_until, "the persisted locked_until must move later"
        previous_until = until
        with pytest.raises(UnlockThrottled) as caught:
            vault.unlock(SUP, SUP_PW, allow_test_kdf=True)
        assert delay / 2 < caught.value.wait_seconds <= delay

    _past(lab)
    session = lab.unlock(SUP, SUP_PW, allow_test_kdf=True)
    assert session.role == "supervisor"
    assert lab.sql("SELECT * FROM unlock_failures") == []
    assert lab.audit_rows()[-1][1:3] == (SUP, "unlock")

    # The counter starts again from zero: one failure is one failure, not throttled.
    with pytest.raises(WrongPassphrase):
        session.vault.unlock(SUP, WRONG_PW, allow_test_kdf=True)
    assert _failure_row(lab)[0] == 1 and _failure_row(lab)[2] is None

    actions = [a for _, _, a, _, _ in lab.audit_rows()]
    assert actions.count("unlock_failed") == 8
    assert actions.count("unlock_refused") == 3
    assert session.vault.verify_audit().ok


def test_unknown_officer_is_refused_and_audited(lab: Lab, spy: dict[str, int]) -> None:
    vault_with_applicants(lab, 1)
    spy.update(dek_unwrapped=0, records_decrypted=0)
    vault = lab.open()
    with pytest.raises(UnknownOfficer) as caught:
        vault.unlock("ghost", SUP_PW, allow_test_kdf=True)
    indonesian, english = both_languages(caught.value)
    assert "ghost" in indonesian and "ghost" in english
    assert spy == {"dek_unwrapped": 0, "records_decrypted": 0}
    _, officer_id, action, subject, detail = lab.audit_rows()[-1]
    # What was typed is not kept: it could be a passphrase typed in the wrong field.
    assert (officer_id, action, subject, detail) == (
        None,
        "unlock_failed",
        None,
        {"reason": "unknown officer"},
    )
    assert not any("ghost" in str(row) for row in lab.audit_rows())
    assert vault.verify_audit().ok


# -- 2. slot tampering never grants access ---------------------------------------------------


def _swap(column: str, a: str = SUP, b: str = OFF2) -> Callable[[sqlite3.Connection], None]:
    def change(conn: sqlite3.Connection) -> None:
        get = f"SELECT {column} FROM key_slots WHERE officer_id = ?"
        value_a = conn.execute(get, (a,)).fetchone()[0]
        value_b = conn.execute(get, (b,)).fetchone()[0]
        put = f"UPDATE key_slots SET {column} = ? WHERE officer_id = ?"
        conn.execute(put, (value_b, a))
        conn.execute(put, (value_a, b))

    return change


def _set(officer_id: str, column: str, value: object) -> Callable[[sqlite3.Connection], None]:
    def change(conn: sqlite3.Connection) -> None:
        conn.execute(f"UPDATE key_slots SET {column} = ? WHERE officer_id = ?", (value, officer_id))

    return change


OFF2_PARAMS = kdf.KdfParams(memory_kib=8 * 1024, iterations=2)
SLOT_TAMPERING = {
    "officer promoted to supervisor": (_set(OFF2, "role", "supervisor"), [OFF2]),
    "supervisor demoted to officer": (_set(SUP, "role", "officer"), [SUP]),
    "kdf params swapped between slots": (_swap("kdf"), [SUP, OFF2]),
    "kdf iterations lowered": (
        _set(OFF2, "kdf", json.dumps(kdf.KdfParams(8 * 1024, 1).as_dict())),
        [OFF2],
    ),
    "wrapped_dek swapped between slots": (_swap("wrapped_dek"), [SUP, OFF2]),
    "public_key swapped between slots": (_swap("public_key"), [SUP, OFF2]),
    "salt swapped between slots": (_swap("salt"), [SUP, OFF2]),
    "dek_generation edited": (_set(OFF2, "dek_generation", 2), [OFF2]),
}
PASSPHRASES = {SUP: SUP_PW, OFF2: OFF2_PW}


@pytest.mark.parametrize("case", list(SLOT_TAMPERING), ids=list(SLOT_TAMPERING))
def test_a_tampered_slot_never_opens(lab: Lab, spy: dict[str, int], case: str) -> None:
    session, _, ids = vault_with_applicants(lab, 2)
    officers.add_officer(session, OFF2, OFF2_NAME, "officer", OFF2_PW, params=OFF2_PARAMS)
    change, victims = SLOT_TAMPERING[case]
    lab.edit(change)
    spy.update(dek_unwrapped=0, records_decrypted=0)

    for officer_id in victims:
        vault = lab.open()
        with pytest.raises(WrongPassphrase):
            vault.unlock(officer_id, PASSPHRASES[officer_id], allow_test_kdf=True)
        assert lab.audit_rows()[-1][1:3] == (officer_id, "unlock_failed")
    assert spy == {"dek_unwrapped": 0, "records_decrypted": 0}, "no data key, no data"
    assert ("unlock", OFF2) not in [(a, o) for _, o, a, _, _ in lab.audit_rows()]

    # The officer whose slot was left alone still gets in and reads everything.
    for officer_id in set(PASSPHRASES) - set(victims):
        other = lab.unlock(officer_id, PASSPHRASES[officer_id], allow_test_kdf=True)
        assert [other.read("applicant", i).id for i in ids] == ids


def test_a_slot_copied_from_another_vault_does_not_open(lab: Lab, tmp_path: Path) -> None:
    vault_with_applicants(lab, 1)
    elsewhere = Lab(tmp_path / "elsewhere")
    elsewhere.create()  # same officer id and passphrase, another vault
    [foreign] = elsewhere.sql("SELECT * FROM key_slots WHERE officer_id = ?", (SUP,))
    elsewhere.close_all()

    def transplant(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM key_slots WHERE officer_id = ?", (SUP,))
        conn.execute("INSERT INTO key_slots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", foreign)

    lab.edit(transplant)
    with pytest.raises(WrongPassphrase):
        lab.unlock(SUP, SUP_PW, allow_test_kdf=True)


# -- 3. records: tampered, moved, replayed and rolled-back versions are refused -----------------


def _assert_refused(
    session: UnlockedVault, record_id: str, version: int, reason: str | None = None
) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught:
        session.read("applicant", record_id)
    error = caught.value
    assert (error.kind, error.record_id, error.version) == ("applicant", record_id, version)
    indonesian, english = both_languages(error)
    for text in (indonesian, english):
        assert "applicant" in text and record_id in text and str(version) in text
    if reason is not None:
        assert reason in error.reason
    return error


def test_a_flipped_byte_is_refused_naming_kind_id_and_version(
    lab: Lab, spy: dict[str, int]
) -> None:
    _, _, (victim, bystander, _) = vault_with_applicants(lab, 3)
    lab.edit(lambda c: set_sealed(c, victim, 1, flip_byte(sealed_of(c, victim), 30)))
    session = lab.unlock()
    spy["records_decrypted"] = 0
    audit_before = lab.count("audit")

    _assert_refused(session, victim, 1, "does not authenticate")
    with pytest.raises(IntegrityError):
        session.history("applicant", victim)
    with pytest.raises(IntegrityError):
        applicants.show_applicant(OfficerSession(session), victim)
    with pytest.raises(IntegrityError):
        applicants.applicant_history(OfficerSession(session), victim)
    assert spy["records_decrypted"] == 0, "nothing of the tampered record was returned"
    with pytest.raises(IntegrityError):
        session.latest("applicant")  # a listing does not skip the bad one silently
    views = [a for _, _, a, _, _ in lab.audit_rows()[audit_before:] if a.endswith("viewed")]
    assert views == [], "a refused view is not audited as a view"
    assert session.read("applicant", bystander).id == bystander


@pytest.mark.parametrize("where", [0, 5, 11, 12, 40, -1], ids=lambda w: f"byte{w}")
def test_any_flipped_byte_nonce_body_or_tag_is_refused(lab: Lab, where: int) -> None:
    _, _, (victim, *_) = vault_with_applicants(lab, 1)
    lab.edit(lambda c: set_sealed(c, victim, 1, flip_byte(sealed_of(c, victim), where)))
    _assert_refused(lab.unlock(), victim, 1)


def test_sealed_blobs_swapped_between_two_applicants_are_both_refused(lab: Lab) -> None:
    _, _, (a, b, c) = vault_with_applicants(lab, 3)

    def swap(conn: sqlite3.Connection) -> None:
        blob_a, blob_b = sealed_of(conn, a), sealed_of(conn, b)
        set_sealed(conn, a, 1, blob_b)
        set_sealed(conn, b, 1, blob_a)

    lab.edit(swap)
    session = lab.unlock()
    _assert_refused(session, a, 1)
    _assert_refused(session, b, 1)
    for victim in (a, b):
        with pytest.raises(IntegrityError):
            session.history("applicant", victim)
    assert session.read("applicant", c).version == 1


def test_an_update_keeps_version_one_and_a_stale_write_stores_nothing(lab: Lab) -> None:
    session, _, (a, *_) = vault_with_applicants(lab, 2)
    original = session.read("applicant", a)
    assert update_applicant(session, a, "KK asli sudah diperiksa") == 2

    latest = session.read("applicant", a)
    assert (latest.version, latest.state, latest.data["notes"]) == (
        2,
        "checked_in",
        "KK asli sudah diperiksa",
    )
    assert session.read("applicant", a, version=1) == original
    assert [r.version for r in session.history("applicant", a)] == [1, 2]
    assert session.history("applicant", a)[0].data == original.data

    before = {t: lab.count(t) for t in ("record_versions", "outbox", "audit", "blind_index")}
    stale = Change("applicant", a, {**original.data, "notes": "basi"}, "captured", None, 1)
    with pytest.raises(VersionConflict):
        session.write([stale], action="applicant_updated")
    assert {t: lab.count(t) for t in before} == before
    assert lab.sql("SELECT version, state FROM records WHERE id = ?", (a,)) == [(2, "checked_in")]
    assert session.read("applicant", a).data["notes"] == "KK asli sudah diperiksa"

    duplicate = Change("applicant", a, original.data, "captured", None, 0)
    with pytest.raises(VersionConflict):
        session.write([duplicate], action="applicant_created")
    assert {t: lab.count(t) for t in before} == before


def test_replaying_version_one_as_version_two_is_refused(lab: Lab) -> None:
    session, _, (a, *_) = vault_with_applicants(lab, 1)
    update_applicant(session, a, "sudah bayar")
    lab.edit(lambda c: set_sealed(c, a, 2, sealed_of(c, a, 1)))
    session = lab.unlock()
    _assert_refused(session, a, 2, "does not authenticate")
    with pytest.raises(IntegrityError):
        session.history("applicant", a)
    assert session.read("applicant", a, version=1).version == 1


def test_a_rolled_back_record_is_refused(lab: Lab) -> None:
    session, _, (a, *_) = vault_with_applicants(lab, 1)
    update_applicant(session, a, "sudah bayar")

    def roll_back(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM record_versions WHERE id = ? AND version = 2", (a,))
        conn.execute("UPDATE records SET version = 1, state = 'captured' WHERE id = ?", (a,))

    lab.edit(roll_back)
    session = lab.unlock()
    _assert_refused(session, a, 2, "rolled back")
    with pytest.raises(IntegrityError, match="rolled back"):
        session.read("applicant", a, version=1)
    with pytest.raises(IntegrityError):
        applicants.show_applicant(OfficerSession(session), a)


def test_history_of_a_rolled_back_record_is_refused_too(lab: Lab) -> None:
    # BUG: records.history() never compares with the outbox, so after a rollback it returns
    # version 1 as if it were the whole story while read() reports the rollback.
    session, _, (a, *_) = vault_with_applicants(lab, 1)
    update_applicant(session, a, "sudah bayar")

    def roll_back(conn: sqlite3.Connection) -> None:
        conn.execute("DELETE FROM record_versions WHERE id = ? AND version = 2", (a,))
        conn.execute("UPDATE records SET version = 1 WHERE id = ?", (a,))

    lab.edit(roll_back)
    session = lab.unlock()
    with pytest.raises(IntegrityError, match="rolled back"):
        session.history("applicant", a)


# -- 4. blind index ---------------------------------------------------------------------------


def test_the_blind_index_finds_by_nik_and_holds_no_nik_in_clear(lab: Lab) -> None:
    captured = people(5)
    session = lab.create()
    visit_id = plan_visit(session)
    ids = add_applicants(session, visit_id, captured)

    for applicant_id, person in zip(ids, captured, strict=True):
        assert session.find("nik", str(person["nik"])) == [("applicant", applicant_id)]
        assert applicants.find_by_nik(OfficerSession(session), str(person["nik"])) == [
            ("applicant", applicant_id)
        ]
        assert session.find("booking_code", str(person["booking_code"])) == [
            ("applicant", applicant_id)
        ]
    stranger = people(1, seed=SEED + 1)[0]
    assert stranger["nik"] not in {p["nik"] for p in captured}
    assert session.find("nik", str(stranger["nik"])) == []
    assert session.find("booking_code", str(captured[0]["nik"])) == []

    rows = lab.sql("SELECT field, digest, kind, id FROM blind_index")
    assert len(rows) == 2 * len(captured)
    for person in captured:
        nik = str(person["nik"])
        for field, digest, kind, rid in rows:
            assert isinstance(digest, bytes) and len(digest) == 32
            assert nik not in f"{field}{kind}{rid}{digest.hex()}"
            assert nik.encode() not in digest
            assert bytes.fromhex(nik) not in digest  # not even packed as BCD
            assert nik[-8:].encode() not in digest


def test_no_personal_data_in_clear_anywhere_in_the_files(lab: Lab) -> None:
    captured = people(5)
    session = lab.create()
    visit_id = plan_visit(session)
    ids = add_applicants(session, visit_id, captured)
    show_applicant(session, ids[0])
    officers.add_officer(
        session, OFF2, OFF2_NAME, "officer", OFF2_PW, params=kdf.INSECURE_TEST_PARAMS
    )

    secrets = {"Rina Wati", "RINA WATI", OFF2_NAME, "Budi Santoso", "081234567890"}
    secrets |= {"+6281234567890", "SMAN 1 Karawang", SUP_PW, OFF2_PW}
    for person in captured:
        secrets |= {str(person[f]) for f in ("name", "nik", "kk", "phone", "booking_code")}

    def on_disk() -> bytes:
        files = sorted(lab.db.parent.glob(lab.db.name + "*"))
        return b"".join(path.read_bytes() for path in files)

    while_open = on_disk()
    lab.close_all()
    after_close = on_disk()
    for blob in (while_open, after_close):
        found = [s for s in secrets if s.encode() in blob]
        assert found == []


# -- 5. the audit chain -----------------------------------------------------------------------


def _realistic_session(lab: Lab) -> list[str]:
    session, _, ids = vault_with_applicants(lab, 3)
    show_applicant(session, ids[0])
    show_applicant(session, ids[1])
    officers.add_officer(
        session, OFF2, OFF2_NAME, "officer", OFF2_PW, params=kdf.INSECURE_TEST_PARAMS
    )
    update_applicant(session, ids[2], "foto ulang")
    applicant_history(session, ids[2])
    session.lock()
    lab.close_all()
    return ids


def test_a_realistic_session_leaves_a_chain_that_verifies(lab: Lab) -> None:
    _realistic_session(lab)
    vault = lab.open()
    with pytest.raises(WrongPassphrase):
        vault.unlock(OFF2, WRONG_PW, allow_test_kdf=True)
    session = vault.unlock(OFF2, OFF2_PW, allow_test_kdf=True)
    session.lock()
    verdict = vault.verify_audit()
    assert verdict.ok and verdict.reason is None
    assert verdict.entries == lab.count("audit") >= 15
    actions = [a for _, _, a, _, _ in lab.audit_rows()]
    assert actions[:2] == ["vault_created", "unlock"]
    for action in ("visit_created", "applicant_created", "applicant_viewed", "officer_added"):
        assert action in actions
    assert actions[-3:] == ["unlock_failed", "unlock", "lock"]


def test_every_applicant_view_is_audited(lab: Lab) -> None:
    session, _, (a, b, _) = vault_with_applicants(lab, 3)
    update_applicant(session, a, "dicek ulang")

    def views() -> list[tuple[str | None, str | None, dict[str, object]]]:
        return [(o, s, d) for _, o, act, s, d in lab.audit_rows() if act == "applicant_viewed"]

    assert views() == []
    applicants.show_applicant(OfficerSession(session), a)
    applicants.show_applicant(OfficerSession(session), a, version=1)
    applicants.show_applicant(OfficerSession(session), b)
    assert views() == [
        (SUP, f"applicant:{a}", {"version": 2}),
        (SUP, f"applicant:{a}", {"version": 1}),
        (SUP, f"applicant:{b}", {"version": 1}),
    ]
    assert session.vault.verify_audit().ok


def _entry(conn: sqlite3.Connection, seq: int) -> tuple[object, ...]:
    return conn.execute(
        "SELECT seq, at, officer_id, action, subject, detail, prev_hash, hash FROM audit "
        "WHERE seq = ?",
        (seq,),
    ).fetchone()


def _make_room_after(conn: sqlite3.Connection, seq: int) -> None:
    """Renumber every entry after ``seq`` one up, so a forged entry can take seq + 1."""
    conn.execute("UPDATE audit SET seq = -seq WHERE seq > ?", (seq,))
    conn.execute("UPDATE audit SET seq = -seq + 1 WHERE seq < 0")


def _insert(conn: sqlite3.Connection, row: tuple[object, ...]) -> None:
    conn.execute("INSERT INTO audit VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)


def _forge_after(conn: sqlite3.Connection, seq: int, hashed: bool) -> None:
    """Insert a plausible entry after ``seq``: right prev_hash, a real-looking 32-byte hash."""
    _, at, _, _, _, _, _, prev = _entry(conn, seq)
    _make_room_after(conn, seq)
    detail = json.dumps({"role": "supervisor"}, separators=(",", ":"))
    fields = (at, SUP, "officer_added", "intruder", detail)
    digest = audit.entry_hash(prev, seq + 1, *fields) if hashed else os.urandom(32)  # type: ignore[arg-type]
    _insert(conn, (seq + 1, *fields, prev, digest))


def _replace(conn: sqlite3.Connection, seq: int) -> None:
    """Delete entry ``seq`` and put a forgery with a correctly computed hash in its place."""
    *_, prev = _entry(conn, seq - 1)
    at = _entry(conn, seq)[1]
    conn.execute("DELETE FROM audit WHERE seq = ?", (seq,))
    fields = (at, SUP, "applicant_viewed", "applicant:other", '{"version":1}')
    _insert(conn, (seq, *fields, prev, audit.entry_hash(prev, seq, *fields)))  # type: ignore[arg-type]


def _swap_seq(a: int, b: int) -> Callable[[sqlite3.Connection], None]:
    def change(conn: sqlite3.Connection) -> None:
        conn.execute("UPDATE audit SET seq = -1 WHERE seq = ?", (a,))
        conn.execute("UPDATE audit SET seq = ? WHERE seq = ?", (a, b))
        conn.execute("UPDATE audit SET seq = ? WHERE seq = -1", (b,))

    return change


def _modify(seq: int, column: str, value: object) -> Callable[[sqlite3.Connection], None]:
    def change(conn: sqlite3.Connection) -> None:
        conn.execute(f"UPDATE audit SET {column} = ? WHERE seq = ?", (value, seq))

    return change


def _both(*changes: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    def change(conn: sqlite3.Connection) -> None:
        for step in changes:
            step(conn)

    return change


AUDIT_TAMPERING: dict[str, tuple[Callable[[sqlite3.Connection], None], int, str]] = {
    "detail modified": (_modify(5, "detail", '{"version":2}'), 5, "modified"),
    "action modified": (_modify(5, "action", "applicant_viewed"), 5, "modified"),
    "officer modified": (_modify(5, "officer_id", OFF2), 5, "modified"),
    "subject modified": (_modify(5, "subject", "applicant:other"), 5, "modified"),
    "time modified": (_modify(5, "at", "2026-01-01T00:00:00.000000+00:00"), 5, "modified"),
    "two modified, first named": (
        _both(_modify(7, "detail", "{}"), _modify(5, "detail", "{}")),
        5,
        "modified",
    ),
    "middle entry deleted": (
        lambda c: c.execute("DELETE FROM audit WHERE seq = 5"),
        6,
        "missing entries before it",
    ),
    "first entry deleted": (
        lambda c: c.execute("DELETE FROM audit WHERE seq = 1"),
        2,
        "missing entries before it",
    ),
    "forged entry with a random hash": (lambda c: _forge_after(c, 4, False), 5, "modified"),
    "forged entry with a correct hash": (
        lambda c: _forge_after(c, 4, True),
        6,  # the forgery fits; the genuine entry it displaced no longer chains
        "does not chain from the entry before it",
    ),
    "entry replaced by a forgery with a correct hash": (
        lambda c: _replace(c, 5),
        6,  # the forgery fits; the next genuine entry no longer chains
        "does not chain from the entry before it",
    ),
    "two entries reordered": (_swap_seq(3, 6), 3, "does not chain from the entry before it"),
    "neighbours reordered": (_swap_seq(4, 5), 4, "does not chain from the entry before it"),
}


@pytest.mark.parametrize("case", list(AUDIT_TAMPERING), ids=list(AUDIT_TAMPERING))
def test_audit_tampering_names_the_first_bad_entry(lab: Lab, case: str) -> None:
    _realistic_session(lab)
    assert lab.open().verify_audit().ok
    total = lab.count("audit")
    change, first_bad, reason = AUDIT_TAMPERING[case]
    lab.edit(change)

    verdict = lab.open().verify_audit()  # no passphrase needed
    assert not verdict.ok
    assert verdict.first_bad_seq == first_bad
    assert verdict.reason == reason
    assert 0 < verdict.entries <= total + 1


# -- 6. the outbox ----------------------------------------------------------------------------


def _outbox(lab: Lab) -> list[tuple[int, str, str, int]]:
    return lab.sql("SELECT seq, kind, id, version FROM outbox ORDER BY seq")  # type: ignore[return-value]


def test_every_write_gets_the_next_outbox_number_without_gaps(lab: Lab) -> None:
    session = lab.create()
    visit_id = plan_visit(session)  # 1
    [single] = add_applicants(session, visit_id, people(1))  # 2
    batch = add_applicants(session, visit_id, people(4, seed=SEED + 7))  # 3..6
    update_applicant(session, single, "dicek")  # 7
    with pytest.raises(VersionConflict):
        session.write(
            [Change("applicant", single, {"notes": "basi"}, "captured", visit_id, 1)],
            action="applicant_updated",
        )
    update_applicant(session, batch[0], "dicek")  # 8: the failed write left no hole

    queued = _outbox(lab)
    assert [seq for seq, *_ in queued] == list(range(1, 9))
    assert outbox.gaps(session.conn) == []
    assert session.vault.outbox_depth() == 8
    assert [(k, i, v) for _, k, i, v in queued] == [
        ("visit", visit_id, 1),
        ("applicant", single, 1),
        *[("applicant", b, 1) for b in batch],
        ("applicant", single, 2),
        ("applicant", batch[0], 2),
    ]
    assert set(lab.sql("SELECT kind, id, version FROM record_versions")) == {
        (k, i, v) for _, k, i, v in queued
    }


def test_a_batch_with_one_invalid_applicant_stores_nothing(lab: Lab) -> None:
    session = lab.create()
    visit_id = plan_visit(session)
    valid = people(3)
    invalid = {**people(1, seed=SEED + 3)[0], "nik": "3201"}
    tables = ("records", "record_versions", "outbox", "audit", "blind_index")
    before = {t: lab.count(t) for t in tables}

    with pytest.raises(InvalidInput) as caught:
        applicants.add_applicants(
            OfficerSession(session), visit_id, [valid[0], invalid, valid[1], valid[2]]
        )

    both_languages(caught.value)
    assert caught.value.findings and {pos for pos, _ in caught.value.findings} == {2}
    assert {t: lab.count(t) for t in tables} == before
    assert lab.sql("SELECT kind FROM records") == [("visit",)]
    assert all(session.find("nik", str(p["nik"])) == [] for p in valid)

    ids = applicants.add_applicants(OfficerSession(session), visit_id, valid)
    assert [seq for seq, *_ in _outbox(lab)] == [1, 2, 3, 4]
    assert len(ids) == 3


# -- 7. officers and data-key rotation --------------------------------------------------------


def _team(lab: Lab, count: int = 3) -> tuple[UnlockedVault, str, list[str]]:
    session, visit_id, ids = vault_with_applicants(lab, count)
    officers.add_officer(
        session, OFF2, OFF2_NAME, "officer", OFF2_PW, params=kdf.INSECURE_TEST_PARAMS
    )
    officers.add_officer(
        session, OFF3, OFF3_NAME, "officer", OFF3_PW, params=kdf.INSECURE_TEST_PARAMS
    )
    return session, visit_id, ids


def _snapshot(session: UnlockedVault) -> dict[tuple[str, str, int], dict[str, object]]:
    """Every version of every record, decrypted."""
    heads = session.conn.execute("SELECT kind, id FROM records ORDER BY kind, id").fetchall()
    return {(r.kind, r.id, r.version): r.data for k, i in heads for r in session.history(k, i)}


def test_an_officer_may_not_add_or_remove_officers(lab: Lab) -> None:
    _team(lab)
    session = lab.unlock(OFF2, OFF2_PW, allow_test_kdf=True)
    slots_before = lab.sql("SELECT * FROM key_slots ORDER BY officer_id")
    with pytest.raises(NotAllowed) as caught:
        officers.add_officer(
            session,
            "off9",
            "Yanti Kurnia",
            "supervisor",
            "gunung salak berkabut",
            params=kdf.INSECURE_TEST_PARAMS,
        )
    both_languages(caught.value)
    with pytest.raises(NotAllowed):
        officers.remove_officer(session, OFF3)
    with pytest.raises(NotAllowed):
        officers.remove_officer(session, SUP)
    assert lab.sql("SELECT * FROM key_slots ORDER BY officer_id") == slots_before
    assert session.generation == 1


def test_a_supervisor_adds_an_officer_who_can_then_unlock_and_read(lab: Lab) -> None:
    session, _, ids = vault_with_applicants(lab, 2)
    added = officers.add_officer(
        session, OFF2, OFF2_NAME, "officer", OFF2_PW, params=kdf.INSECURE_TEST_PARAMS
    )
    assert (added.officer_id, added.name, added.role) == (OFF2, OFF2_NAME, "officer")
    assert [(o.officer_id, o.role) for o in officers.list_officers(session)] == [
        (OFF2, "officer"),
        (SUP, "supervisor"),
    ]
    other = lab.unlock(OFF2, OFF2_PW, allow_test_kdf=True)
    assert other.role == "officer"
    assert [other.read("applicant", i).id for i in ids] == ids


def test_removing_an_officer_rotates_the_key_and_locks_them_out(lab: Lab) -> None:
    session, visit_id, before_ids = _team(lab, 3)
    update_applicant(session, before_ids[0], "sebelum rotasi")
    old_dek = session.deks[1]  # what the removed officer could have kept
    officers.remove_officer(session, OFF2)
    assert session.generation == 2
    after_ids = add_applicants(session, visit_id, people(2, seed=SEED + 9))
    update_applicant(session, after_ids[0], "sesudah rotasi")
    expected = _snapshot(session)
    lab.close_all()

    with pytest.raises(UnknownOfficer):
        lab.unlock(OFF2, OFF2_PW, allow_test_kdf=True)
    for officer_id, passphrase in ((OFF3, OFF3_PW), (SUP, SUP_PW)):
        remaining = lab.unlock(officer_id, passphrase, allow_test_kdf=True)
        assert _snapshot(remaining) == expected
        for applicant_id in before_ids + after_ids:
            nik = str(remaining.read("applicant", applicant_id).data["nik"])
            assert remaining.find("nik", nik) == [("applicant", applicant_id)]
        assert [o.officer_id for o in officers.list_officers(remaining)] == [OFF3, SUP]

    assert len(expected) == 1 + 5 + 2
    assert {g for (g,) in lab.sql("SELECT DISTINCT key_generation FROM record_versions")} == {2}
    assert {g for (g,) in lab.sql("SELECT DISTINCT dek_generation FROM key_slots")} == {2}
    meta = dict(lab.sql("SELECT key, value FROM meta"))
    assert "rotation" not in meta
    assert (meta["dek_generation"], meta["blind_index_generation"]) == ("2", "2")

    # A copy of the old data key opens nothing any more.
    old_records = derive_key(old_dek, "records")
    for kind, rid, version, *clear, sealed in lab.sql(
        "SELECT kind, id, version, visit_id, state, officer_id, at, sealed FROM record_versions"
    ):
        with pytest.raises(AuthenticationFailed):
            open_sealed(old_records, sealed, record_aad(kind, rid, version, *clear))
    old_index = derive_key(old_dek, "blind-index")
    digests = {d for (d,) in lab.sql("SELECT digest FROM blind_index")}
    for rid in before_ids:
        nik = str(expected[("applicant", rid, 1)]["nik"])
        assert blind_index(old_index, "nik", nik) not in digests
    with pytest.raises(AuthenticationFailed):
        open_sealed(
            derive_key(old_dek, "device-key"),
            bytes.fromhex(str(meta["device_private_sealed"])),
            canonical(["fieldkit/v1/device-key", meta["device_id"]]),
        )

    actions = [(o, a, s) for _, o, a, s, _ in lab.audit_rows()]
    assert (SUP, "officer_removed", OFF2) in actions
    assert [a for _, a, _ in actions].count("key_rotation_completed") == 1
    assert lab.open().verify_audit().ok


def _all_rows_at(lab: Lab, generation: int) -> bool:
    return lab.sql("SELECT DISTINCT key_generation FROM record_versions") == [(generation,)]


def test_a_rotation_interrupted_after_its_first_step_finishes_at_the_next_unlock(lab: Lab) -> None:
    session, _, ids = _team(lab, 4)
    update_applicant(session, ids[1], "sebelum rotasi")
    expected = _snapshot(session)
    rotation.start_rotation(session, removed=OFF2)  # the power goes out here
    lab.close_all()

    meta = dict(lab.sql("SELECT key, value FROM meta"))
    assert "rotation" in meta and meta["dek_generation"] == "2"
    assert _all_rows_at(lab, 1), "nothing was re-encrypted yet"

    with pytest.raises(UnknownOfficer):
        lab.unlock(OFF2, OFF2_PW, allow_test_kdf=True)
    finisher = lab.unlock(OFF3, OFF3_PW, allow_test_kdf=True)
    assert "rotation" not in dict(lab.sql("SELECT key, value FROM meta"))
    assert _all_rows_at(lab, 2)
    assert _snapshot(finisher) == expected
    for applicant_id in ids:
        nik = str(finisher.read("applicant", applicant_id).data["nik"])
        assert finisher.find("nik", nik) == [("applicant", applicant_id)]
    completed = [(o, a) for _, o, a, _, _ in lab.audit_rows() if a.startswith("key_rotation")]
    assert completed == [(SUP, "key_rotation_started"), (OFF3, "key_rotation_completed")]
    assert _snapshot(lab.unlock(SUP, SUP_PW, allow_test_kdf=True)) == expected
    assert lab.open().verify_audit().ok


def test_a_rotation_that_crashes_mid_re_encryption_finishes_at_the_next_unlock(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, _, ids = _team(lab, 5)
    update_applicant(session, ids[0], "sebelum rotasi")
    expected = _snapshot(session)
    assert len(expected) == 7

    monkeypatch.setattr(rotation, "ROTATION_BATCH", 2)
    calls = {"n": 0, "armed": True}

    class PowerCutOnSecondBatch(rotation.Sealer):
        def seal(self, plaintext: bytes, aad: bytes) -> bytes:
            calls["n"] += 1  # 1-2: the first batch
            if calls["armed"] and calls["n"] > 2:
                raise RuntimeError("power cut")
            return super().seal(plaintext, aad)

    monkeypatch.setattr(rotation, "Sealer", PowerCutOnSecondBatch)
    with pytest.raises(RuntimeError, match="power cut"):
        officers.remove_officer(session, OFF2)
    calls["armed"] = False
    lab.close_all()

    generations = lab.sql("SELECT key_generation, COUNT(*) FROM record_versions GROUP BY 1")
    assert generations == [(1, 5), (2, 2)], "the first batch committed, the second did not"
    assert "rotation" in dict(lab.sql("SELECT key, value FROM meta"))

    finisher = lab.unlock(OFF3, OFF3_PW, allow_test_kdf=True)
    assert _all_rows_at(lab, 2)
    assert "rotation" not in dict(lab.sql("SELECT key, value FROM meta"))
    assert _snapshot(finisher) == expected
    for applicant_id in ids:
        nik = str(finisher.read("applicant", applicant_id).data["nik"])
        assert finisher.find("nik", nik) == [("applicant", applicant_id)]
    with pytest.raises(UnknownOfficer):
        lab.unlock(OFF2, OFF2_PW, allow_test_kdf=True)
    assert _snapshot(lab.unlock(SUP, SUP_PW, allow_test_kdf=True)) == expected
    assert [a for _, _, a, _, _ in lab.audit_rows()].count("key_rotation_completed") == 1


def test_a_tampered_row_met_during_rotation_is_reported_as_an_integrity_error(lab: Lab) -> None:
    # The damaged row is named, and it does not lock every officer out afterwards.
    session, _, (victim, *rest) = _team(lab, 2)
    lab.edit(lambda c: set_sealed(c, victim, 1, flip_byte(sealed_of(c, victim), 20)))
    session = lab.unlock(SUP, SUP_PW, allow_test_kdf=True)
    with pytest.raises(IntegrityError) as caught:
        officers.remove_officer(session, OFF2)
    assert (caught.value.kind, caught.value.record_id, caught.value.version) == (
        "applicant",
        victim,
        1,
    )
    again = lab.unlock(SUP, SUP_PW, allow_test_kdf=True)
    assert lab.audit_rows()[-1][2:4] == ("key_rotation_blocked", f"applicant:{victim}")
    for applicant_id in rest:
        assert again.read("applicant", applicant_id).id == applicant_id
    with pytest.raises(IntegrityError):
        again.read("applicant", victim)


def test_change_passphrase_retires_the_old_one(lab: Lab) -> None:
    _, _, ids = _team(lab, 1)
    session = lab.unlock(OFF2, OFF2_PW, allow_test_kdf=True)
    officers.change_passphrase(session, "gado gado jakarta pedas", params=kdf.INSECURE_TEST_PARAMS)
    assert lab.audit_rows()[-1][1:3] == (OFF2, "passphrase_changed")

    with pytest.raises(WrongPassphrase):
        lab.unlock(OFF2, OFF2_PW, allow_test_kdf=True)
    renewed = lab.unlock(OFF2, "gado gado jakarta pedas", allow_test_kdf=True)
    assert renewed.role == "officer"
    assert renewed.read("applicant", ids[0]).id == ids[0]
    assert lab.unlock(SUP, SUP_PW, allow_test_kdf=True).read("applicant", ids[0]).id == ids[0]


WEAK = {
    "too short": "kopi pagi",
    "one repeated character": "aaaaaaaaaaaaaaaa",
    "few distinct characters": "abcabcabcabcabc",
    "only digits": "123456789012345",
    "contains the officer id": "{id} minum kopi pagi",
    "contains the officer name": "{first} suka kopi tubruk",
    "built on a common password": "katasandi rahasia",
}


def _weak(case: str, officer_id: str, name: str) -> str:
    return WEAK[case].format(id=officer_id, first=name.split()[0].lower())


@pytest.mark.parametrize("case", list(WEAK))
def test_weak_passphrases_are_refused_at_create(lab: Lab, case: str) -> None:
    with pytest.raises(WeakPassphrase) as caught:
        Vault.create(lab.home, officer_id=SUP, name=SUP_NAME, passphrase=_weak(case, SUP, SUP_NAME))
    both_languages(caught.value)
    assert not lab.db.exists()


@pytest.mark.parametrize("case", list(WEAK))
def test_weak_passphrases_are_refused_when_adding_an_officer(lab: Lab, case: str) -> None:
    session = lab.create()
    with pytest.raises(WeakPassphrase):
        officers.add_officer(
            session,
            OFF2,
            OFF2_NAME,
            "officer",
            _weak(case, OFF2, OFF2_NAME),
            params=kdf.INSECURE_TEST_PARAMS,
        )
    assert lab.sql("SELECT officer_id FROM key_slots") == [(SUP,)]


@pytest.mark.parametrize("case", list(WEAK))
def test_weak_passphrases_are_refused_when_changing_one(lab: Lab, case: str) -> None:
    lab.create()
    officers.add_officer(
        lab.unlock(), OFF2, OFF2_NAME, "officer", OFF2_PW, params=kdf.INSECURE_TEST_PARAMS
    )
    session = lab.unlock(OFF2, OFF2_PW, allow_test_kdf=True)
    with pytest.raises(WeakPassphrase):
        officers.change_passphrase(
            session, _weak(case, OFF2, OFF2_NAME), params=kdf.INSECURE_TEST_PARAMS
        )
    assert lab.unlock(OFF2, OFF2_PW, allow_test_kdf=True).role == "officer"


# -- 8. migrations ----------------------------------------------------------------------------


def test_a_vault_from_a_newer_fieldkit_is_refused_and_left_untouched(lab: Lab) -> None:
    vault_with_applicants(lab, 1)
    lab.edit(
        lambda c: c.execute(
            "INSERT INTO schema_migrations (name, applied_at) VALUES (?, ?)",
            ("0002_from_the_future", "2027-01-01T00:00:00+00:00"),
        )
    )
    assert not Path(f"{lab.db}-wal").exists(), "the WAL was checkpointed on close"
    content, stat = lab.db.read_bytes(), lab.db.stat()
    migrations = lab.sql("SELECT * FROM schema_migrations ORDER BY id")

    with pytest.raises(VaultTooNew) as caught:
        Vault.open(lab.home)

    indonesian, english = both_languages(caught.value)
    assert "0002_from_the_future" in indonesian and "0002_from_the_future" in english
    assert lab.db.read_bytes() == content
    assert lab.db.stat().st_mtime_ns == stat.st_mtime_ns
    assert lab.sql("SELECT * FROM schema_migrations ORDER BY id") == migrations
    wal = Path(f"{lab.db}-wal")
    assert not wal.exists() or wal.stat().st_size == 0, "nothing was written through the WAL"


# -- 9. key derivation parameters -------------------------------------------------------------


def test_calibrated_parameters_are_at_least_64_mib_and_stored_in_the_slot(
    lab: Lab, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = kdf.calibrate()
    assert params.algorithm == "argon2id"
    assert params.memory_kib >= 64 * 1024
    # (How long the chosen parameters take is calibrate()'s own measurement, modelled with a
    # clock in the next test: a wall-clock assertion here failed on a loaded machine.)

    session = Vault.create(
        lab.home, officer_id=SUP, name=SUP_NAME, passphrase=SUP_PW, params=params
    )
    lab.opened.append(session.vault)
    [(stored,)] = lab.sql("SELECT kdf FROM key_slots WHERE officer_id = ?", (SUP,))
    assert kdf.KdfParams.from_dict(json.loads(str(stored))) == params


def test_calibration_does_not_trust_one_cold_measurement(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # BUG (seen on this 2-core machine: 128 MiB t=1 measured 0.257 s cold, then 0.21-0.23 s
    # each time after): calibrate() times only the first derivation of each candidate, which
    # pays for faulting in fresh memory, so it can settle on parameters that are below the
    # target once warm. Modelled here with a clock: a derivation costs 0.2 s per iteration,
    # plus 0.1 s the first time the process touches that much memory.
    clock = {"now": 0.0, "warm": False}

    def fake_derive(passphrase: str, salt: bytes, params: kdf.KdfParams) -> bytes:
        clock["now"] += 0.2 * params.iterations + (0.0 if clock["warm"] else 0.1)
        clock["warm"] = True
        return b"\x00" * 32

    monkeypatch.setattr(kdf, "derive", fake_derive)
    monkeypatch.setattr(kdf, "time", SimpleNamespace(perf_counter=lambda: clock["now"]))
    params = kdf.calibrate()
    started = clock["now"]
    fake_derive("warm", b"", params)
    assert clock["now"] - started >= kdf.TARGET_SECONDS, params


def test_the_test_setting_gives_cheap_parameters_and_a_warning_to_show() -> None:
    params = kdf.calibrate(insecure=True)
    assert params == kdf.INSECURE_TEST_PARAMS
    assert params.memory_kib < kdf.MIN_MEMORY_KIB and kdf.is_insecure(params)
    assert "WARNING" in kdf.INSECURE_WARNING.en and kdf.TEST_KDF_ENV in kdf.INSECURE_WARNING.en
    assert "PERINGATAN" in kdf.INSECURE_WARNING.id


def test_a_locked_session_says_locked_not_tampered(lab: Lab) -> None:
    session, _, (applicant_id, *_) = _team(lab, 1)
    session.lock()
    with pytest.raises(VaultLocked):
        session.read("applicant", applicant_id)
    assert lab.audit_rows()[-1][1:3] == (SUP, "lock")
