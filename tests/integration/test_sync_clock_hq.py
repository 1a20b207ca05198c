"""A laptop whose clock is hours off syncs with the real HQ (``fieldkit-hq serve``).

HQ refuses device-signed requests more than 10 minutes from its clock (``401 clock-skew``),
and tells an enrolled device its time signed with HQ's signing key (``hq_time``); the client
takes HQ's time from that (never from the unauthenticated ``Date`` header), signs the refused
request again and keeps the offset for the run. The laptop's signing clock is injected
(``SyncClient(clock=...)``), so nothing else in the process sees a shifted time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fieldkit.vault import syncstate
from sync.device.client import SyncClient
from sync.device.signed import read_hq_time
from sync.wire.requests import REFERENCE_PATH, checkpoint_path, request_headers
from tests.support.checks import assert_hq_holds_exactly
from tests.support.hq import Server
from tests.support.vault import enrolled_vault

SHIFT = timedelta(hours=3)


@pytest.fixture(scope="module")
def server(hq_server):
    return hq_server


def new_device(home, server: Server, applicants: int):
    return enrolled_vault(home, server.url, server.enroll_code(), applicants)


def ahead() -> datetime:
    """The laptop's clock: three hours ahead of the real time (and of HQ's)."""
    return datetime.now(UTC) + SHIFT


def test_a_laptop_clock_three_hours_ahead_syncs_every_batch_exactly_once(server, tmp_path):
    session = new_device(tmp_path / "device", server, 600)
    device = session.vault.device_id

    report = SyncClient(server.url, session, sleep=lambda _: None, clock=ahead).sync(
        once=True, reference=True
    )
    assert report.exit_code == 0 and report.complete, report.as_json("en")
    assert report.acked == report.cut >= 2
    assert report.reference is not None and report.reference.version is not None, "signed too"
    assert report.clock_corrected
    assert abs(report.clock_offset + SHIFT.total_seconds()) <= 5, report.clock_offset
    assert "180 minutes (about 3 hours) ahead of HQ's" in report.warnings[0].en
    assert "180 menit (sekitar 3 jam) lebih cepat dari jam HQ" in report.warnings[0].id
    assert_hq_holds_exactly(server, session)
    refusals = "SELECT problem FROM rejections WHERE device_id = :d ORDER BY id"
    assert server.hq.scalar("SELECT count(*) FROM rejections WHERE device_id = :d", d=device) == 1
    assert server.hq.scalar(refusals, d=device) == "clock-skew", "only the first checkpoint"

    # A new run measures again, and sends only what is new (the audit entry of the reference
    # data applied), never a batch HQ holds.
    again = SyncClient(server.url, session, sleep=lambda _: None, clock=ahead).sync(once=True)
    assert again.exit_code == 0 and again.complete, again.as_json("en")
    assert again.acked == again.cut and again.duplicates == 0
    assert again.clock_corrected
    assert_hq_holds_exactly(server, session)
    skewed = "SELECT count(*) FROM rejections WHERE device_id = :d AND problem = 'clock-skew'"
    assert server.hq.scalar(skewed, d=device) == 2, "one refused checkpoint per run"
    assert server.hq.scalar("SELECT count(*) FROM rejections WHERE device_id = :d", d=device) == 2

    # The vault's own times are the laptop's real ones, never HQ's or the shifted clock's.
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    stamped = session.conn.execute(
        "SELECT created_at, acked_at FROM sync_batches UNION ALL SELECT at, at FROM audit"
    ).fetchall()
    assert stamped and all(a < later and b < later for a, b in stamped)


def _skewed(
    server, key: Ed25519PrivateKey, device_id: str, path: str, signed_path: str | None = None
) -> requests.Response:
    """A request to ``path`` signed by ``key`` for ``device_id`` (over ``signed_path`` if
    given), three hours ahead."""
    at = ahead().isoformat(timespec="microseconds")
    headers = request_headers(key, device_id, path=signed_path or path, at=at)
    return requests.get(server.url + path, headers=headers, timeout=10)


@pytest.mark.parametrize("endpoint", ["checkpoint", "reference"])
def test_the_clock_skew_answer_carries_hqs_signed_time_for_an_enrolled_device(
    server, tmp_path, endpoint
):
    session = new_device(tmp_path / "device", server, 1)
    device = session.vault.device_id
    path = checkpoint_path(device) if endpoint == "checkpoint" else REFERENCE_PATH
    pinned = syncstate.enrollment(session.vault)
    before = datetime.now(UTC)
    response = _skewed(server, session.device_signing_key(), device, path)
    after = datetime.now(UTC)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.headers["Cache-Control"] == "no-store"
    problem = response.json()
    assert problem["type"] == "/problems/clock-skew"
    signed = problem["hq_time"]
    assert set(signed) == {"document", "sig"}
    assert set(signed["document"]) == {"v", "kind", "device_id", "at", "hq_signing_kid"}
    at = read_hq_time(signed, pinned, device)
    assert at is not None and before - timedelta(seconds=1) <= at <= after + timedelta(seconds=1)
    assert datetime.fromisoformat(signed["document"]["at"]).utcoffset() == timedelta(0)
    assert read_hq_time(signed, pinned, "0b9a8c7d-1e2f-4a3b-8c4d-5e6f7a8b9c0d") is None


def test_no_signed_time_for_an_unknown_device_or_a_signature_not_the_devices(server, tmp_path):
    stranger = "0b9a8c7d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"
    session = new_device(tmp_path / "device", server, 1)
    device = session.vault.device_id
    impostor = Ed25519PrivateKey.generate()
    own = session.device_signing_key()
    for key, device_id, path, signed_path in (
        (impostor, stranger, REFERENCE_PATH, None),
        (impostor, stranger, checkpoint_path(stranger), None),
        (impostor, device, REFERENCE_PATH, None),  # an enrolled device's id, not its key
        (impostor, device, checkpoint_path(device), None),
        (own, device, checkpoint_path(device), REFERENCE_PATH),  # signed for another endpoint
        (own, device, REFERENCE_PATH, checkpoint_path(device)),
    ):
        response = _skewed(server, key, device_id, path, signed_path)
        assert response.status_code == 401, (device_id, path)
        problem = response.json()
        assert problem["type"] == "/problems/clock-skew" and "hq_time" not in problem
