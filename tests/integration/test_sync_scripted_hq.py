"""The sync client against a scripted HQ on 127.0.0.1: forged receipts, strict checkpoints,
refusals, outages, captive portals, wrong laptop clocks, and the connectivity monitor.

The scripted HQ is :class:`tests.support.fake_hq.FakeHq` (the ``fake_hq`` fixture): it speaks
the real protocol (it opens batches, signs checkpoints, reference data and receipts with
``sync.wire.envelope``, and checks device-signed requests as HQ does, against its own clock,
which a test can shift; ``test_hq_contract.py`` holds it to the real HQ) and can be told to
misbehave on the next requests.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.cli.sync import sync as sync_command
from fieldkit.vault import syncstate
from sync.device.client import HqRefused, HqUntrusted, SyncClient
from sync.device.connectivity import ConnectivityMonitor
from sync.wire import envelope
from sync.wire.requests import (
    DEVICE_HEADER,
    REFERENCE_PATH,
    SIGNATURE_HEADER,
    TIME_HEADER,
    checkpoint_path,
    request_message,
)
from tests.support.vault import add_applicants, cli_env, new_vault, people, plan_visit


def _problem(status: int, slug: str, detail: str) -> tuple[int, dict, bytes]:
    body = {"type": f"/problems/{slug}", "title": slug, "status": status, "detail": detail}
    return status, {"Content-Type": "application/problem+json"}, json.dumps(body).encode()


@pytest.fixture
def hq(fake_hq):
    return fake_hq


@pytest.fixture
def session(tmp_path, cheap_kdf, hq):
    session = new_vault(tmp_path / "device")
    client(hq, session).enroll(hq.enroll_code())
    add_applicants(session, plan_visit(session), people(700, 3))
    return session


def client(hq, session, waits=None):
    return SyncClient(hq.url, session, sleep=(waits.append if waits is not None else None))


def acked(session):
    return [b.seq for b in syncstate.batches(session.conn) if b.acked]


def test_enrollment_pins_only_a_consistent_answer(hq, tmp_path, cheap_kdf):
    fresh = new_vault(tmp_path / "fresh")
    hq.enroll_code("GOOD-CODE")
    hq.faults.append(("/v1/enroll", _problem(403, "enroll-code-invalid", "used")))
    with pytest.raises(HqRefused) as refused:
        client(hq, fresh).enroll("USED-CODE")
    assert "Ask HQ for a new code" in refused.value.message.en
    hq.faults.append(
        ("/v1/enroll", lambda status, answer: (status, {**answer, "hq_kid": "0" * 16}))
    )
    with pytest.raises(HqUntrusted):
        client(hq, fresh).enroll("GOOD-CODE")
    assert syncstate.enrollment(fresh.vault) is None, "nothing pinned"
    pinned = client(hq, fresh).enroll("GOOD-CODE")
    assert syncstate.enrollment(fresh.vault) == pinned
    assert pinned.hq_encryption_public_key == hq.public
    # Enrolling audits the pinning, then the making of the device's encryption key.
    entries = fresh.conn.execute("SELECT action FROM audit ORDER BY seq DESC LIMIT 2").fetchall()
    assert entries == [("device_encryption_key_created",), ("device_enrolled",)]


# -- receipts that must not be believed ---------------------------------------------------------


def test_a_receipt_signed_by_another_key_acknowledges_nothing(hq, session):
    impostor = Ed25519PrivateKey.generate()
    hq.faults.append(
        ("/v1/batches", lambda status, answer: (status, envelope.sign_document(
            answer["receipt"], impostor)))
    )  # fmt: skip
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 3
    assert "does not verify" in report.untrusted.en and "tidak sah" in report.untrusted.id
    assert acked(session) == []
    assert syncstate.summary(session.conn).batches == 1, "stopped at the first bad receipt"

    honest = client(hq, session).sync(once=True)
    assert honest.exit_code == 0, honest.as_json("en")
    assert honest.duplicates == 1, "the same batch again; HQ answers its stored receipt"
    assert len(hq.receipts) == len(acked(session))


def test_a_signed_receipt_for_other_bytes_acknowledges_nothing(hq, session):
    def other_hash(status, answer):
        return status, hq.signed({**answer["receipt"], "ct_sha256": "0" * 64})

    hq.faults.append(("/v1/batches", other_hash))
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 3
    assert "does not match" in report.untrusted.en
    assert acked(session) == []


@pytest.mark.parametrize(
    "change",
    [
        {"v": 2},
        {"v": True},
        {"count": None},
        {"hq_signing_kid": "0123456789abcdef"},
        {"device_id": "0b6f1c1e-2f6a-4d43-9a55-8c8d1a3e7f10"},
    ],
    ids=["v2", "v-true", "no-count", "other-kid", "other-device"],
)
def test_a_signed_receipt_that_is_not_ours_in_every_field_acknowledges_nothing(hq, session, change):
    def altered(status, answer):
        document = {**answer["receipt"], **change}
        if change.get("count", 0) is None:
            del document["count"]
        return status, hq.signed(document)

    hq.faults.append(("/v1/batches", altered))
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 3
    assert "does not match" in report.untrusted.en
    assert acked(session) == []


def test_a_checkpoint_with_a_bad_signature_stops_the_sync(hq, session):
    hq.faults.append(("/v1/devices/", lambda status, answer: (status, {**answer, "sig": "A" * 88})))
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 3
    assert "checkpoint" in report.untrusted.en
    assert hq.requests == ["/v1/enroll", f"/v1/devices/{session.vault.device_id}/checkpoint"]


def test_the_checkpoint_request_is_signed_by_the_device_afresh_for_each_try(hq, session):
    hq.faults.append(("/v1/devices/", (503, {}, b"")))
    report = client(hq, session, []).sync(once=True)
    assert report.exit_code == 0, report.as_json("en")
    first, second = hq.checkpoint_headers
    device_id = session.vault.device_id
    public = session.device_signing_key().public_key()
    for headers in (first, second):
        assert headers[DEVICE_HEADER] == device_id
        message = request_message(
            "GET", checkpoint_path(device_id), device_id, headers[TIME_HEADER]
        )
        public.verify(base64.b64decode(headers[SIGNATURE_HEADER]), message)
    assert first[TIME_HEADER] < second[TIME_HEADER], "a new time (and signature) for the retry"


def test_a_refused_checkpoint_stops_the_sync_before_any_batch(hq, session):
    detail = "Send Fieldkit-Device, Fieldkit-Time and Fieldkit-Signature (docs/PROTOCOL.md)."
    hq.faults.append(("/v1/devices/", _problem(401, "unauthenticated", detail)))
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 1
    [refusal] = report.refused
    assert (refusal.seq, refusal.problem.status, refusal.problem.slug) == (
        None, 401, "unauthenticated",
    )  # fmt: skip
    assert "Fieldkit-Signature" in refusal.message.en
    assert "/v1/batches" not in hq.requests and acked(session) == []


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"device_id": None}, "no device_id"),
        ({"device_id": "00000000-0000-4000-8000-000000000000"}, "another device"),
        ({"v": 2}, "another version"),
        ({"hq_signing_kid": "0123456789abcdef"}, "another signing key"),
    ],
)
def test_a_signed_checkpoint_that_is_not_this_devices_v1_stops_the_sync(hq, session, change, why):
    def altered(status, answer):
        document = {**answer["document"], **change}
        return status, hq.signed({k: v for k, v in document.items() if v is not None})

    hq.faults.append(("/v1/devices/", altered))
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 3, why
    assert "checkpoint" in report.untrusted.en and "does not match" in report.untrusted.en
    assert "/v1/batches" not in hq.requests and acked(session) == []


# -- a laptop clock far from HQ's -----------------------------------------------------------------


def _minutes_apart(a: str, b: datetime) -> float:
    return abs((datetime.fromisoformat(a) - b).total_seconds()) / 60


def test_a_laptop_clock_hours_off_is_set_right_from_hqs_signed_time_for_the_whole_run(hq, session):
    hq.clock_shift = timedelta(hours=3)  # HQ is right; the laptop is 3 hours behind
    started = datetime.now(UTC)
    report = client(hq, session).sync(once=True, reference=True)
    assert report.exit_code == 0, report.as_json("en")
    path = checkpoint_path(session.vault.device_id)
    assert [p for p, _ in hq.signed_times] == [path, path, REFERENCE_PATH], (
        "the refused checkpoint was signed again and sent once more; the reference request "
        "was signed with HQ's time at once"
    )
    (_, refused), (_, resent), (_, reference) = hq.signed_times
    assert _minutes_apart(refused, started) < 1, "first with the laptop's own time"
    for at in (resent, reference):
        assert _minutes_apart(at, started + timedelta(hours=3)) < 1, "then with HQ's"
    assert report.clock_corrected and abs(report.clock_offset - 3 * 3600) <= 2
    as_json = report.as_json("en")
    assert as_json["clock_corrected"] is True and as_json["clock_offset_seconds"] == (
        report.clock_offset
    )
    warning = report.warnings[0]
    assert "180 minutes (about 3 hours) behind HQ's" in warning.en
    assert "Set the laptop's date and time" in warning.en
    assert "180 menit (sekitar 3 jam) lebih lambat dari jam HQ" in warning.id
    assert "Setel tanggal dan jam laptop" in warning.id

    # Every batch went once, and the vault's own times stayed the laptop's.
    assert len(hq.receipts) == len(acked(session)) == syncstate.summary(session.conn).batches
    assert report.complete
    soon = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    stamped = session.conn.execute(
        "SELECT created_at, acked_at FROM sync_batches UNION ALL SELECT at, at FROM audit"
    ).fetchall()
    assert stamped and all(a < soon and b < soon for a, b in stamped), "no time from HQ's clock"


def test_each_run_measures_hqs_clock_afresh(hq, session):
    hq.clock_shift = timedelta(hours=-2)  # the laptop is 2 hours ahead
    sync_client = client(hq, session)
    first = sync_client.sync(once=True)
    assert first.exit_code == 0 and first.clock_corrected
    assert "120 minutes (about 2 hours) ahead of HQ's" in first.warnings[0].en
    hq.clock_shift = timedelta(0)  # the officer set the laptop's clock
    hq.signed_times.clear()
    second = sync_client.sync(once=True)
    assert second.exit_code == 0 and not second.clock_corrected
    assert len(hq.signed_times) == 1, "signed with the laptop's clock, accepted at once"
    assert abs(second.clock_offset) <= 2 and second.warnings == []


def test_a_clock_a_few_minutes_off_is_accepted_and_reported(hq, session):
    hq.clock_shift = timedelta(minutes=5)
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 0 and not report.clock_corrected
    assert len(hq.signed_times) == 1, "within HQ's 10 minutes: nothing to correct"
    assert abs(report.clock_offset - 300) <= 2
    assert "5 minutes behind HQ's" in report.warnings[0].en
    assert "5 menit lebih lambat dari jam HQ" in report.warnings[0].id


def test_the_command_line_tells_the_officer_in_both_languages(hq, session, tmp_path):
    hq.clock_shift = timedelta(hours=3)
    env = cli_env(tmp_path / "device", FIELDKIT_LANG="en")
    runner = CliRunner()
    synced = runner.invoke(sync_command, ["--once", "--json"], env=env)
    assert synced.exit_code == 0, synced.output
    report = json.loads(synced.stdout)
    assert report["clock_corrected"] is True
    assert abs(report["clock_offset_seconds"] - 3 * 3600) <= 2
    assert report["warnings"][0].startswith("This laptop's clock is 180 minutes")

    text = runner.invoke(sync_command, ["--once"], env={**env, "FIELDKIT_LANG": "id"})
    assert text.exit_code == 0, text.output
    assert "Jam laptop ini 180 menit (sekitar 3 jam) lebih lambat dari jam HQ" in text.stderr

    reference = runner.invoke(sync_command, ["reference", "--once", "--json"], env=env)
    assert reference.exit_code == 0, reference.output
    assert "180 minutes (about 3 hours) behind HQ's" in reference.stderr
    assert json.loads(reference.stdout)["version"] == 1, "the JSON on stdout stays clean"


OTHER = "0b9a8c7d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"  # a device id that is not the laptop's


def _forged(signed: dict) -> dict:
    return envelope.sign_document(signed["document"], Ed25519PrivateKey.generate())


@pytest.mark.parametrize("date", ["omit", "junk", "good", "far-future"])
@pytest.mark.parametrize("hq_time", ["missing", "forged", "another device", "another kind"])
def test_without_hqs_signed_time_the_officer_is_told_to_set_the_clock(hq, session, date, hq_time):
    hq.clock_shift = timedelta(hours=3)
    hq.date = date if date in ("omit", "junk") else None
    if date == "far-future":
        hq.date_shift = timedelta(days=400)  # a hostile proxy's Date
    hq.hq_time = {
        "missing": lambda signed: None,
        "forged": _forged,
        "another device": lambda signed: hq.signed({**signed["document"], "device_id": OTHER}),
        "another kind": lambda signed: hq.signed({**signed["document"], "kind": "checkpoint"}),
    }[hq_time]
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 1
    [refusal] = report.refused
    assert (refusal.problem.status, refusal.problem.slug) == (401, "clock-skew")
    assert "This laptop's clock is too far from HQ's" in refusal.message.en
    assert "Set the laptop's date and time" in refusal.message.en
    assert "Setel tanggal dan jam laptop" in refusal.message.id
    assert len(hq.signed_times) == 1, "nothing to correct with: not sent again"
    assert "/v1/batches" not in hq.requests and acked(session) == []
    assert not report.clock_corrected


def test_a_proxys_far_future_date_is_never_signed_with(hq, session):
    hq.clock_shift = timedelta(hours=3)  # the laptop is 3 hours behind
    hq.date_shift = timedelta(days=400)  # and the Date header says 400 days later still
    started = datetime.now(UTC)
    report = client(hq, session).sync(once=True, reference=True)
    assert report.exit_code == 0, report.as_json("en")
    assert report.clock_corrected and abs(report.clock_offset - 3 * 3600) <= 2, "HQ's signed time"
    assert len(hq.signed_times) == 3
    for _, at in hq.signed_times[1:]:
        assert _minutes_apart(at, started + timedelta(hours=3)) < 1, "HQ's time, not the Date's"


def test_a_replayed_old_signed_time_is_tried_once_only(hq, session):
    hq.clock_shift = timedelta(hours=3)
    client(hq, session).sync(once=True)  # HQ signs a time for this device, which is kept
    [old] = hq.hq_times
    hq.clock_shift = timedelta(hours=5)  # two hours later, the network replays that one
    hq.hq_time = lambda signed: old
    hq.signed_times.clear()
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 1
    assert [r.problem.slug for r in report.refused] == ["clock-skew"]
    assert "clock is too far from HQ's" in report.refused[0].message.en
    assert len(hq.signed_times) == 2, "re-signed with a time HQ refuses too, then stopped"
    (_, first), (_, second) = hq.signed_times
    assert datetime.fromisoformat(second) > datetime.fromisoformat(first), "behind HQ still"
    assert _minutes_apart(second, datetime.now(UTC) + timedelta(hours=5)) > 100


# -- refusals and outages -------------------------------------------------------------------------


def test_a_refused_batch_is_reported_and_the_others_still_go(hq, session):
    hq.faults.append(("/v1/batches", _problem(422, "malformed-body", "count does not match")))
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 1
    [refusal] = report.refused
    assert refusal.seq == 1 and refusal.problem.slug == "malformed-body"
    assert "count does not match" in refusal.message.en
    assert acked(session) == list(range(2, syncstate.summary(session.conn).batches + 1))
    assert syncstate.batch(session.conn, 1).last_error == "422 malformed-body"
    assert hq.requests.count("/v1/batches") == report.acked + 1, "the 422 was not retried"

    retried = client(hq, session).sync(once=True)
    assert retried.exit_code == 0 and retried.acked == 1


def test_a_revoked_device_stops_at_the_first_refusal(hq, session):
    hq.faults.append(("/v1/batches", _problem(403, "device-revoked", "reported stolen")))
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 1
    assert report.refused[0].message.en.startswith("This device was revoked at HQ: reported stolen")
    assert hq.requests.count("/v1/batches") == 1
    assert syncstate.summary(session.conn).batches == 1, "no further batches cut"


def test_outages_are_retried_within_one_sync_honouring_retry_after(hq, session):
    hq.faults += [
        ("/v1/devices/", (503, {"Retry-After": "3"}, b"")),
        ("/v1/batches", "drop"),
        ("/v1/batches", (502, {}, b"bad gateway")),
        ("/v1/batches", (429, {"Retry-After": "11"}, b"")),
    ]
    waits: list[float] = []
    report = client(hq, session, waits).sync(once=True)
    assert report.exit_code == 0, report.as_json("en")
    assert len(waits) == 4
    assert waits[0] >= 3 and waits[3] >= 11
    assert len(hq.receipts) == report.acked


def test_a_captive_portal_is_a_network_problem_not_a_forgery(hq, session):
    portal = (200, {"Content-Type": "text/html"}, b"<html>Login to Wi-Fi</html>")
    hq.faults.append(("/v1/devices/", portal))
    report = client(hq, session).sync(once=True)
    assert report.exit_code == 4
    assert "Wi-Fi" in report.network.en
    assert acked(session) == []


def test_a_sync_without_once_keeps_trying_until_hq_answers(hq, session):
    hq.faults += [("/v1/batches", (503, {}, b""))] * 12
    waits: list[float] = []
    report = client(hq, session, waits).sync(once=False)
    assert report.exit_code == 0
    assert len(waits) == 12, "more tries than --once allows"


# -- the connectivity monitor ---------------------------------------------------------------------


def test_the_connectivity_monitor_reports_changes_and_can_be_woken(hq):
    changes: list[bool] = []
    changed = threading.Event()

    def on_change(online: bool) -> None:
        changes.append(online)
        changed.set()

    hq.health = 503
    monitor = ConnectivityMonitor(
        hq.url, on_change=on_change, min_interval=30, max_interval=60, online_interval=60
    ).start()
    try:
        assert changed.wait(5)
        assert changes == [False] and not monitor.is_online
        changed.clear()
        hq.health = 200
        started = time.monotonic()
        monitor.wake()
        assert monitor.wait_online(5)
        assert time.monotonic() - started < 5, "woken at once, not after the 30 s pause"
        assert changed.wait(5)
        assert changes == [False, True]
        checks = monitor.checks
        time.sleep(0.3)
        assert monitor.checks == checks, "no busy polling between checks"
    finally:
        started = time.monotonic()
        monitor.stop()
        assert time.monotonic() - started < 5


def test_the_monitor_backs_off_from_5_seconds_to_5_minutes():
    monitor = ConnectivityMonitor("http://127.0.0.1:9", random=lambda: 1.0)
    pauses = []
    for _ in range(10):
        monitor.failures += 1
        pauses.append(monitor.next_pause())
    assert pauses == [5, 10, 20, 40, 80, 160, 300, 300, 300, 300]
    monitor.failures = 3
    monitor.random = lambda: 0.0
    assert monitor.next_pause() == 10, "jitter never shortens a pause below half"
