"""A laptop whose clock is hours off syncs with the real HQ (``fieldkit-hq serve``).

HQ refuses device-signed requests more than 10 minutes from its clock (``401 clock-skew``);
the client takes HQ's time from the answer's ``Date`` header, signs the refused request again
and keeps the offset for the run. The laptop's signing clock is injected (``SyncClient(clock=
...)``), so nothing else in the process sees a shifted time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.client import SyncClient
from tests.integration.test_sync_end_to_end import (
    assert_hq_holds_exactly,
    new_device,
    running_hq,
)

SHIFT = timedelta(hours=3)


@pytest.fixture(scope="module")
def hq(tmp_path_factory):
    with running_hq(tmp_path_factory.mktemp("hq")) as running:
        yield running


def ahead() -> datetime:
    """The laptop's clock: three hours ahead of the real time (and of HQ's)."""
    return datetime.now(UTC) + SHIFT


def test_a_laptop_clock_three_hours_ahead_syncs_every_batch_exactly_once(hq, tmp_path):
    session = new_device(tmp_path / "device", hq, 600)
    device = session.vault.device_id

    report = SyncClient(hq.url, session, sleep=lambda _: None, clock=ahead).sync(
        once=True, reference=True
    )
    assert report.exit_code == 0 and report.complete, report.as_json("en")
    assert report.acked == report.cut >= 2
    assert report.reference is not None and report.reference.version is not None, "signed too"
    assert report.clock_corrected
    assert abs(report.clock_offset + SHIFT.total_seconds()) <= 5, report.clock_offset
    assert "180 minutes (about 3 hours) ahead of HQ's" in report.warnings[0].en
    assert "180 menit (sekitar 3 jam) lebih cepat dari jam HQ" in report.warnings[0].id
    assert_hq_holds_exactly(hq, session)
    refusals = "SELECT problem FROM rejections WHERE device_id = :d ORDER BY id"
    assert hq.scalar("SELECT count(*) FROM rejections WHERE device_id = :d", d=device) == 1
    assert hq.scalar(refusals, d=device) == "clock-skew", "only the first checkpoint"

    # A new run measures again, and sends only what is new (the audit entry of the reference
    # data applied), never a batch HQ holds.
    again = SyncClient(hq.url, session, sleep=lambda _: None, clock=ahead).sync(once=True)
    assert again.exit_code == 0 and again.complete, again.as_json("en")
    assert again.acked == again.cut and again.duplicates == 0
    assert again.clock_corrected
    assert_hq_holds_exactly(hq, session)
    skewed = "SELECT count(*) FROM rejections WHERE device_id = :d AND problem = 'clock-skew'"
    assert hq.scalar(skewed, d=device) == 2, "one refused checkpoint per run"
    assert hq.scalar("SELECT count(*) FROM rejections WHERE device_id = :d", d=device) == 2

    # The vault's own times are the laptop's real ones, never HQ's or the shifted clock's.
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    stamped = session.conn.execute(
        "SELECT created_at, acked_at FROM sync_batches UNION ALL SELECT at, at FROM audit"
    ).fetchall()
    assert stamped and all(a < later and b < later for a, b in stamped)
